// Package pktline renders a decoded packet as one line in tcpdump's
// familiar style, with tshark's analysis verdicts appended in brackets:
//
//	08:58:52.365339 IP 10.77.0.1.49852 > 10.77.0.2.8080: Flags [P.], seq 1:78, ack 1, win 63, options [nop,nop,TS val 1 ecr 2], length 77 [TCP Retransmission]
//
// Sequence and acknowledgment numbers are relative, as tshark shows them
// (the SYN is seq 0). It is used by `wiresleuth packets` and for the
// evidence lines of findings. Output is plain ASCII built from decoded
// numbers and addresses only, never from payload bytes.
package pktline

import (
	"strconv"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// TimeFormat selects how the timestamp is written.
type TimeFormat uint8

const (
	TimeOfDay TimeFormat = iota // 15:04:05.000000 (UTC), as tcpdump
	DateTime                    // 2006-01-02 15:04:05.000000 (UTC), as tcpdump -tttt
	Epoch                       // seconds since the epoch, as tcpdump -tt
	Relative                    // seconds since the first frame
)

// Options control the rendering.
type Options struct {
	Time  TimeFormat
	First capture.Time // reference for Relative
}

// Append renders p (with its TCP annotation, or nil) to b.
func Append(b []byte, p *packet.Packet, a *tcp.Annotation, o Options) []byte {
	b = appendTime(b, p.Time, o)
	b = append(b, ' ')
	if p.IPVersion == 0 {
		return appendNonIP(b, p)
	}
	if p.IPVersion == 4 {
		b = append(b, "IP "...)
	} else {
		b = append(b, "IP6 "...)
	}
	switch {
	case p.Frag == packet.FragmentPart:
		b = appendAddr(b, p.Src, 0, false)
		b = append(b, " > "...)
		b = appendAddr(b, p.Dst, 0, false)
		b = append(b, ": ip-proto-"...)
		b = strconv.AppendUint(b, uint64(p.Proto), 10)
		b = append(b, " fragment, id "...)
		b = strconv.AppendUint(b, uint64(p.IPID), 10)
		b = append(b, ", length "...)
		b = strconv.AppendInt(b, int64(p.IPLen-p.IPHdrLen), 10)
	case p.TCP != nil:
		b = appendTCP(b, p, a)
	case p.UDP != nil:
		b = appendAddr(b, p.Src, p.SrcPort, true)
		b = append(b, " > "...)
		b = appendAddr(b, p.Dst, p.DstPort, true)
		b = append(b, ": UDP, length "...)
		b = strconv.AppendInt(b, int64(p.PayloadLen), 10)
	case p.ICMP != nil:
		b = appendAddr(b, p.Src, 0, false)
		b = append(b, " > "...)
		b = appendAddr(b, p.Dst, 0, false)
		b = append(b, ": "...)
		b = appendICMP(b, p)
	default:
		b = appendAddr(b, p.Src, 0, false)
		b = append(b, " > "...)
		b = appendAddr(b, p.Dst, 0, false)
		b = append(b, ": ip-proto-"...)
		b = strconv.AppendUint(b, uint64(p.Proto), 10)
		b = append(b, ", length "...)
		b = strconv.AppendInt(b, int64(p.IPLen-p.IPHdrLen), 10)
	}
	if p.Problem != packet.NoProblem {
		b = append(b, " ["...)
		b = append(b, p.Problem.String()...)
		b = append(b, ']')
	}
	if p.NumEncap > 0 {
		e := &p.Encap[p.NumEncap-1]
		b = append(b, " (in "...)
		b = append(b, encapName(e.Kind)...)
		b = append(b, ' ')
		b = appendAddr(b, e.Src, 0, false)
		b = append(b, " > "...)
		b = appendAddr(b, e.Dst, 0, false)
		if e.ID != 0 {
			b = append(b, " id "...)
			b = strconv.AppendUint(b, uint64(e.ID), 10)
		}
		b = append(b, ')')
	}
	return b
}

// String renders one packet with default options.
func String(p *packet.Packet, a *tcp.Annotation) string {
	return string(Append(nil, p, a, Options{}))
}

func appendTime(b []byte, t capture.Time, o Options) []byte {
	switch o.Time {
	case Epoch:
		return appendMicros(b, int64(t))
	case Relative:
		return appendMicros(b, int64(t.Sub(o.First)))
	case DateTime:
		return t.UTC().AppendFormat(b, "2006-01-02 15:04:05.000000")
	}
	return t.UTC().AppendFormat(b, "15:04:05.000000")
}

// appendMicros writes nanoseconds as seconds with six decimals.
func appendMicros(b []byte, ns int64) []byte {
	if ns < 0 {
		b = append(b, '-')
		ns = -ns
	}
	b = strconv.AppendInt(b, ns/1e9, 10)
	b = append(b, '.')
	us := (ns % 1e9) / 1e3
	for d := int64(1e5); d > 0; d /= 10 {
		b = append(b, byte('0'+us/d%10))
	}
	return b
}

func appendAddr(b []byte, a interface{ AppendTo([]byte) []byte }, port uint16, withPort bool) []byte {
	b = a.AppendTo(b)
	if withPort {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(port), 10)
	}
	return b
}

