#!/usr/bin/env bash
# Makes the real-stack captures the stall and closing detector tests use for
# what the lab's examples do not cover: a transfer that stalls mid-way, and
# look-alikes that must not be called stalls or missing FINs (a receiver
# that stops reading: zero window and persist probes; an idle keep-alive
# connection with TCP keep-alive probes; a client that resets as soon as
# its response is complete).
#
# Run as root from anywhere: detect/stall/testdata/make-captures.sh
# It builds three network namespaces (client — router — server, lab
# addresses 10.99.0.0/24 and 10.99.1.0/24), runs each case with tcpdump on
# the client, both router interfaces and the server, and removes everything
# on exit. Every process it starts is bounded by timeout(1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "make-captures: needs root" >&2; exit 2; }

ws=$(mktemp -d)/wiresleuth
(cd "$root" && go build -o "$ws" ./cmd/wiresleuth)
id=wsst$$
C=$id-c R=$id-r S=$id-s
teardown() {
	for n in $C $R $S; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
		ip netns del "$n" 2>/dev/null || true
	done
}
trap 'teardown; rm -rf "$(dirname "$ws")"' EXIT

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

# build makes the three namespaces, links, addresses and routes.
build() {
	for n in $C $R $S; do
		ip netns add "$n"
		nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		nsx "$n" ip link set lo up
	done
	ip link add c0 netns $C type veth peer name in0 netns $R
	ip link add out0 netns $R type veth peer name s0 netns $S
	nsx $C "$ws" lab agent offload c0 >/dev/null
	nsx $R "$ws" lab agent offload in0 out0 >/dev/null
	nsx $S "$ws" lab agent offload s0 >/dev/null
	nsx $C ip addr add 10.99.0.2/24 dev c0
	nsx $R ip addr add 10.99.0.1/24 dev in0
	nsx $R ip addr add 10.99.1.1/24 dev out0
	nsx $S ip addr add 10.99.1.2/24 dev s0
	nsx $C ip link set c0 up
	nsx $R ip link set in0 up
	nsx $R ip link set out0 up
	nsx $S ip link set s0 up
	nsx $C ip route add default via 10.99.0.1
	nsx $S ip route add default via 10.99.1.1
	nsx $R sysctl -qw net.ipv4.ip_forward=1
	sleep 1
}

