"""Minimal pcap/pcapng reader and packet decoder used by the Zeek conn.log reference model.

Written for docs/zeek-conn-rules.md; it decodes exactly the link types and encapsulations that
the traces in ../shared/peers/zeek use (Ethernet with VLAN/Q-in-Q/MPLS/PPPoE/FabricPath,
802.11+radiotap, Linux SLL/SLL2, raw IP).  It is a test-oracle helper, not production code.
"""
import struct


def read_packets(path):
    """Yield (frame_no, ts, linktype, data, orig_len)."""
    with open(path, 'rb') as f:
        buf = f.read()
    magic = buf[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d'):
        yield from _read_pcap(buf)
    elif magic == b'\x0a\x0d\x0d\x0a':
        yield from _read_pcapng(buf)
    else:
        raise ValueError('unknown capture format: ' + path)


def _read_pcap(buf):
    magic = buf[:4]
    le = magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1')
    nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    e = '<' if le else '>'
    linktype = struct.unpack(e + 'I', buf[20:24])[0] & 0x0fffffff
    off = 24
    n = 0
    while off + 16 <= len(buf):
        sec, frac, incl, orig = struct.unpack(e + 'IIII', buf[off:off + 16])
        off += 16
        data = buf[off:off + incl]
        off += incl
        n += 1
        ts = sec + frac / (1e9 if nano else 1e6)
        yield n, ts, linktype, data, orig


def _read_pcapng(buf):
    off = 0
    e = '<'
    ifaces = []
    n = 0
    while off + 12 <= len(buf):
        btype = struct.unpack(e + 'I', buf[off:off + 4])[0]
        if btype == 0x0a0d0d0a:
            bom = buf[off + 8:off + 12]
            e = '<' if bom == b'\x4d\x3c\x2b\x1a' else '>'
            ifaces = []
        blen = struct.unpack(e + 'I', buf[off + 4:off + 8])[0]
        body = buf[off + 8:off + blen - 4]
        if btype == 1:  # IDB
            lt = struct.unpack(e + 'H', body[0:2])[0]
            tsres = 1e-6
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + 'HH', body[o:o + 4])
                if code == 0:
                    break
                if code == 9:
                    v = body[o + 4]
                    tsres = 2 ** -(v & 0x7f) if v & 0x80 else 10 ** -v
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((lt, tsres))
        elif btype == 6:  # EPB
            ifid, tsh, tsl, cap, orig = struct.unpack(e + 'IIIII', body[0:20])
            data = body[20:20 + cap]
            lt, res = ifaces[ifid]
            n += 1
            yield n, ((tsh << 32) | tsl) * res, lt, data, orig
        elif btype == 3:  # SPB
            orig = struct.unpack(e + 'I', body[0:4])[0]
            lt, res = ifaces[0]
            n += 1
            yield n, 0.0, lt, body[4:4 + orig], orig
        off += blen


def link_to_l3(linktype, data):
    """Return (ethertype-ish, l3 bytes, vlan) or None.  ethertype 0x0800/0x86dd for IP."""
    vlan = None
    if linktype == 1:  # Ethernet
        if len(data) < 14:
            return None
        et = struct.unpack('>H', data[12:14])[0]
        off = 14
        if et == 0x8903:  # Cisco FabricPath: 16-byte outer header, then an inner Ethernet frame
            inner = data[16:]
            return link_to_l3(1, inner)
        return _ethertype(et, data, off, vlan)
    if linktype in (101, 12, 14):  # raw IP
        v = data[0] >> 4
        return (0x0800 if v == 4 else 0x86dd), data, None
    if linktype == 113:  # Linux SLL
        et = struct.unpack('>H', data[14:16])[0]
        return _ethertype(et, data, 16, None)
    if linktype == 276:  # Linux SLL2
        et = struct.unpack('>H', data[0:2])[0]
        return _ethertype(et, data, 20, None)
    if linktype == 127:  # radiotap + 802.11
        rlen = struct.unpack('<H', data[2:4])[0]
        w = data[rlen:]
        fc = w[0]
        ftype = (fc >> 2) & 3
        if ftype != 2:
            return None
        subtype = (fc >> 4) & 0xf
        flags = w[1]
        hdr = 24
        if (flags & 3) == 3:
            hdr = 30
        if subtype & 0x8:  # QoS data
            hdr += 2
        llc = w[hdr:]
        if llc[:3] != b'\xaa\xaa\x03':
            return None
        et = struct.unpack('>H', llc[6:8])[0]
        return _ethertype(et, llc, 8, None)
    return None


