package pktline

import (
	"strconv"

	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

// ICMP unreachable codes as tcpdump words them (RFC 792, RFC 1812).
var unreachV4 = map[uint8]string{
	0: "net %s unreachable", 1: "host %s unreachable", 2: "%s protocol unreachable", 3: "%s unreachable",
	4: "%s unreachable - need to frag", 5: "%s unreachable - source route failed",
	6: "net %s unreachable - unknown", 7: "host %s unreachable - unknown",
	9: "net %s unreachable - admin prohibited", 10: "host %s unreachable - admin prohibited",
	13: "host %s unreachable - admin prohibited filter", 14: "host %s unreachable - host precedence violation",
	15: "host %s unreachable - precedence cutoff",
}

var unreachV6 = map[uint8]string{
	0: "unreachable route %s", 1: "unreachable prohibited %s", 2: "beyond scope %s",
	3: "unreachable address %s", 4: "unreachable port %s", 5: "source address failed ingress/egress policy %s",
	6: "reject route %s",
}

// appendQuoteTarget writes what a quoted packet was aimed at: "10.0.0.2
// tcp port 80", or just the address.
func appendQuoteTarget(b []byte, p *packet.Packet) []byte {
	q := &p.Quoted
	if !q.Valid {
		return append(b, "(unknown)"...)
	}
	b = q.Dst.AppendTo(b)
	switch q.Proto {
	case header.ProtoTCP:
		b = append(b, " tcp port "...)
		b = strconv.AppendUint(b, uint64(q.DstPort), 10)
	case header.ProtoUDP:
		b = append(b, " udp port "...)
		b = strconv.AppendUint(b, uint64(q.DstPort), 10)
	}
	return b
}

func appendFormat(b []byte, format string, p *packet.Packet) []byte {
	for i := 0; i < len(format); i++ {
		if format[i] == '%' && i+1 < len(format) && format[i+1] == 's' {
			b = appendQuoteTarget(b, p)
			i++
			continue
		}
		b = append(b, format[i])
	}
	return b
}

func appendEcho(b []byte, p *packet.Packet, request bool) []byte {
	if request {
		b = append(b, "echo request"...)
	} else {
		b = append(b, "echo reply"...)
	}
	b = append(b, ", id "...)
	b = strconv.AppendUint(b, uint64(p.ICMP.EchoID()), 10)
	b = append(b, ", seq "...)
	return strconv.AppendUint(b, uint64(p.ICMP.EchoSeq()), 10)
}

func appendICMP(b []byte, p *packet.Packet) []byte {
	ic := p.ICMP
	typ, code := ic.Type(), ic.Code()
	if p.Proto == header.ProtoICMPv6 {
		b = append(b, "ICMP6, "...)
		switch typ {
		case header.ICMPv6EchoRequest, header.ICMPv6EchoReply:
			b = appendEcho(b, p, typ == header.ICMPv6EchoRequest)
		case header.ICMPv6Unreachable:
			b = append(b, "destination unreachable, "...)
			if f, ok := unreachV6[code]; ok {
				b = appendFormat(b, f, p)
			} else {
				b = append(b, "code "...)
				b = strconv.AppendUint(b, uint64(code), 10)
			}
		case header.ICMPv6TooBig:
			b = append(b, "packet too big, mtu "...)
			b = strconv.AppendInt(b, int64(ic.MTU6()), 10)
		case header.ICMPv6TimeExceeded:
			b = append(b, "time exceeded in-transit"...)
		case 133:
			b = append(b, "router solicitation"...)
		case 134:
			b = append(b, "router advertisement"...)
		case 135:
			b = append(b, "neighbor solicitation"...)
		case 136:
			b = append(b, "neighbor advertisement"...)
		default:
			b = append(b, "type "...)
			b = strconv.AppendUint(b, uint64(typ), 10)
		}
	} else {
		b = append(b, "ICMP "...)
		switch typ {
		case header.ICMPEchoRequest, header.ICMPEchoReply:
			b = appendEcho(b, p, typ == header.ICMPEchoRequest)
		case header.ICMPUnreachable:
			if f, ok := unreachV4[code]; ok {
				b = appendFormat(b, f, p)
			} else {
				b = append(b, "unreachable code "...)
				b = strconv.AppendUint(b, uint64(code), 10)
			}
			if code == 4 {
				b = append(b, " (mtu "...)
				b = strconv.AppendInt(b, int64(ic.NextHopMTU()), 10)
				b = append(b, ')')
			}
		case header.ICMPTimeExceeded:
			if code == 0 {
				b = append(b, "time exceeded in-transit"...)
			} else {
				b = append(b, "ip reassembly time exceeded"...)
			}
		case header.ICMPRedirect:
			b = append(b, "redirect"...)
		case header.ICMPSourceQuench:
			b = append(b, "source quench"...)
		case header.ICMPParamProblem:
			b = append(b, "parameter problem"...)
		default:
			b = append(b, "type "...)
			b = strconv.AppendUint(b, uint64(typ), 10)
		}
	}
	b = append(b, ", length "...)
	return strconv.AppendInt(b, int64(p.PayloadLen+header.ICMPLen), 10)
}
