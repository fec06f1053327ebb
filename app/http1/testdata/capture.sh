#!/usr/bin/env bash
# Makes http.pcap: real HTTP/1 traffic between curl (and a pipelining client)
# and the servers in server.py, on the loopback of a private network
# namespace. Run as root from this directory; needs python3, curl, tcpdump,
# ethtool.
set -euo pipefail
ns=wsappa-http
ip netns add $ns
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; ip netns del $ns; }
trap cleanup EXIT
run() { ip netns exec $ns "$@"; }
run ip link set lo up mtu 600 # small segments: heads and bodies span several
run ethtool -K lo tso off gso off  # so that the capture sees them as sent
ip netns exec $ns tcpdump -i lo -U -s 0 -w http.pcap tcp 2>/dev/null &
pids+=($!)
sleep 1
ip netns exec $ns python3 server.py </dev/null >/dev/null &
pids+=($!)
sleep 1
c() { run curl -sS "$@" >/dev/null; }
# keep-alive asked and used: two requests on one connection (HTTP/1.1 server)
c http://127.0.0.1:8080/len/a http://127.0.0.1:8080/chunked
# keep-alive asked, refused: HTTP/1.0 server closes after each response
c http://127.0.0.1:8081/len/b http://127.0.0.1:8081/len/c
# client asks to close
c -H 'Connection: close' http://127.0.0.1:8080/missing
# HTTP/1.0 client
c --http1.0 http://127.0.0.1:8080/len/d
# HEAD, then 204, 304, 503 on one connection
c -I http://127.0.0.1:8080/len/e
c http://127.0.0.1:8080/nocontent http://127.0.0.1:8080/notmodified http://127.0.0.1:8080/fail
# POST with Expect: 100-continue
c -H 'Expect: 100-continue' --data-binary 'some posted body' http://127.0.0.1:8080/post
# close-delimited responses: python's own, and a raw server
c http://127.0.0.1:8080/close
c http://127.0.0.1:8082/raw
# pipelined requests written at once
run python3 pipeline.py 8080
sleep 1