def _ethertype(et, data, off, vlan):
    while True:
        if et in (0x8100, 0x88a8, 0x9100):
            tci = struct.unpack('>H', data[off:off + 2])[0]
            if vlan is None:
                vlan = tci & 0xfff
            et = struct.unpack('>H', data[off + 2:off + 4])[0]
            off += 4
            continue
        if et == 0x8847:  # MPLS unicast
            while True:
                lbl = struct.unpack('>I', data[off:off + 4])[0]
                off += 4
                if lbl & 0x100:
                    break
            v = data[off] >> 4
            et = 0x0800 if v == 4 else 0x86dd
            continue
        if et == 0x8864:  # PPPoE session
            proto = struct.unpack('>H', data[off + 6:off + 8])[0]
            off += 8
            if proto == 0x0021:
                et = 0x0800
            elif proto == 0x0057:
                et = 0x86dd
            else:
                return None
            continue
        break
    if et in (0x0800, 0x86dd):
        return et, data[off:], vlan
    return None


def cksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


class IPPkt:
    """A decoded IP packet (v4 or v6) with transport info."""
    __slots__ = ('v', 'src', 'dst', 'proto', 'total_len', 'hdr_len', 'payload', 'cap_payload_len',
                 'payload_len', 'ip_ok', 'frag', 'ident', 'frag_off', 'mf', 'raw', 'flow_label', 'pseudo')


def parse_ip(b):
    """Parse an IP packet from bytes b.  Returns IPPkt or None."""
    if not b:
        return None
    v = b[0] >> 4
    p = IPPkt()
    p.v = v
    p.frag = False
    p.raw = b
    if v == 4:
        if len(b) < 20:
            return None
        ihl = (b[0] & 0xf) * 4
        p.hdr_len = ihl
        p.total_len = struct.unpack('>H', b[2:4])[0]
        p.ident = struct.unpack('>H', b[4:6])[0]
        fo = struct.unpack('>H', b[6:8])[0]
        p.mf = bool(fo & 0x2000)
        p.frag_off = (fo & 0x1fff) * 8
        p.frag = p.mf or p.frag_off != 0
        p.proto = b[9]
        p.src = '.'.join(str(x) for x in b[12:16])
        p.dst = '.'.join(str(x) for x in b[16:20])
        p.ip_ok = cksum(b[:ihl]) == 0xffff
        p.payload_len = p.total_len - ihl
        p.payload = b[ihl:p.total_len] if p.total_len else b[ihl:]
        p.cap_payload_len = len(b) - ihl
        p.flow_label = 0
        p.pseudo = b[12:20]
        return p
    if v == 6:
        if len(b) < 40:
            return None
        plen = struct.unpack('>H', b[4:6])[0]
        nh = b[6]
        p.src = fmt6(b[8:24])
        p.dst = fmt6(b[24:40])
        p.flow_label = struct.unpack('>I', b[0:4])[0] & 0xfffff
        off = 40
        p.mf = False
        p.frag_off = 0
        p.ident = 0
        # extension headers
        while nh in (0, 43, 60, 44, 51):
            if nh == 44:
                fo = struct.unpack('>H', b[off + 2:off + 4])[0]
                p.frag_off = fo & 0xfff8
                p.mf = bool(fo & 1)
                p.ident = struct.unpack('>I', b[off + 4:off + 8])[0]
                p.frag = p.mf or p.frag_off != 0
                nh = b[off]
                off += 8
                continue
            if nh == 51:
                hl = (b[off + 1] + 2) * 4
            else:
                hl = (b[off + 1] + 1) * 8
            nh = b[off]
            off += hl
        p.proto = nh
        p.hdr_len = off
        p.total_len = plen + 40
        p.payload_len = plen + 40 - off
        p.payload = b[off:40 + plen]
        p.cap_payload_len = len(b) - off
        p.ip_ok = True
        p.pseudo = b[8:40]
        return p
    return None


def fmt6(a):
    import ipaddress
    return str(ipaddress.IPv6Address(bytes(a)))


def l4_checksum_ok(ip, proto, seg):
    """Verify a TCP/UDP/ICMPv6 checksum over seg (the full L4 bytes, length = IP payload length)."""
    if ip.v == 4:
        ph = ip.pseudo + struct.pack('>BBH', 0, proto, len(seg))
    else:
        ph = ip.pseudo + struct.pack('>IxxxB', len(seg), proto)
    return cksum(ph + seg) == 0xffff
