#!/usr/bin/env bash
# Regenerates the real-traffic captures of this directory (root only):
# rpcbind runs in a network namespace of its own, rpcinfo and rpcpeer talk
# to it over that namespace's loopback, tcpdump records.
#   rpcinfo.pcap  rpcinfo -p (a DUMP reply of 4 KB), -T tcp, -T udp, a version rpcbind lacks
#                 (PROG_MISMATCH) and a program it lacks (not registered)
#   rpcpeer.pcap  every accept/reject status from rpcbind, pipelined calls,
#                 a three-fragment call, a DUMP reply of two fragments over ten
#                 segments (MTU 1280), a retransmitted UDP call, and calls
#                 to a server that never answers
set -euo pipefail
if pgrep -x rpcbind >/dev/null; then echo "an rpcbind is running: it holds /run/rpcbind.lock" >&2; exit 1; fi
cd "$(dirname "$0")"
ns=wsrpc$$
dir=$(mktemp -d)
cleanup() {
	[ -f "$dir/td.pid" ] && kill "$(cat "$dir/td.pid")" 2>/dev/null || true
	if [ -f "$dir/rb.pid" ]; then
		kill "$(cat "$dir/rb.pid")" 2>/dev/null || true
		wait "$(cat "$dir/rb.pid")" 2>/dev/null || true
		rm -f /run/rpcbind/portmap.xdr /run/rpcbind/rpcbind.xdr # saved at exit
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo mtu 1280 up
# Segments of at most one MTU, as on a wire: no segmentation offload on lo.
ip netns exec "$ns" ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
nsx() { ip netns exec "$ns" "$@"; }
# -i: SET from rpcpeer's unprivileged port; no -w: no state from earlier runs.
ip netns exec "$ns" rpcbind -f -i &
echo $! >"$dir/rb.pid"
sleep 1
go build -o "$dir/rpcpeer" ./rpcpeer

record() { # file, then commands run while tcpdump records
	local out=$1; shift
	ip netns exec "$ns" tcpdump -i lo -s 0 -U -w "$dir/$out" 'port 111 or port 2049' 2>/dev/null &
	echo $! >"$dir/td.pid"
	sleep 1
	"$@" || true
	sleep 1
	kill "$(cat "$dir/td.pid")"; wait "$(cat "$dir/td.pid")" || true; rm "$dir/td.pid"
	cp "$dir/$out" "$out"
}

rpcinfo_all() {
	nsx rpcinfo -p 127.0.0.1
	nsx rpcinfo -T tcp 127.0.0.1 100000
	nsx rpcinfo -T udp 127.0.0.1 100000
	nsx rpcinfo -T tcp 127.0.0.1 100000 7 || true
	nsx rpcinfo -T udp 127.0.0.1 100000 7 || true
	nsx rpcinfo -T tcp 127.0.0.1 100003 3 || true
}
# 200 registrations make rpcbind's DUMP replies span several segments
# (and, for v4, two record fragments).
nsx "$dir/rpcpeer" -mode register
record rpcinfo.pcap rpcinfo_all
record rpcpeer.pcap nsx "$dir/rpcpeer" -mode status
ls -l rpcinfo.pcap rpcpeer.pcap
