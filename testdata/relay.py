#!/usr/bin/env python3
"""Userspace links for making test captures with what this kernel lacks.

The test machines' kernel has no VLAN, Geneve, GRE or IP-in-IP modules, so
make-captures.sh joins two network namespaces through these relays instead;
the TCP traffic is still the real Linux stack's, only the link between the
namespaces is userspace:

  relay.py tag INNER TRUNK TPID:VID[,TPID:VID]   add tags (outermost first) on TRUNK
  relay.py geneve INNER TRUNK VNI SRC DST PEERMAC Ethernet over Geneve (UDP 6081)
  relay.py gre INNER TRUNK SRC DST PEERMAC PROTO  GRE, PROTO 6558 (Ethernet) or 0800 (IP)
  relay.py tun NAME LISTEN_PORT PEER_IP:PORT      a tun device (raw IP) relayed over UDP

Frames the stack sends on INNER leave on TRUNK transformed; frames arriving
on TRUNK are restored and written to INNER. Runs for --seconds (default 60).
"""
import fcntl
import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4


def packet_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    return s


def ifmac(ifname):
    with open(f"/sys/class/net/{ifname}/address") as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def veth_peer_mac(ifname):
    """MAC of the other end of veth ifname (both ends in this namespace)."""
    with open(f"/sys/class/net/{ifname}/iflink") as f:
        peer = f.read().strip()
    for name in os.listdir("/sys/class/net"):
        with open(f"/sys/class/net/{name}/ifindex") as f:
            if f.read().strip() == peer:
                return ifmac(name)
    raise SystemExit(f"relay.py: no veth peer of {ifname}")


def strip_tags(frame):
    while len(frame) >= 18 and frame[12:14] in (b"\x81\x00", b"\x88\xa8"):
        frame = frame[:12] + frame[16:]
    return frame


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Encap:
    """Builds outer Ethernet/IPv4 frames from TRUNK's MAC to the peer's."""

    def __init__(self, trunk, src, dst, peermac, proto):
        self.src, self.dst = socket.inet_aton(src), socket.inet_aton(dst)
        self.eth = bytes.fromhex(peermac.replace(":", "")) + ifmac(trunk) + b"\x08\x00"
        self.proto, self.ident = proto, 0

    def wrap(self, payload):
        self.ident = (self.ident + 1) & 0xFFFF
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), self.ident, 0x4000, 64, self.proto, 0, self.src, self.dst)
        h = h[:10] + struct.pack("!H", checksum(h)) + h[12:]
        return self.eth + h + payload

    def unwrap(self, frame):
        """Returns the IPv4 payload of a frame addressed to us, or None."""
        frame = strip_tags(frame)
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != self.proto or frame[30:34] != self.src:
            return None
        ihl = (frame[14] & 15) * 4
        total = struct.unpack("!H", frame[16:18])[0]
        return frame[14 + ihl:14 + total]


def relay_frames(inner, trunk, out_fn, in_fn, seconds):
    si, st = packet_socket(inner), packet_socket(trunk)
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([si, st], [], [], 0.5)
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            out = out_fn(frame) if s is si else in_fn(frame)
            if out:
                (st if s is si else si).send(out)


def main(argv):
    seconds = 60
    if "--seconds" in argv:
        i = argv.index("--seconds")
        seconds = float(argv[i + 1])
        del argv[i:i + 2]
    mode = argv[0]
    if mode == "tag":
        inner, trunk, spec = argv[1:4]
        tags = b"".join(struct.pack("!HH", int(t, 16), int(v)) for t, v in (x.split(":") for x in spec.split(",")))
        relay_frames(inner, trunk, lambda f: f[:12] + tags + f[12:], strip_tags, seconds)
    elif mode == "geneve":
        inner, trunk, vni, src, dst, peermac = argv[1:7]
        e = Encap(trunk, src, dst, peermac, 17)
        hdr = struct.pack("!BBH", 0, 0, 0x6558) + struct.pack("!I", int(vni) << 8)

        def out(f):
            g = hdr + f
            sport = 49152 + (sum(f[26:38]) & 0x3FFF)  # a flow hash, like the kernel's
            return e.wrap(struct.pack("!HHHH", sport, 6081, 8 + len(g), 0) + g)

        def back(f):
            p = e.unwrap(f)
            if not p or len(p) < 16 or p[2:4] != b"\x17\xc1":
                return None
            return p[8 + 8 + (p[8] & 0x3F) * 4:]

        relay_frames(inner, trunk, out, back, seconds)
    elif mode == "gre":
        inner, trunk, src, dst, peermac, proto = argv[1:7]
        e = Encap(trunk, src, dst, peermac, 47)
        ethertype = int(proto, 16)
        # IP frames we deliver need an Ethernet header: from INNER to the
        # stack's interface (TCP ignores frames not addressed to the host).
        eth = veth_peer_mac(inner) + ifmac(inner)

        def out(f):
            if ethertype != 0x6558:
                f = strip_tags(f)
                if f[12:14] != b"\x08\x00":  # an IP tunnel carries IP only (no ARP)
                    return None
                f = f[14:]
            return e.wrap(struct.pack("!HH", 0, ethertype) + f)

        def back(f):
            p = e.unwrap(f)
            if not p or len(p) < 4:
                return None
            flags, et = struct.unpack("!HH", p[:4])
            off = 4 + 4 * bool(flags & 0x8000) + 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
            if et == 0x6558:
                return p[off:]
            return eth + struct.pack("!H", et) + p[off:]

        relay_frames(inner, trunk, out, back, seconds)
    elif mode == "tun":
        name, port, peer = argv[1], int(argv[2]), argv[3]
        peer_ip, peer_port = peer.rsplit(":", 1)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", name.encode(), 0x0001 | 0x1000))  # TUNSETIFF, IFF_TUN|IFF_NO_PI
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", port))
        deadline = time.time() + seconds
        while time.time() < deadline:
            ready, _, _ = select.select([fd, u], [], [], 0.5)
            for r in ready:
                if r is u:
                    data = u.recv(65535)
                    try:
                        os.write(fd, data)
                    except OSError:
                        pass  # the device is not up yet
                else:
                    u.sendto(os.read(fd, 65535), (peer_ip, int(peer_port)))
    else:
        sys.exit(f"relay.py: unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
