#!/usr/bin/env bash
# Regenerates padsum-client.pcap and padsum-server.pcap: the OpenStack
# story's bad checksums on padded frames, with the real Linux TCP stack at
# both ends. The server (10.99.1.2) sends legacy 40-byte bare ACKs and FINs
# (no timestamps); between it and the client (10.99.0.2) a userspace switch
# pads those short frames to Ethernet's 60 bytes and, like the buggy
# device, computes their TCP checksum over the padding. The client drops
# them: the server's FIN never gets in, the client times out and resets.
#
# This kernel has no tc pedit, so the switch is a Python relay on two veth
# ports (AF_PACKET). Namespaces have names unique to this run, lab addresses
# only, and are removed on exit, also on failure. Needs root.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make-captures.sh: needs root (network namespaces)" >&2; exit 2; }
out=$PWD
root=$(cd ../../.. && pwd)
tmp=$(mktemp -d)
C=dcsC$$ SW=dcsW$$ S=dcsS$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "$C" "$SW" "$S"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
(cd "$root" && go build -o "$tmp/wiresleuth" ./cmd/wiresleuth)
WS=$tmp/wiresleuth
nx() { local n=$1; shift; ip netns exec "$n" "$@"; }

for n in "$C" "$SW" "$S"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add eth0 netns "$C" address 02:00:0a:63:00:02 type veth peer name pc netns "$SW"
ip link add eth0 netns "$S" address 02:00:0a:63:01:02 type veth peer name ps netns "$SW"
ip -n "$C" addr add 10.99.0.2/16 dev eth0
ip -n "$S" addr add 10.99.1.2/16 dev eth0
for n in "$C" "$S"; do ip -n "$n" link set eth0 up; nx "$n" "$WS" lab agent offload eth0; done
for d in pc ps; do ip -n "$SW" link set "$d" up; ip -n "$SW" link set "$d" promisc on; done
nx "$SW" "$WS" lab agent offload pc ps
nx "$S" sysctl -qw net.ipv4.tcp_timestamps=0
for n in "$C" "$SW" "$S"; do nx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done

relay='
import select, socket, struct, sys, time
def sock(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((name, 0))
    return s
def padsum(f):
    # IPv4 TCP under 46 bytes: pad to 60 and sum the padding in.
    if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != 6:
        return f
    ihl = (f[14] & 15) * 4
    total = struct.unpack("!H", f[16:18])[0]
    if total >= 46 or len(f) != 14 + total:
        return f
    f = bytearray(f + bytes(60 - len(f)))
    seg = f[14 + ihl:]
    seg[16:18] = b"\0\0"
    s = sum(struct.unpack("!4H", f[26:34])) + 6 + len(seg)
    s += sum(struct.unpack("!%dH" % (len(seg) // 2), seg))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    f[14 + ihl + 16:14 + ihl + 18] = struct.pack("!H", ~s & 0xFFFF)
    return bytes(f)
pc, ps = sock("pc"), sock("ps")
end = time.time() + float(sys.argv[1])
while time.time() < end:
    r, _, _ = select.select([pc, ps], [], [], 0.2)
    for s in r:
        f, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        if s is ps:
            pc.send(padsum(f))
        else:
            ps.send(f)
'
ip netns exec "$SW" python3 -c "$relay" 60 &
pids+=($!)
ip netns exec "$S" "$WS" lab agent http-server -listen :80 -keepalive=false >"$tmp/server.log" 2>&1 &
pids+=($!)
sleep 1

ip netns exec "$C" tcpdump -i eth0 -s 0 -U --immediate-mode -n -Z root -c 200 -w "$tmp/padsum-client.pcap" 2>/dev/null &
t1=$!
ip netns exec "$S" tcpdump -i eth0 -s 0 -U --immediate-mode -n -Z root -c 200 -w "$tmp/padsum-server.pcap" 2>/dev/null &
t2=$!
sleep 1
nx "$C" timeout 30 "$WS" lab agent http-client -server 10.99.1.2:80 -sport 46518 -get 2000 -close -timeout 5s -reset-on-timeout || true
sleep 1
kill -TERM "$t1" "$t2"; wait "$t1" "$t2" 2>/dev/null || true
cp "$tmp/padsum-client.pcap" "$tmp/padsum-server.pcap" "$out/"
