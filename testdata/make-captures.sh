#!/usr/bin/env bash
# Regenerates the real captures in testdata/: the Linux TCP/IP stack in two
# network namespaces (lab addresses only), captured with tcpdump and dumpcap.
# This kernel has no VLAN, Geneve, GRE or IP-in-IP modules, so those links
# are userspace relays (relay.py) between the namespaces; VXLAN is the
# kernel's own. Needs root; cleans up after itself, also on failure.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make-captures.sh: needs root (network namespaces)" >&2; exit 2; }

A=wsmkA$$ B=wsmkB$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }
bg() { "$@" & pids+=($!); }
bgA() { ip netns exec "$A" "$@" & pids+=($!); }
bgB() { ip netns exec "$B" "$@" & pids+=($!); }
mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }
plain() { # plain NS DEV: no offloads, so frames on the wire are complete
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
	ip -n "$1" link set "$2" up
}
# link NAME ADDR_A ADDR_B: A's NAMEa <-> relay NAMEr (A) ... trunk NAMEta <-> NAMEtb ... relay NAMEr (B) <-> NAMEb
link() {
	local n=$1
	ip link add "${n}a" netns "$A" type veth peer name "${n}ar" netns "$A"
	ip link add "${n}b" netns "$B" type veth peer name "${n}br" netns "$B"
	ip link add "${n}ta" netns "$A" mtu 1600 type veth peer name "${n}tb" netns "$B" mtu 1600
	for d in "${n}a" "${n}ar" "${n}ta"; do plain "$A" "$d"; done
	for d in "${n}b" "${n}br" "${n}tb"; do plain "$B" "$d"; done
	ip -n "$A" link set "${n}a" mtu 1400; ip -n "$B" link set "${n}b" mtu 1400
	ip -n "$A" addr add "$2/24" dev "${n}a"; ip -n "$B" addr add "$3/24" dev "${n}b"
}

ip netns add "$A"; ip netns add "$B"
for n in "$A" "$B"; do ip -n "$n" link set lo up; done
ip link add va netns "$A" type veth peer name vb netns "$B"
inA ip addr add 10.77.0.1/24 dev va; inB ip addr add 10.77.0.2/24 dev vb
inA ip -6 addr add fd77::1/64 dev va nodad; inB ip -6 addr add fd77::2/64 dev vb nodad
inA ip link set va up; inB ip link set vb up

R="python3 $PWD/relay.py"
link vl 10.77.100.1 10.77.100.2   # 802.1Q VLAN 100
link qq 10.77.230.1 10.77.230.2   # QinQ: 802.1ad 200 outside 802.1Q 300
link gn 10.78.2.1 10.78.2.2       # Ethernet over Geneve VNI 43
link gr 10.78.3.1 10.78.3.2       # IP over GRE
link ge 10.78.5.1 10.78.5.2       # Ethernet over GRE (gretap)
bgA $R tag vlar vlta 8100:100; bgB $R tag vlbr vltb 8100:100
bgA $R tag qqar qqta 88a8:200,8100:300; bgB $R tag qqbr qqtb 88a8:200,8100:300
bgA $R geneve gnar gnta 43 10.79.2.1 10.79.2.2 "$(mac "$B" gntb)"
bgB $R geneve gnbr gntb 43 10.79.2.2 10.79.2.1 "$(mac "$A" gnta)"
bgA $R gre grar grta 10.79.3.1 10.79.3.2 "$(mac "$B" grtb)" 0800
bgB $R gre grbr grtb 10.79.3.2 10.79.3.1 "$(mac "$A" grta)" 0800
bgA $R gre gear geta 10.79.5.1 10.79.5.2 "$(mac "$B" getb)" 6558
bgB $R gre gebr getb 10.79.5.2 10.79.5.1 "$(mac "$A" geta)" 6558
# An IP tunnel has no ARP: give each side a neighbour entry.
inA ip neigh add 10.78.3.2 lladdr 02:00:00:00:03:02 dev gra
inB ip neigh add 10.78.3.1 lladdr 02:00:00:00:03:01 dev grb
# Kernel VXLAN over the main veth.
inA ip link add vx0 type vxlan id 42 remote 10.77.0.2 local 10.77.0.1 dstport 4789
inB ip link add vx0 type vxlan id 42 remote 10.77.0.1 local 10.77.0.2 dstport 4789
inA ip link set vx0 up; inB ip link set vx0 up
inA ip addr add 10.78.1.1/24 dev vx0; inB ip addr add 10.78.1.2/24 dev vx0
# Raw IP: a tun device on each side, relayed over UDP 5555 on the main veth.
bgA $R tun wstun 5555 10.77.0.2:5555; bgB $R tun wstun 5555 10.77.0.1:5555
sleep 1
inA ip addr add 10.78.4.1 peer 10.78.4.2 dev wstun; inA ip link set wstun up
inB ip addr add 10.78.4.2 peer 10.78.4.1 dev wstun; inB ip link set wstun up
# A port that rejects with admin-prohibited, for an ICMP error quoting TCP.
inB iptables -A INPUT -p tcp --dport 9 -j REJECT --reject-with icmp-admin-prohibited

