#!/usr/bin/env bash
# Regenerates the real captures in this directory: the Linux TCP stack in
# network namespaces (lab addresses only, names unique to this run),
# client — r1 — r2 — server with a 1280-byte MTU on the r1—r2 link, and one
# phase per capture pair (client side, server side):
#
#   icmp-dropped-at-sender  r2 sends ICMP fragmentation-needed; the server's
#                           own firewall drops it (the capture still sees it)
#   pmtud-works             nothing filtered: PMTU discovery works (healthy)
#   mtu-probing             ICMP filtered at r2, net.ipv4.tcp_mtu_probing=1 on
#                           the server: it finds smaller segments after a stall
#   mss-clamp               ICMP filtered, but r1 clamps the MSS (healthy)
#   ipv6-blackhole          the same over IPv6, ICMPv6 packet-too-big filtered
#
# Background commands are started with ip netns exec itself, not through a
# shell function: a forked shell would inherit the cleanup trap.
#
# Needs root. Everything it creates is removed on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "make-captures.sh: needs root (network namespaces)" >&2; exit 2; }
out=$PWD
root=$(cd ../../.. && pwd)
tmp=$(mktemp -d)
C=dpmC$$ R1=dpmR1$$ R2=dpmR2$$ S=dpmS$$
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for n in "$C" "$R1" "$R2" "$S"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
(cd "$root" && go build -o "$tmp/wiresleuth" ./cmd/wiresleuth)
WS=$tmp/wiresleuth
nx() { local n=$1; shift; ip netns exec "$n" "$@"; }

for n in "$C" "$R1" "$R2" "$S"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add eth0 netns "$C" address 02:00:0a:63:00:02 type veth peer name in0 netns "$R1" address 02:00:0a:63:00:01
ip link add out0 netns "$R1" address 02:00:0a:63:02:01 mtu 1280 type veth peer name in0 netns "$R2" address 02:00:0a:63:02:02 mtu 1280
ip link add out0 netns "$R2" address 02:00:0a:63:01:01 type veth peer name eth0 netns "$S" address 02:00:0a:63:01:02
addr() { ip -n "$1" addr add "$3" dev "$2"; ip -n "$1" -6 addr add "$4" dev "$2" nodad; ip -n "$1" link set "$2" up; }
addr "$C" eth0 10.99.0.2/24 fd99:0::2/64
addr "$R1" in0 10.99.0.1/24 fd99:0::1/64
addr "$R1" out0 10.99.2.1/24 fd99:2::1/64
addr "$R2" in0 10.99.2.2/24 fd99:2::2/64
addr "$R2" out0 10.99.1.1/24 fd99:1::1/64
addr "$S" eth0 10.99.1.2/24 fd99:1::2/64
nx "$C" "$WS" lab agent offload eth0
nx "$R1" "$WS" lab agent offload in0 out0
nx "$R2" "$WS" lab agent offload in0 out0
nx "$S" "$WS" lab agent offload eth0
for r in "$R1" "$R2"; do
	nx "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.all.rp_filter=0
done
ip -n "$C" route add default via 10.99.0.1; ip -n "$C" -6 route add default via fd99:0::1
ip -n "$S" route add default via 10.99.1.1; ip -n "$S" -6 route add default via fd99:1::1
ip -n "$R1" route add 10.99.1.0/24 via 10.99.2.2; ip -n "$R1" -6 route add fd99:1::/64 via fd99:2::2
ip -n "$R2" route add 10.99.0.0/24 via 10.99.2.1; ip -n "$R2" -6 route add fd99:0::/64 via fd99:2::1
sleep 1 # IPv6 addresses usable

ip netns exec "$S" "$WS" lab agent http-server -listen :80 -keepalive=true >"$tmp/server.log" 2>&1 &
pids+=($!)
# The lab's HTTP server listens on IPv4 only; this one serves /bytes/N
# over IPv6, keep-alive.
server6='
import http.server, socket
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        n = int(self.path.rsplit("/", 1)[1])
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        self.wfile.write(b"x" * n)
    def log_message(self, *a):
        pass
class S(http.server.HTTPServer):
    address_family = socket.AF_INET6
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()
S(("::", 80), H).serve_forever()
'
ip netns exec "$S" timeout 120 python3 -c "$server6" >"$tmp/server6.log" 2>&1 &
pids+=($!)
sleep 0.5

# client6 ADDR SPORT TIMEOUT: the same requests over IPv6, reset on timeout.
client6='
import socket, struct, sys
addr, sport, timeout = sys.argv[1].lstrip("["), int(sys.argv[2]), float(sys.argv[3].rstrip("s"))
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.bind(("::", sport))
s.connect((addr, 80))
s.settimeout(timeout)
for n in (300, 8000):
    s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\n\r\n" % n)
    got = b""
    try:
        while len(got) < n:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except socket.timeout:
        print("timeout after", len(got), "bytes; resetting")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        break
    print("got", len(got), "bytes for", n)
s.close()
'

# phase NAME SERVER SPORT TIMEOUT: captures NAME-client.pcap and
# NAME-server.pcap around one keep-alive connection asking for 300 bytes,
# then 8000.
phase() {
	local name=$1 server=$2 sport=$3 timeout=$4
	nx "$S" ip route flush cache; nx "$S" ip -6 route flush cache
	ip netns exec "$C" tcpdump -i eth0 -s 0 -U --immediate-mode -n -Z root -c 200 -w "$tmp/$name-client.pcap" 2>"$tmp/$name-client.err" &
	local t1=$!
	ip netns exec "$S" tcpdump -i eth0 -s 0 -U --immediate-mode -n -Z root -c 200 -w "$tmp/$name-server.pcap" 2>"$tmp/$name-server.err" &
	local t2=$!
	sleep 1
	if [[ $server == \[* ]]; then
		# The lab's HTTP client dials IPv4 only.
		nx "$C" timeout 30 python3 -c "$client6" "${server%]:*}" "$sport" "$timeout" || true
	else
		nx "$C" timeout 30 "$WS" lab agent http-client -server "$server" -sport "$sport" -get 300,8000 -timeout "$timeout" -reset-on-timeout || true
	fi
	sleep 1
	kill -TERM "$t1" "$t2"; wait "$t1" "$t2" 2>/dev/null || true
	cp "$tmp/$name-client.pcap" "$tmp/$name-server.pcap" "$out/"
	echo "$name: $(tcpdump -r "$out/$name-server.pcap" 2>/dev/null | wc -l) packets at the server"
}

# The server ignores the ICMP that reaches it.
nx "$S" iptables -A INPUT -p icmp --icmp-type fragmentation-needed -j DROP
phase icmp-dropped-at-sender 10.99.1.2:80 40021 4s
nx "$S" iptables -F INPUT

phase pmtud-works 10.99.1.2:80 40022 4s

nx "$R2" iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP
nx "$S" sysctl -qw net.ipv4.tcp_mtu_probing=1
phase mtu-probing 10.99.1.2:80 40023 20s
nx "$S" sysctl -qw net.ipv4.tcp_mtu_probing=0

nx "$R1" iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
phase mss-clamp 10.99.1.2:80 40024 4s
nx "$R1" iptables -t mangle -F FORWARD

nx "$R2" ip6tables -A OUTPUT -p icmpv6 --icmpv6-type packet-too-big -j DROP
phase ipv6-blackhole "[fd99:1::2]:80" 40025 4s
