#!/usr/bin/env bash
# Makes ftp.pcap: curl against the scripted FTP server of server.py (PASV,
# EPSV, PORT, EPRT, errors, multi-line replies) and a GridFTP-like exchange
# on 2811 including a 421 idle timeout, on the loopback of a private network
# namespace. Run as root from this directory; needs python3, curl, tcpdump.
set -euo pipefail
ns=wsappa-ftp
ip netns add $ns
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; ip netns del $ns; }
trap cleanup EXIT
run() { ip netns exec $ns "$@"; }
run ip link set lo up
ip netns exec $ns tcpdump -i lo -U -s 0 -w ftp.pcap tcp 2>/dev/null &
pids+=($!)
sleep 1
ip netns exec $ns python3 server.py </dev/null >/dev/null &
pids+=($!)
for port in 21 2811; do
	run python3 -c "import socket,time
for i in range(100):
    try: socket.create_connection(('127.0.0.1',$port)).close(); break
    except OSError: time.sleep(0.1)"
done
c() { run curl -sS "$@" >/dev/null || true; }
c ftp://127.0.0.1/hello.txt                      # EPSV
c --disable-epsv ftp://127.0.0.1/                # PASV, LIST
c -P 127.0.0.1 ftp://127.0.0.1/hello.txt         # EPRT
c -P 127.0.0.1 --disable-eprt ftp://127.0.0.1/hello.txt   # PORT
c ftp://127.0.0.1/missing.txt                    # 550
run python3 gridclient.py ok
run python3 gridclient.py idle 2>/dev/null
sleep 1