# capture NAME SNAPLEN CMD...: runs CMD in fresh namespaces with tcpdump
# at the four vantage points, then writes testdata/NAME/0N-VANTAGE.pcap.
capture() {
	local name=$1 snap=$2; shift 2
	build
	local dir="$here/$name"
	rm -rf "$dir"; mkdir -p "$dir"
	local pids=()
	timeout 60 ip netns exec $C tcpdump -i c0 -s "$snap" -U --immediate-mode -n -w "$dir/01-client.pcap" 2>/dev/null & pids+=($!)
	timeout 60 ip netns exec $R tcpdump -i in0 -s "$snap" -U --immediate-mode -n -w "$dir/02-router-in.pcap" 2>/dev/null & pids+=($!)
	timeout 60 ip netns exec $R tcpdump -i out0 -s "$snap" -U --immediate-mode -n -w "$dir/03-router-out.pcap" 2>/dev/null & pids+=($!)
	timeout 60 ip netns exec $S tcpdump -i s0 -s "$snap" -U --immediate-mode -n -w "$dir/04-server.pcap" 2>/dev/null & pids+=($!)
	sleep 1
	"$@" || true
	# Freeze: nothing more leaves any node, then let tcpdump drain.
	for n in $C $R $S; do nsx "$n" iptables -I OUTPUT 1 -j DROP; done
	sleep 1
	kill -INT "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	teardown
	# Files over 64 KiB are kept gzip-compressed, as in examples/.
	for f in "$dir"/*.pcap; do
		[ "$(stat -c %s "$f")" -gt 65536 ] && gzip -n9 "$f"
	done
	chown -R --reference="$here" "$dir"
	echo "$name:" $(ls "$dir")
}

# stall-midstream: after 40 KB of a 300 KB download the router starts
# dropping the server's data (connbytes), retransmissions included. The
# client gives up after 6 s and closes; the server backs off.
midstream() {
	nsx $R iptables -A FORWARD -i out0 -p tcp --sport 5001 -m connbytes --connbytes 40000: --connbytes-dir reply --connbytes-mode bytes -j DROP
	timeout 20 ip netns exec $S "$ws" lab agent bulk-send -listen :5001 -size 300000 -lifetime 15s >/dev/null &
	local srv=$!
	sleep 0.5
	timeout 20 ip netns exec $C "$ws" lab agent bulk-recv -server 10.99.1.2:5001 -sport 40001 -want 300000 -timeout 6s -lifetime 15s || true
	sleep 2
	kill $srv 2>/dev/null || true
}
capture stall-midstream 0 midstream

# zero-window: the client reads 20 KB of a 2 MB download with a 16 KB
# receive buffer, stops reading for 4 s (the server's window probes go
# unanswered by data), then closes with unread data (RST).
zerowindow() {
	timeout 20 ip netns exec $S "$ws" lab agent bulk-send -listen :5001 -size 2000000 -lifetime 15s >/dev/null &
	local srv=$!
	sleep 0.5
	timeout 20 ip netns exec $C python3 - <<-'EOF'
		import socket, time
		s = socket.socket()
		s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
		s.bind(("10.99.0.2", 40002))
		s.connect(("10.99.1.2", 5001))
		got = 0
		while got < 20000:
		    got += len(s.recv(4096))
		time.sleep(4)
		s.close()
	EOF
	sleep 2
	kill $srv 2>/dev/null || true
}
capture zero-window 128 zerowindow

# keepalive-idle: one HTTP/1.1 request on a keep-alive connection, then 5 s
# of silence with TCP keep-alive probes every second, then the client
# closes; the server closes its side in answer.
keepaliveidle() {
	timeout 20 ip netns exec $S "$ws" lab agent http-server -listen :80 -keepalive=true -idle 30s -lifetime 15s >/dev/null &
	local srv=$!
	sleep 0.5
	timeout 20 ip netns exec $C python3 - <<-'EOF'
		import socket, time
		s = socket.socket()
		s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
		s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
		s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
		s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 9)
		s.bind(("10.99.0.2", 40003))
		s.connect(("10.99.1.2", 80))
		s.sendall(b"GET /bytes/500 HTTP/1.1\r\nHost: 10.99.1.2\r\n\r\n")
		buf = b""
		while b"\r\n\r\n" not in buf:
		    buf += s.recv(4096)
		head, body = buf.split(b"\r\n\r\n", 1)
		n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
		while len(body) < n:
		    body += s.recv(4096)
		time.sleep(5)
		s.close()
		time.sleep(0.5)
	EOF
	sleep 1
	kill $srv 2>/dev/null || true
}
capture keepalive-idle 0 keepaliveidle

# reset-after-response: three requests with Connection: close; the client
# resets (SO_LINGER 0) as soon as the body is complete, racing the
# server's FIN.
resetafter() {
	timeout 20 ip netns exec $S "$ws" lab agent http-server -listen :80 -keepalive=true -lifetime 15s >/dev/null &
	local srv=$!
	sleep 0.5
	timeout 20 ip netns exec $C python3 - <<-'EOF'
		import socket, struct
		for i in range(3):
		    s = socket.socket()
		    s.bind(("10.99.0.2", 40010 + i))
		    s.connect(("10.99.1.2", 80))
		    s.sendall(b"GET /bytes/3000 HTTP/1.1\r\nHost: 10.99.1.2\r\nConnection: close\r\n\r\n")
		    buf = b""
		    while b"\r\n\r\n" not in buf:
		        buf += s.recv(4096)
		    head, body = buf.split(b"\r\n\r\n", 1)
		    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
		    while len(body) < n:
		        body += s.recv(4096)
		    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
		    s.close()
	EOF
	sleep 1
	kill $srv 2>/dev/null || true
}
capture reset-after-response 0 resetafter