func appendTCP(b []byte, p *packet.Packet, a *tcp.Annotation) []byte {
	t := p.TCP
	b = appendAddr(b, p.Src, p.SrcPort, true)
	b = append(b, " > "...)
	b = appendAddr(b, p.Dst, p.DstPort, true)
	b = append(b, ": Flags ["...)
	b = AppendFlags(b, t.Flags())
	b = append(b, ']')
	seq, ack := t.Seq(), t.Ack()
	if a != nil {
		seq, ack = a.RelSeq, a.RelAck
	}
	if p.PayloadLen > 0 || t.Flags()&(header.FlagSYN|header.FlagFIN|header.FlagRST) != 0 {
		b = append(b, ", seq "...)
		b = strconv.AppendUint(b, uint64(seq), 10)
		if p.PayloadLen > 0 {
			b = append(b, ':')
			b = strconv.AppendUint(b, uint64(seq+uint32(p.PayloadLen)), 10)
		}
	}
	if t.Flags()&header.FlagACK != 0 {
		b = append(b, ", ack "...)
		b = strconv.AppendUint(b, uint64(ack), 10)
	}
	b = append(b, ", win "...)
	b = strconv.AppendUint(b, uint64(t.Window()), 10)
	if t.HeaderLen() > header.TCPMinLen {
		b = append(b, ", options ["...)
		b = appendOptions(b, t.Options())
		b = append(b, ']')
	}
	b = append(b, ", length "...)
	b = strconv.AppendInt(b, int64(p.PayloadLen), 10)
	if a != nil {
		b = AppendTags(b, a)
	}
	return b
}

// AppendTags appends tshark's Info-column analysis tags, in the order
// tshark displays them.
func AppendTags(b []byte, a *tcp.Annotation) []byte {
	f := a.Flags
	tag := func(s string) { b = append(b, " ["...); b = append(b, s...); b = append(b, ']') }
	// tshark prepends each tag as it prints it, so the display order is the
	// reverse of its print order.
	if f&tcp.ZeroWindowProbeAck != 0 {
		tag("TCP ZeroWindowProbeAck")
	}
	if f&tcp.ZeroWindow != 0 {
		tag("TCP ZeroWindow")
	}
	if f&tcp.ZeroWindowProbe != 0 {
		tag("TCP ZeroWindowProbe")
	}
	if f&tcp.DuplicateAck != 0 {
		b = append(b, " [TCP Dup ACK "...)
		b = strconv.AppendInt(b, a.DupAckFrame, 10)
		b = append(b, '#')
		b = strconv.AppendInt(b, int64(a.DupAckNum), 10)
		b = append(b, ']')
	}
	if f&tcp.KeepAliveAck != 0 {
		tag("TCP Keep-Alive ACK")
	}
	if f&tcp.KeepAlive != 0 {
		tag("TCP Keep-Alive")
	}
	if f&tcp.WindowFull != 0 {
		tag("TCP Window Full")
	}
	if f&tcp.WindowUpdate != 0 {
		tag("TCP Window Update")
	}
	if f&tcp.AckLostSegment != 0 {
		tag("TCP ACKed unseen segment")
	}
	if f&tcp.LostSegment != 0 {
		tag("TCP Previous segment not captured")
	}
	if f&tcp.OutOfOrder != 0 {
		tag("TCP Out-Of-Order")
	}
	switch {
	case f&tcp.SpuriousRetransmission != 0:
		tag("TCP Spurious Retransmission")
	case f&tcp.FastRetransmission != 0:
		tag("TCP Fast Retransmission")
	case f&tcp.Retransmission != 0:
		tag("TCP Retransmission")
	}
	if f&tcp.ReusedPorts != 0 {
		tag("TCP Port numbers reused")
	}
	return b
}

