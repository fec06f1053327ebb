#!/usr/bin/env bash
# Regenerates the real captures in this directory with the Linux stack in
# network namespaces (lab addresses only, names unique to this run):
#
#   client 10.99.10.2 — hub (a bridge that floods everything) — r1 and r2
#   r1, r2 — switch — server 10.99.11.2
#
# r1 and r2 share the inside MAC, as a CARP pair's backup that still takes
# the traffic would: the hub floods the client's frames to both and both
# route them to the server (the pfsync story, two routers at the same
# distance).
#
#   two-forwarders.pcap  at the server: every client packet twice, from r1's
#                        and r2's outside MACs, same TTL (the fault)
#   router-any.pcap      r2 stopped; r1 captured on the any interface: every
#                        packet in and out of the router (not a fault)
#   span.pcap            r2 stopped; a monitor port mirroring ingress and
#                        egress of both switch ports (identical copies: the
#                        capture's doing)
#
# Needs root. Everything it creates is removed on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make-captures.sh: needs root (network namespaces)" >&2; exit 2; }
out=$PWD
root=$(cd ../../.. && pwd)
tmp=$(mktemp -d)
C=ddpC$$ HUB=ddpH$$ R1=ddpR1$$ R2=ddpR2$$ SW=ddpW$$ S=ddpS$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "$C" "$HUB" "$R1" "$R2" "$SW" "$S"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
(cd "$root" && go build -o "$tmp/wiresleuth" ./cmd/wiresleuth)
WS=$tmp/wiresleuth
nx() { local n=$1; shift; ip netns exec "$n" "$@"; }

for n in "$C" "$HUB" "$R1" "$R2" "$SW" "$S"; do
	ip netns add "$n"; ip -n "$n" link set lo up
	nx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add eth0 netns "$C" address 02:00:0a:63:0a:02 type veth peer name hc netns "$HUB"
ip link add in0 netns "$R1" address 02:00:0a:63:0a:01 type veth peer name h1 netns "$HUB"
ip link add in0 netns "$R2" address 02:00:0a:63:0a:01 type veth peer name h2 netns "$HUB"
ip link add out0 netns "$R1" address 02:00:0a:63:0b:01 type veth peer name o1 netns "$SW"
ip link add out0 netns "$R2" address 02:00:0a:63:0b:03 type veth peer name o2 netns "$SW"
ip link add eth0 netns "$S" address 02:00:0a:63:0b:02 type veth peer name os netns "$SW"
ip link add mon0 netns "$SW" type veth peer name mon1 netns "$SW"
ip -n "$HUB" link add br0 type bridge ageing_time 0
ip -n "$SW" link add br1 type bridge
for p in hc h1 h2; do ip -n "$HUB" link set "$p" master br0 up; done
for p in o1 o2 os; do ip -n "$SW" link set "$p" master br1 up; done
ip -n "$HUB" link set br0 up; ip -n "$SW" link set br1 up
ip -n "$SW" link set mon0 up; ip -n "$SW" link set mon1 up
ip -n "$C" addr add 10.99.10.2/24 dev eth0
ip -n "$R1" addr add 10.99.10.1/24 dev in0; ip -n "$R1" addr add 10.99.11.1/24 dev out0
ip -n "$R2" addr add 10.99.10.3/24 dev in0; ip -n "$R2" addr add 10.99.11.3/24 dev out0
ip -n "$S" addr add 10.99.11.2/24 dev eth0
nx "$C" "$WS" lab agent offload eth0
nx "$S" "$WS" lab agent offload eth0
for r in "$R1" "$R2"; do
	for d in in0 out0; do ip -n "$r" link set "$d" up; done
	nx "$r" "$WS" lab agent offload in0 out0
	nx "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.all.arp_ignore=1
done
ip -n "$C" link set eth0 up; ip -n "$S" link set eth0 up
ip -n "$C" route add default via 10.99.10.1
ip -n "$S" route add default via 10.99.11.1
nx "$HUB" "$WS" lab agent offload hc h1 h2
nx "$SW" "$WS" lab agent offload o1 o2 os mon0 mon1

ip netns exec "$S" "$WS" lab agent http-server -listen :80 -keepalive=true >"$tmp/server.log" 2>&1 &
pids+=($!)
sleep 1

get() { nx "$C" timeout 20 "$WS" lab agent http-client -server 10.99.11.2:80 -sport "$1" -get 300,4000,300 -timeout 3s || true; }
# stop ends captures, after a pause: tcpdump on the any interface loses
# the last packets when stopped right after them.
stop() {
	sleep 2
	kill -TERM "$@"; wait "$@" 2>/dev/null || true
}

# 1. Both routers forward.
ip netns exec "$S" tcpdump -i eth0 -s 0 -U --immediate-mode -n -Z root -c 300 -w "$tmp/two-forwarders.pcap" 2>"$tmp/t.err" &
t=$!
sleep 1
get 40031
sleep 1
stop "$t"; cat "$tmp/t.err" >&2

# 2 and 3. r2 stops forwarding; r1 on its any interface, and a SPAN port.
nx "$R2" sysctl -qw net.ipv4.ip_forward=0
for p in o1 os; do
	nx "$SW" tc qdisc add dev "$p" clsact
	for dir in ingress egress; do
		nx "$SW" tc filter add dev "$p" "$dir" protocol all u32 match u32 0 0 action mirred egress mirror dev mon0
	done
done
ip netns exec "$R1" tcpdump -i any -s 0 -U --immediate-mode -n -Z root -c 300 -w "$tmp/router-any.pcap" 2>/dev/null &
t1=$!
ip netns exec "$SW" tcpdump -i mon1 -s 0 -U --immediate-mode -n -Z root -c 300 -w "$tmp/span.pcap" 2>/dev/null &
t2=$!
sleep 1
get 40032
sleep 1
stop "$t1" "$t2"
cp "$tmp/two-forwarders.pcap" "$tmp/router-any.pcap" "$tmp/span.pcap" "$out/"
for f in two-forwarders router-any span; do echo "$f: $(tcpdump -r "$out/$f.pcap" 2>/dev/null | wc -l) packets"; done
