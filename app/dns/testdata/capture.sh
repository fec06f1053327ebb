#!/usr/bin/env bash
# Makes dns.pcap: the scripted client of dnslab.py against its responder
# (answers, CNAME, AAAA, NXDOMAIN, SERVFAIL, REFUSED, a truncated answer
# retried over TCP, pipelined TCP queries, a dropped query) and against a
# server that never answers, on the loopback of a private network namespace.
# Run as root from this directory; needs python3, tcpdump and ethtool.
set -euo pipefail
ns=wsappa-dns
ip netns add $ns
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; ip netns del $ns; }
trap cleanup EXIT
run() { ip netns exec $ns "$@"; }
run ip link set lo up mtu 600 # small segments: records and messages span several
run ethtool -K lo tso off gso off  # so that the capture sees them as sent
ip netns exec $ns tcpdump -i lo -U -s 0 -w dns.pcap port 53 2>/dev/null &
pids+=($!)
sleep 1
ip netns exec $ns python3 dnslab.py server 127.0.0.53 &
pids+=($!)
ip netns exec $ns python3 dnslab.py silent 127.0.0.54 &
pids+=($!)
sleep 1
run python3 dnslab.py client 127.0.0.53 127.0.0.54
sleep 1
