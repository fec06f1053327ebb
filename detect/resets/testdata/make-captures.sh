#!/usr/bin/env bash
# Makes the real-stack captures detect/resets tests on, besides the lab
# examples: the Linux TCP stack in network namespaces (lab addresses
# 10.99.0.0/16 only), captured with tcpdump at every interface of the path.
#
#   listen-overflow/  client — router — server. The server listens with a
#       backlog of 4 (its accept queue holds 5) and does not accept for
#       4 s; 3 connections wait in the queue, then 4 more start at once.
#       The link to the server is slow, so their SYNs all arrive first and
#       are taken, but the final ACKs of the last ones find the queue full
#       and are dropped
#       (net.ipv4.tcp_abort_on_overflow=0), so the server repeats its
#       SYN-ACK; the router drops SYN-ACKs of connections it has already
#       seen one for (a stateful firewall), so the repeats never reach the
#       client, whose request waits until the server accepts (the GridFTP
#       story).
#   timewait-assassination/  client — server. The client uploads 4 MB, the
#       server answers and closes first (TIME_WAIT); the client, without TCP
#       timestamps, connects again at once from the same port. Linux's ISN
#       clock (one per 64 ns) has advanced far less than 4 MB since the old
#       connection's ISN, so the SYN is below the old RCV.NXT: the server
#       answers with the old connection's ACK, the client's SYN-SENT socket
#       answers that with a RST which kills the TIME_WAIT, and its SYN retry
#       a second later gets a SYN-ACK.
#
# Needs root; bounded in time; removes its namespaces also on failure.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make-captures.sh: needs root (network namespaces)" >&2; exit 2; }

C=wsrC$$ R=wsrR$$ S=wsrS$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "$C" "$R" "$S"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

plain() { # NS DEV: no offloads, so frames on the wire are complete
	ip netns exec "$1" ethtool -K "$2" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
	ip -n "$1" link set "$2" up
}
dump() { # NS DEV FILE
	ip netns exec "$1" timeout 30 tcpdump -i "$2" -s 200 -U -n -w "$3" tcp 2>/dev/null &
	pids+=($!)
}
stopdumps() {
	sleep 0.5
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=()
}
netns() {
	for n in "$@"; do
		ip netns add "$n"
		ip -n "$n" link set lo up
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
}

# --- listen-overflow ---------------------------------------------------
out=listen-overflow
rm -rf "$out" && mkdir -p "$out"
netns "$C" "$R" "$S"
ip link add eth0 netns "$C" type veth peer name in0 netns "$R"
ip link add out0 netns "$R" type veth peer name eth0 netns "$S"
ip -n "$C" addr add 10.99.0.2/24 dev eth0
ip -n "$R" addr add 10.99.0.1/24 dev in0
ip -n "$R" addr add 10.99.1.1/24 dev out0
ip -n "$S" addr add 10.99.1.2/24 dev eth0
plain "$C" eth0; plain "$R" in0; plain "$R" out0; plain "$S" eth0
ip -n "$C" route add default via 10.99.0.1
ip -n "$S" route add default via 10.99.1.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
# A slow link towards the server (16 kbit/s): the SYNs of a burst all reach
# the server before the first ACK does, as on a real WAN.
ip netns exec "$R" tc qdisc add dev out0 root tbf rate 16kbit burst 200 latency 5s
# A stateful firewall: a second SYN-ACK of a connection is dropped.
ip netns exec "$R" iptables -A FORWARD -p tcp --tcp-flags SYN,ACK SYN,ACK -m connmark --mark 1 -j DROP
ip netns exec "$R" iptables -A FORWARD -p tcp --tcp-flags SYN,ACK SYN,ACK -j CONNMARK --set-mark 1
dump "$C" eth0 "$out/01-client.pcap"
dump "$R" in0 "$out/02-router-in.pcap"
dump "$R" out0 "$out/03-router-out.pcap"
dump "$S" eth0 "$out/04-server.pcap"
sleep 1
ip netns exec "$S" timeout 20 python3 - <<'EOF' &
import socket, time, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.1.2", 2811))
s.listen(4)
time.sleep(4)  # a slow accept loop
def serve(c):
    c.settimeout(10)
    try:
        c.sendall(b"220 ready\r\n")
        if c.recv(100):
            c.sendall(b"334 ADAT=ok\r\n")
    finally:
        c.close()
s.settimeout(8)
try:
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,)).start()
except socket.timeout:
    pass
EOF
pids+=($!)
sleep 0.5
ip netns exec "$C" timeout 20 python3 - <<'EOF'
import socket, selectors, time
def talk(s):
    s.settimeout(12)
    s.recv(100)
    s.sendall(b"AUTH GSSAPI\r\n")
    s.recv(100)
    s.close()
first = []
for port in range(40001, 40004):  # nearly fill the accept queue (it holds 5)
    s = socket.socket()
    s.bind(("10.99.0.2", port))
    s.connect(("10.99.1.2", 2811))
    first.append(s)
    time.sleep(0.02)
time.sleep(0.1)
burst = []
for port in range(40004, 40008):  # four at once
    s = socket.socket()
    s.bind(("10.99.0.2", port))
    s.setblocking(False)
    burst.append(s)
for s in burst:
    s.connect_ex(("10.99.1.2", 2811))
for s in burst:
    s.setblocking(True)
    s.settimeout(12)
    s.send(b"USER anonymous\r\n")  # sent as soon as the client is established
for s in first + burst:
    try:
        talk(s)
    except OSError as e:
        print("client:", e)
EOF
sleep 1
stopdumps
ip netns del "$C"; ip netns del "$R"; ip netns del "$S"

# --- timewait-assassination --------------------------------------------
out=timewait-assassination
rm -rf "$out" && mkdir -p "$out"
netns "$C" "$S"
ip link add eth0 netns "$C" mtu 9000 type veth peer name eth0 netns "$S" mtu 9000
ip -n "$C" addr add 10.99.0.2/24 dev eth0
ip -n "$S" addr add 10.99.0.3/24 dev eth0
plain "$C" eth0; plain "$S" eth0
ip netns exec "$C" sysctl -qw net.ipv4.tcp_timestamps=0
dump "$C" eth0 "$out/01-client.pcap"
dump "$S" eth0 "$out/02-server.pcap"
sleep 1
ip netns exec "$S" timeout 20 python3 - <<'EOF' &
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.3", 80))
s.listen(8)
s.settimeout(10)
for _ in range(2):
    c, _ = s.accept()
    n = 0
    while n < 4 << 20:  # a 4 MB upload
        b = c.recv(1 << 16)
        if not b:
            break
        n += len(b)
    c.sendall(b"stored\r\n")
    c.close()  # the server closes first: it holds TIME_WAIT
EOF
pids+=($!)
sleep 0.5
ip netns exec "$C" timeout 20 python3 - <<'EOF'
import socket, time
for i in range(2):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.99.0.2", 40001))
    t = time.time()
    s.connect(("10.99.0.3", 80))
    print("client: connect %d took %.3f s" % (i + 1, time.time() - t))
    s.sendall(b"x" * (4 << 20))
    while s.recv(100):
        pass
    s.close()
EOF
sleep 1
stopdumps
for f in */*.pcap; do
	[ "$(stat -c %s "$f")" -gt 65536 ] && gzip -9f "$f"
done
ls -l */
