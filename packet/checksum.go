package packet

import "github.com/wiresleuth/wiresleuth/header"

// Checksum is the state of a checksum field.
type Checksum uint8

const (
	ChecksumUnknown Checksum = iota // not verifiable: data not fully captured, or no checksum field
	ChecksumGood
	ChecksumBad
	ChecksumZero // zero: UDP over IPv4 "no checksum", or an offloaded field left empty
)

func (c Checksum) String() string {
	return [...]string{"unverified", "good", "bad", "zero"}[c]
}

// IPChecksum verifies the IPv4 header checksum of the innermost IP layer.
func (p *Packet) IPChecksum() Checksum {
	if p.IPVersion != 4 || len(p.IP) < p.IPHdrLen {
		return ChecksumUnknown
	}
	if header.Checksum(p.IP[:p.IPHdrLen], 0) == 0 {
		return ChecksumGood
	}
	return ChecksumBad
}

// TransportChecksum verifies the TCP, UDP or ICMP checksum. It costs a pass
// over the segment, so callers ask only when they need it.
func (p *Packet) TransportChecksum() Checksum {
	seg := p.transport
	if seg == nil || p.Frag != NotFragmented && p.Frag != Reassembled {
		return ChecksumUnknown
	}
	var field uint16
	var pseudo uint32
	switch {
	case p.TCP != nil:
		field = p.TCP.Checksum()
		pseudo = header.PseudoHeaderSum(p.Src, p.Dst, header.ProtoTCP, len(seg))
	case p.UDP != nil:
		field = p.UDP.Checksum()
		if field == 0 {
			if p.IPVersion == 4 {
				return ChecksumZero
			}
			return ChecksumBad // mandatory over IPv6
		}
		pseudo = header.PseudoHeaderSum(p.Src, p.Dst, header.ProtoUDP, len(seg))
	case p.ICMP != nil:
		field = p.ICMP.Checksum()
		if p.Proto == header.ProtoICMPv6 {
			pseudo = header.PseudoHeaderSum(p.Src, p.Dst, header.ProtoICMPv6, len(seg))
		}
	default:
		return ChecksumUnknown
	}
	if header.Checksum(seg, pseudo) == 0 {
		return ChecksumGood
	}
	if field == 0 {
		return ChecksumZero
	}
	return ChecksumBad
}
