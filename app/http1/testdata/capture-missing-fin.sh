#!/usr/bin/env bash
# Makes missing-fin.pcap: curl gets a close-delimited response whose FIN is
# dropped (iptables in a private network namespace), waits, and gives up
# after 2 seconds, as PHP did in the OpenStack story. Run as root from this
# directory; needs python3, curl, iptables, tcpdump.
set -euo pipefail
ns=wsappa-fin
ip netns add $ns
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; ip netns del $ns; }
trap cleanup EXIT
run() { ip netns exec $ns "$@"; }
run ip link set lo up
# Drop the server's FIN before it reaches the loopback (and the capture).
run iptables -A OUTPUT -p tcp --sport 8083 --tcp-flags FIN FIN -j DROP
ip netns exec $ns tcpdump -i lo -U -s 0 -w missing-fin.pcap tcp port 8083 2>/dev/null &
pids+=($!)
ip netns exec $ns python3 missingfin.py &
pids+=($!)
run python3 -c "import socket,time
for i in range(100):
    try: socket.create_connection(('127.0.0.1',8083)).close(); break
    except OSError: time.sleep(0.1)"
sleep 0.5
run curl -sS -m 2 http://127.0.0.1:8083/fin >/dev/null || true
sleep 1