bgB python3 -m http.server 8080 --bind :: >/dev/null 2>&1

cap() { # cap NS FILE tcpdump-args...
	local ns=$1 f=$2; shift 2
	bg ip netns exec "$ns" tcpdump -s 0 -U -w "$f" "$@" 2>/dev/null
}
cap "$A" http-veth.pcap -i va 'tcp port 8080'
cap "$A" http-veth-ns.pcap -i va --time-stamp-precision=nano 'tcp port 8080'
cap "$A" http-any.pcap -i any -y LINUX_SLL 'tcp port 8080 and not (ip net 10.78.0.0/16 or ip net 10.77.100.0/24 or ip net 10.77.230.0/24)'
cap "$A" http-any-sll2.pcap -i any -y LINUX_SLL2 'tcp port 8080 and not ip net 10.78.0.0/16'
cap "$A" vlan.pcap -i vlta
cap "$A" qinq.pcap -i qqta
cap "$A" geneve.pcap -i gnta
cap "$A" gre.pcap -i grta
cap "$A" gretap.pcap -i geta
cap "$A" vxlan.pcap -i va 'udp port 4789'
cap "$A" raw-ip.pcap -i wstun
cap "$A" frag.pcap -i va '(ip and (ip[6:2] & 0x3fff != 0)) or (ip6 and ip6[6] == 44)'
cap "$A" icmp.pcap -i va 'icmp or icmp6 or tcp port 9 or udp port 9'
bgA dumpcap -q -i va -i wstun -i lo -f 'tcp port 8080' -w multi.pcapng --capture-comment "wiresleuth test capture: veth, tun and loopback"
sleep 2

get() { inA curl -s -m 3 -o /dev/null "$@" || true; }
for _ in 1 2 3; do get http://10.77.0.2:8080/; done
get 'http://[fd77::2]:8080/'
inA python3 - <<'EOF'
import socket, http.client
# keep-alive: two requests on one connection
c = http.client.HTTPConnection("10.77.0.2", 8080); c.request("GET", "/"); c.getresponse().read(); c.request("GET", "/nope"); c.getresponse().read(); c.close()
# loopback (nothing listens there in this namespace: refused)
try:
    socket.create_connection(("127.0.0.1", 8080), timeout=1)
except OSError:
    pass
# fragments: UDP datagrams larger than the 1500-byte MTU
for host, fam in (("10.77.0.2", socket.AF_INET), ("fd77::2", socket.AF_INET6)):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.sendto(b"x" * 4000, (host, 7)); s.close()
# ICMP errors: UDP to a closed port (port unreachable), TCP to a port that rejects
for host, fam in (("10.77.0.2", socket.AF_INET), ("fd77::2", socket.AF_INET6)):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.sendto(b"hello", (host, 9)); s.close()
s = socket.socket(); s.settimeout(1)
try:
    s.connect(("10.77.0.2", 9))
except OSError:
    pass
EOF
for h in 10.77.100.2 10.77.230.2 10.78.1.2 10.78.2.2 10.78.3.2 10.78.5.2 10.78.4.2; do get "http://$h:8080/"; done
sleep 2
cleanup
trap - EXIT INT TERM
pids=()

# Several interfaces with different link types and timestamp resolutions,
# and a packet comment.
mergecap -F pcapng -w merged.tmp http-veth-ns.pcap raw-ip.pcap http-any.pcap
editcap -a '3:third frame: a packet comment' merged.tmp merged.pcapng && rm -f merged.tmp
gzip -9 -n -c http-veth.pcap > http-veth.pcap.gz
zstd -q -19 -f -o http-veth.pcap.zst http-veth.pcap
ls -l ./*.pcap ./*.pcapng ./*.gz ./*.zst
