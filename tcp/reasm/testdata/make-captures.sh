#!/usr/bin/env bash
# Regenerates the real captures in this directory: the Linux TCP stack in
# network namespaces (lab addresses only), captured with tcpdump, under
# path loss (iptables -m statistic drops), reordering (reorder.py, a
# userspace bridge: this kernel has no netem), keep-alives and a zero
# window. The traffic is traffic.py's, whose bytes lab_test.go predicts.
# Needs root; bounded in time; cleans up after itself, also on failure.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make-captures.sh: needs root (network namespaces)" >&2; exit 2; }

C=wsraC$$ M=wsraM$$ S=wsraS$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "$C" "$M" "$S"; do ip netns del "$n" 2>/dev/null || true; done
	pids=()
}
trap cleanup EXIT INT TERM
nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
bgin() { local n=$1; shift; ip netns exec "$n" "$@" & pids+=($!); }
plain() { # no offloads: frames are what the stack segmented
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
	ip -n "$1" link set "$2" up
}
T="python3 $PWD/traffic.py"

# topology routed|bridged: client C and server S, joined through M, which
# routes (kernel forwarding, where iptables can drop) or bridges through
# reorder.py. The servers listen on 9000, and on 9001 with a 4 KiB receive
# buffer and a 5 s stall before reading.
topology() {
	for n in "$C" "$M" "$S"; do ip netns add "$n"; ip -n "$n" link set lo up; done
	ip link add c0 netns "$C" type veth peer name mc netns "$M"
	ip link add s0 netns "$S" type veth peer name ms netns "$M"
	plain "$C" c0; plain "$M" mc; plain "$M" ms; plain "$S" s0
	if [ "$1" = routed ]; then
		ip -n "$C" addr add 10.88.1.1/24 dev c0; ip -n "$C" route add default via 10.88.1.254
		ip -n "$M" addr add 10.88.1.254/24 dev mc; ip -n "$M" addr add 10.88.2.254/24 dev ms
		ip -n "$S" addr add 10.88.2.1/24 dev s0; ip -n "$S" route add default via 10.88.2.254
		nsx "$M" sysctl -qw net.ipv4.ip_forward=1
		server=10.88.2.1
	else
		ip -n "$C" addr add 10.88.0.1/24 dev c0
		ip -n "$S" addr add 10.88.0.2/24 dev s0
		server=10.88.0.2
	fi
	bgin "$S" timeout 60 $T server "$server" 9000
	bgin "$S" timeout 60 $T server "$server" 9001 --rcvbuf 4096 --stall 5
	for _ in $(seq 50); do
		[ "$(nsx "$S" ss -Hltn 'sport = :9000 or sport = :9001' | wc -l)" = 2 ] && return
		sleep 0.1
	done
	echo "make-captures.sh: servers did not start" >&2
	exit 1
}

# scenario NAME routed DROP_PROB|bridged REORDER_PROB  PORT CLIENT_SCRIPT...
# Captures at both ends: NAME-client.pcap and NAME-server.pcap.
scenario() {
	local name=$1 kind=$2 prob=$3; shift 3
	topology "$kind"
	if [ "$kind" = routed ]; then
		nsx "$M" iptables -A FORWARD -p tcp -m statistic --mode random --probability "$prob" -j DROP
	else
		bgin "$M" timeout 60 python3 "$PWD/reorder.py" mc ms "$prob" 7 60
	fi
	bgin "$C" tcpdump -s 0 -U -i c0 -w "$name-client.pcap" tcp
	bgin "$S" tcpdump -s 0 -U -i s0 -w "$name-server.pcap" tcp
	sleep 1
	nsx "$C" timeout 60 $T client "$server" "$@"
	sleep 1
	cleanup
}

# Path loss, 4% of TCP packets each way, in the router between the two
# capture points: the sender's capture has every copy, the receiver's has
# holes that retransmissions fill.
scenario lab-loss routed 0.04 9000 get:120000:a put:60000:b get:30000:c close new get:20000:d
# Reordering: 8% of frames swap places with the next.
scenario lab-reorder bridged 0.08 9000 get:120000:r put:60000:s close
# Keep-alives on an idle connection, then a server that does not read for
# five seconds: its 4 KiB window fills, the client probes it.
scenario lab-keepalive bridged 0 9001 keepalive idle:3.5 put:100000:z get:2000:y

trap - EXIT INT TERM
rm -f lab-keepalive-server.pcap

# Capture loss: every 9th frame carrying data deleted from a clean capture,
# as a capture whose buffer overflowed; the receiver had them (its ACKs say
# so) and nothing retransmits them.
frames=$(tshark -r lab-reorder-server.pcap -Y 'tcp.len > 0' -T fields -e frame.number 2>/dev/null | awk 'NR % 9 == 0')
editcap lab-reorder-server.pcap lab-capture-loss.pcap $frames
ls -l ./*.pcap