func appendOptions(b []byte, opts []byte) []byte {
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	var bad bool
	header.ForEachOption(opts, func(kind uint8, data []byte) bool {
		sep()
		switch {
		case kind == header.OptNOP:
			b = append(b, "nop"...)
		case kind == header.OptEnd:
			b = append(b, "eol"...)
		case kind == header.OptMSS && len(data) == 2:
			b = append(b, "mss "...)
			b = strconv.AppendUint(b, uint64(data[0])<<8|uint64(data[1]), 10)
		case kind == header.OptWScale && len(data) == 1:
			b = append(b, "wscale "...)
			b = strconv.AppendUint(b, uint64(data[0]), 10)
		case kind == header.OptSACKPermitted:
			b = append(b, "sackOK"...)
		case kind == header.OptSACK:
			b = append(b, "sack "...)
			b = strconv.AppendInt(b, int64(len(data)/8), 10)
		case kind == header.OptTimestamps && len(data) == 8:
			b = append(b, "TS val "...)
			b = strconv.AppendUint(b, uint64(be32(data)), 10)
			b = append(b, " ecr "...)
			b = strconv.AppendUint(b, uint64(be32(data[4:])), 10)
		case kind == header.OptFastOpen:
			b = append(b, "tfo"...)
		case kind == header.OptMPTCP:
			b = append(b, "mptcp"...)
		case kind == header.OptMD5:
			b = append(b, "md5"...)
		default:
			b = append(b, "opt-"...)
			b = strconv.AppendUint(b, uint64(kind), 10)
		}
		return true
	}, &bad)
	if bad {
		sep()
		b = append(b, "bad opts"...)
	}
	return b
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func encapName(k packet.Layers) string {
	switch k {
	case packet.LayerVXLAN:
		return "vxlan"
	case packet.LayerGeneve:
		return "geneve"
	case packet.LayerGRE:
		return "gre"
	case packet.LayerIPinIP:
		return "ip-in-ip"
	case packet.LayerTeredo:
		return "teredo"
	case packet.LayerGTP:
		return "gtp-u"
	case packet.LayerAYIYA:
		return "ayiya"
	}
	return "tunnel"
}

func appendNonIP(b []byte, p *packet.Packet) []byte {
	switch {
	case p.Layers&packet.LayerARP != 0:
		b = append(b, "ARP"...)
	case p.Problem == packet.UnknownLinkType:
		b = append(b, "link type "...)
		b = append(b, p.LinkType.String()...)
		b = append(b, " (not decoded)"...)
	case p.Problem != packet.NoProblem:
		b = append(b, "["...)
		b = append(b, p.Problem.String()...)
		b = append(b, "]"...)
	default:
		b = append(b, "non-IP"...)
	}
	b = append(b, ", length "...)
	return strconv.AppendInt(b, int64(p.FrameLen), 10)
}

// Flags returns a segment's flags as tcpdump prints them between the
// brackets of "Flags [...]": F S R P, '.' for ACK, then U E W.
func Flags(flags uint8) string {
	var b [9]byte
	return string(AppendFlags(b[:0], flags))
}

// AppendFlags appends Flags(flags) to b.
func AppendFlags(b []byte, flags uint8) []byte {
	n := len(b)
	for _, f := range [...]struct {
		bit uint8
		c   byte
	}{{header.FlagFIN, 'F'}, {header.FlagSYN, 'S'}, {header.FlagRST, 'R'}, {header.FlagPSH, 'P'}, {header.FlagACK, '.'}, {header.FlagURG, 'U'}, {header.FlagECE, 'E'}, {header.FlagCWR, 'W'}} {
		if flags&f.bit != 0 {
			b = append(b, f.c)
		}
	}
	if len(b) == n {
		b = append(b, "none"...)
	}
	return b
}
