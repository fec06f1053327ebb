package apptest

import (
	"encoding/binary"
	"net/netip"
)

const (
	protoTCP = 6
	protoUDP = 17
)

// packet is the part of a frame the replay needs.
type packet struct {
	src, dst netip.AddrPort
	proto    uint8
	seq, ack uint32
	flags    uint8 // TCP flags
	payload  []byte
}

const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagACK = 0x10
)

// decode parses link, IP and transport headers; ok is false for anything
// that is not TCP or UDP over IPv4/IPv6.
func decode(link uint32, b []byte) (p packet, ok bool) {
	var etype uint16
	switch link {
	case 1: // Ethernet
		if len(b) < 14 {
			return p, false
		}
		etype, b = binary.BigEndian.Uint16(b[12:]), b[14:]
		for etype == 0x8100 && len(b) >= 4 {
			etype, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		}
	case 113: // Linux cooked v1
		if len(b) < 16 {
			return p, false
		}
		etype, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case 276: // Linux cooked v2
		if len(b) < 20 {
			return p, false
		}
		etype, b = binary.BigEndian.Uint16(b), b[20:]
	case 0: // BSD loopback
		if len(b) < 4 {
			return p, false
		}
		b = b[4:]
		etype = 0x0800
		if len(b) > 0 && b[0]>>4 == 6 {
			etype = 0x86dd
		}
	case 101, 12, 14: // raw IP
		etype = 0x0800
		if len(b) > 0 && b[0]>>4 == 6 {
			etype = 0x86dd
		}
	default:
		return p, false
	}
	var src, dst netip.Addr
	switch etype {
	case 0x0800:
		if len(b) < 20 {
			return p, false
		}
		ihl := int(b[0]&15) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if ihl < 20 || total < ihl || total > len(b) {
			return p, false
		}
		p.proto = b[9]
		src = netip.AddrFrom4([4]byte(b[12:16]))
		dst = netip.AddrFrom4([4]byte(b[16:20]))
		b = b[ihl:total]
	case 0x86dd:
		if len(b) < 40 {
			return p, false
		}
		plen := int(binary.BigEndian.Uint16(b[4:]))
		if 40+plen > len(b) {
			return p, false
		}
		p.proto = b[6]
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
		b = b[40 : 40+plen]
	default:
		return p, false
	}
	switch p.proto {
	case protoTCP:
		if len(b) < 20 {
			return p, false
		}
		off := int(b[12]>>4) * 4
		if off < 20 || off > len(b) {
			return p, false
		}
		p.seq = binary.BigEndian.Uint32(b[4:])
		p.ack = binary.BigEndian.Uint32(b[8:])
		p.flags = b[13]
		p.payload = b[off:]
	case protoUDP:
		if len(b) < 8 {
			return p, false
		}
		n := int(binary.BigEndian.Uint16(b[4:]))
		if n < 8 || n > len(b) {
			return p, false
		}
		p.payload = b[8:n]
	default:
		return p, false
	}
	p.src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b))
	p.dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
	return p, true
}
