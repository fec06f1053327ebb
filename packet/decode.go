package packet

import (
	"encoding/binary"
	"net/netip"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/header"
)

// Stats counts what a Decoder saw, for the capture summary.
type Stats struct {
	Frames      int64
	IP          int64 // frames with an IP layer
	NonIP       int64 // ARP and other link-layer protocols
	Problems    [16]int64
	UnknownLink map[capture.LinkType]int64
	Fragments   int64 // fragments seen
	Reassembled int64 // datagrams reassembled
}

// Decoder decodes frames. It is not safe for concurrent use; it holds the
// IP defragmentation state of one capture.
type Decoder struct {
	Stats Stats
	// FabricPathFCSByLength makes the decoder take the last 4 bytes of a
	// Cisco FabricPath frame as its FCS only when the inner IP packet
	// leaves room for them, as Zeek does. By default they are cut off
	// whatever the IP length says, as tshark does; captures that lost the
	// FCS then lose the end of each packet with it (Zeek's
	// cisco-fabric-path trace: half its UDP packets).
	FabricPathFCSByLength bool
	defrag                defragmenter
}

// NewDecoder returns a decoder with IP defragmentation bounded as described
// on DefragLimits.
func NewDecoder() *Decoder { return &Decoder{defrag: newDefragmenter()} }

// Decode decodes f into p, replacing p's contents. p's views point into
// f.Data (or, for a reassembled datagram, into the decoder) and are valid
// until the next Decode.
func (d *Decoder) Decode(f *capture.Frame, p *Packet) {
	p.reset(f)
	d.Stats.Frames++
	data := f.Data
	if f.FCSLen > 0 && len(data) == f.OrigLen && len(data) >= f.FCSLen {
		data = data[:len(data)-f.FCSLen]
	}
	d.link(f.LinkType, data, p)
	switch {
	case p.IPVersion != 0:
		d.Stats.IP++
	case p.Problem == NotIP:
		d.Stats.NonIP++
	}
	if p.Problem != NoProblem && p.Problem != NotIP {
		d.Stats.Problems[p.Problem]++
		if p.Problem == UnknownLinkType {
			if d.Stats.UnknownLink == nil {
				d.Stats.UnknownLink = map[capture.LinkType]int64{}
			}
			d.Stats.UnknownLink[f.LinkType]++
		}
	}
}

func (d *Decoder) link(lt capture.LinkType, b []byte, p *Packet) {
	switch lt {
	case capture.LinkEthernet:
		d.ethernet(b, p, 0, true)
	case capture.LinkRaw:
		d.rawIP(b, p, 0)
	case capture.LinkIPv4, capture.LinkIPv6:
		d.rawIP(b, p, 0)
	case capture.LinkNull, capture.LinkLoop:
		if len(b) < 4 {
			p.Problem = TruncatedLink
			return
		}
		// The address family is in host order for NULL: accept either.
		af := binary.LittleEndian.Uint32(b)
		if af > 0xffff {
			af = binary.BigEndian.Uint32(b)
		}
		switch af {
		case 2:
			d.ip(b[4:], p, 0, false)
		case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			d.ip(b[4:], p, 0, false)
		default:
			p.Problem = NotIP
		}
	case capture.LinkLinuxSLL:
		if len(b) < header.SLLLen {
			p.Problem = TruncatedLink
			return
		}
		s := header.SLL(b)
		p.Layers |= LayerSLL
		p.sllDirection(s.PacketType())
		d.etherType(s.Protocol(), b[header.SLLLen:], p, 0, true)
	case capture.LinkLinuxSLL2:
		if len(b) < header.SLL2Len {
			p.Problem = TruncatedLink
			return
		}
		s := header.SLL2(b)
		p.Layers |= LayerSLL
		p.sllDirection(uint16(s.PacketType()))
		d.etherType(s.Protocol(), b[header.SLL2Len:], p, 0, true)
	case capture.LinkRadiotap:
		if len(b) < 4 {
			p.Problem = TruncatedLink
			return
		}
		n := int(binary.LittleEndian.Uint16(b[2:]))
		if n < 8 || n > len(b) {
			p.Problem = TruncatedLink
			return
		}
		d.ieee80211(b[n:], p)
	case capture.LinkIEEE802_11:
		d.ieee80211(b, p)
	default:
		p.Problem = UnknownLinkType
	}
}

func (p *Packet) sllDirection(t uint16) {
	if p.Direction != capture.DirUnknown {
		return
	}
	if t == header.PacketOutgoing {
		p.Direction = capture.DirOutbound
	} else if t <= header.PacketOtherHost {
		p.Direction = capture.DirInbound
	}
}

func (d *Decoder) ethernet(b []byte, p *Packet, depth int, outer bool) {
	if len(b) < header.EthernetLen {
		p.Problem = TruncatedLink
		return
	}
	e := header.Ethernet(b)
	if outer {
		p.SrcMAC, p.DstMAC = e.Src(), e.Dst()
		p.Layers |= LayerEthernet
	} else {
		p.InnerSrcMAC, p.InnerDstMAC, p.HasInnerMAC = e.Src(), e.Dst(), true
	}
	t := e.EtherType()
	if t < 0x0600 { // 802.3 length field: LLC follows, not IP
		p.Problem = NotIP
		return
	}
	d.etherType(t, b[header.EthernetLen:], p, depth, outer)
}

// etherType continues after a link header whose protocol field is t.
func (d *Decoder) etherType(t uint16, b []byte, p *Packet, depth int, outer bool) {
	for range 8 { // tags and labels stacked deeper than this are not real
		switch t {
		case header.EtherTypeIPv4, header.EtherTypeIPv6:
			d.ip(b, p, depth, true)
			return
		case header.EtherTypeVLAN, header.EtherTypeQinQ, header.EtherTypeQinQOld:
			if len(b) < header.VLANTagLen {
				p.Problem = TruncatedLink
				return
			}
			v := header.VLAN(b)
			p.Layers |= LayerVLAN
			if outer && p.NumVLAN < len(p.VLANs) {
				p.VLANs[p.NumVLAN] = v.ID()
				p.VLANTPIDs[p.NumVLAN] = t
				p.NumVLAN++
			}
			t, b = v.EtherType(), b[header.VLANTagLen:]
		case header.EtherTypeMPLS, header.EtherTypeMPLSMcast:
			p.Layers |= LayerMPLS
			for {
				if len(b) < 4 {
					p.Problem = TruncatedLink
					return
				}
				bos := header.MPLS(b).BottomOfStack()
				b = b[4:]
				if bos {
					break
				}
			}
			if len(b) == 0 {
				p.Problem = TruncatedLink
				return
			}
			switch b[0] >> 4 {
			case 4, 6:
				d.ip(b, p, depth, true)
			case 0: // pseudowire control word, then an Ethernet frame
				if len(b) < 4 {
					p.Problem = TruncatedLink
					return
				}
				d.ethernet(b[4:], p, depth, false)
			default:
				p.Problem = NotIP
			}
			return
		case header.EtherTypePPPoE:
			if len(b) < 8 {
				p.Problem = TruncatedLink
				return
			}
			p.Layers |= LayerPPPoE
			switch binary.BigEndian.Uint16(b[6:]) {
			case 0x0021:
				t = header.EtherTypeIPv4
			case 0x0057:
				t = header.EtherTypeIPv6
			default:
				p.Problem = NotIP
				return
			}
			b = b[8:]
		case header.EtherTypeFabricPath:
			// FTag/TTL, then the original Ethernet frame, then the
			// FabricPath frame's own FCS.
			if d.FabricPathFCSByLength {
				// The IP length, not a 4-byte cut, decides where the
				// packet ends; up to 4 trailing bytes are the FCS.
				if len(b) < 2+header.EthernetLen {
					p.Problem = TruncatedLink
					return
				}
				d.ethernet(b[2:], p, depth, false)
				p.Padding = max(0, p.Padding-4)
				return
			}
			if len(b) < 2+header.EthernetLen+4 {
				p.Problem = TruncatedLink
				return
			}
			d.ethernet(b[2:len(b)-4], p, depth, false)
			return
		case header.EtherTypeARP:
			p.Layers |= LayerARP
			p.Problem = NotIP
			return
		default:
			p.Problem = NotIP
			return
		}
	}
	p.Problem = TooDeep
}

// ieee80211 decodes an 802.11 data frame's LLC/SNAP payload.
func (d *Decoder) ieee80211(b []byte, p *Packet) {
	p.Layers |= Layer80211
	if len(b) < 24 {
		p.Problem = TruncatedLink
		return
	}
	fc0, fc1 := b[0], b[1]
	if (fc0>>2)&3 != 2 { // not a data frame
		p.Problem = NotIP
		return
	}
	if fc1&0x40 != 0 {
		p.Problem = Encrypted
		return
	}
	n := 24
	if fc1&3 == 3 {
		n += 6
	}
	if fc0&0x80 != 0 { // QoS data
		n += 2
		if fc1&0x80 != 0 {
			n += 4
		}
	}
	if fc0&0x40 != 0 { // null function: no payload
		p.Problem = NotIP
		return
	}
	if len(b) < n+8 {
		p.Problem = TruncatedLink
		return
	}
	llc := b[n:]
	if llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 {
		p.Problem = NotIP
		return
	}
	d.etherType(binary.BigEndian.Uint16(llc[6:]), llc[8:], p, 0, true)
}

func (d *Decoder) rawIP(b []byte, p *Packet, depth int) {
	if len(b) == 0 {
		p.Problem = TruncatedIP
		return
	}
	d.ip(b, p, depth, false)
}

// ip decodes an IPv4 or IPv6 packet. linkFramed says b is the rest of a
// link frame, so bytes beyond the IP length are link padding.
func (d *Decoder) ip(b []byte, p *Packet, depth int, linkFramed bool) {
	if len(b) == 0 {
		p.Problem = TruncatedIP
		return
	}
	switch b[0] >> 4 {
	case 4:
		d.ipv4(b, p, depth, linkFramed)
	case 6:
		d.ipv6(b, p, depth, linkFramed)
	default:
		p.Problem = MalformedIP
	}
}

// pushEncap moves the packet's current IP/transport identity into the
// tunnel list before the inner packet overwrites it.
func (p *Packet) pushEncap(kind Layers, id uint32) bool {
	if p.NumEncap == MaxEncap {
		p.Problem = TooDeep
		return false
	}
	dgLen := p.IPLen
	if p.Frag == Reassembled && p.UDP != nil {
		dgLen = p.IPHdrLen + len(p.UDP)
	}
	p.Encap[p.NumEncap] = Encap{Kind: kind, Src: p.Src, Dst: p.Dst, TTL: p.TTL, IPID: uint16(p.IPID), IPLen: p.IPLen, Proto: p.Proto, SrcPort: p.SrcPort, DstPort: p.DstPort, ID: id,
		IP: p.IP, DatagramLen: dgLen, IPHdrLen: p.IPHdrLen, IPVersion: p.IPVersion, UDP: p.UDP, transport: p.transport}
	p.NumEncap++
	p.Layers |= kind
	p.IPVersion, p.Src, p.Dst, p.IP = 0, netip.Addr{}, netip.Addr{}, nil
	p.Proto, p.SrcPort, p.DstPort = 0, 0, 0
	p.TCP, p.UDP, p.ICMP = nil, nil, nil
	p.Payload, p.PayloadLen, p.transport = nil, 0, nil
	p.Frag = NotFragmented
	return true
}

func (d *Decoder) ipv4(b []byte, p *Packet, depth int, linkFramed bool) {
	if len(b) < header.IPv4MinLen {
		p.Problem = TruncatedIP
		return
	}
	h := header.IPv4(b)
	hl := h.HeaderLen()
	if hl < header.IPv4MinLen {
		p.Problem = MalformedIP
		return
	}
	if hl > len(b) {
		p.Problem = TruncatedIP
		return
	}
	total := h.TotalLen()
	if total == 0 && len(b) > hl {
		// TSO: the sending host's capture sees the segment before the
		// NIC splits it and fills in the length; use what was captured.
		total = len(b)
	}
	if total < hl {
		p.Problem = MalformedIP
		return
	}
	p.Layers |= LayerIPv4
	p.IPVersion = 4
	p.Src, p.Dst = h.Src(), h.Dst()
	p.TTL, p.IPID, p.TOS, p.DF = h.TTL(), uint32(h.ID()), h.TOS(), h.DF()
	p.IPLen, p.IPHdrLen = total, hl
	end := min(total, len(b))
	p.IP = b[:end]
	if linkFramed && len(b) > total {
		p.Padding = len(b) - total
	}
	p.Proto = h.Protocol()
	if h.IsFragment() {
		d.Stats.Fragments++
		p.Frag = FragmentPart
		if end < total {
			return // a cut fragment cannot be reassembled
		}
		whole, ok := d.defrag.addV4(p, h, b[hl:end])
		if !ok {
			return
		}
		d.Stats.Reassembled++
		p.Frag = Reassembled
		d.transport(whole, len(whole), p, depth)
		return
	}
	d.transport(b[hl:end], total-hl, p, depth)
}

func (d *Decoder) ipv6(b []byte, p *Packet, depth int, linkFramed bool) {
	if len(b) < header.IPv6Len {
		p.Problem = TruncatedIP
		return
	}
	h := header.IPv6(b)
	// A zero payload length (a jumbogram, or TSO on the sending host) is
	// taken at its word, as tshark does: what follows is padding.
	total := header.IPv6Len + h.PayloadLen()
	p.Layers |= LayerIPv6
	p.IPVersion = 6
	p.Src, p.Dst = h.Src(), h.Dst()
	p.TTL, p.TOS, p.IPID, p.DF = h.HopLimit(), h.TrafficClass(), 0, false
	p.IPLen = total
	end := min(total, len(b))
	p.IP = b[:end]
	if linkFramed && len(b) > total {
		p.Padding = len(b) - total
	}
	next, off := h.NextHeader(), header.IPv6Len
	var frag header.IPv6Fragment
	// Walk the extension headers (at most 16: more is not a real packet).
	for range 16 {
		var n int
		switch next {
		case header.ProtoHopByHop, header.ProtoRouting, header.ProtoDstOpts, header.ProtoMobility:
			n = -1 // length in 8-byte units, not counting the first 8
		case header.ProtoAH:
			n = -2 // length in 4-byte units, not counting the first 2
		case header.ProtoFragment:
			n = 8
		}
		if n == 0 {
			break
		}
		if off+8 > end {
			p.Problem = TruncatedIP
			return
		}
		switch n {
		case -1:
			n = (int(b[off+1]) + 1) * 8
		case -2:
			n = (int(b[off+1]) + 2) * 4
		default:
			frag = header.IPv6Fragment(b[off : off+8])
		}
		next, off = b[off], off+n
	}
	if off > end {
		p.Problem = TruncatedIP
		return
	}
	p.IPHdrLen = off
	p.Proto = next
	if frag != nil {
		p.IPID = frag.ID()
		if frag.Offset() != 0 || frag.More() {
			d.Stats.Fragments++
			p.Frag = FragmentPart
			if end < total {
				return
			}
			whole, ok := d.defrag.addV6(p, frag, b[off:end])
			if !ok {
				return
			}
			d.Stats.Reassembled++
			p.Frag = Reassembled
			d.transport(whole, len(whole), p, depth)
			return
		}
	}
	if next == header.ProtoESP {
		p.Problem = Encrypted
		return
	}
	d.transport(b[off:end], total-off, p, depth)
}

// transport decodes the IP payload b (captured part) whose length on the
// wire is n.
func (d *Decoder) transport(b []byte, n int, p *Packet, depth int) {
	switch p.Proto {
	case header.ProtoTCP:
		if len(b) < header.TCPMinLen {
			p.Problem = TruncatedTransport
			return
		}
		t := header.TCP(b)
		hl := t.HeaderLen()
		if hl < header.TCPMinLen || hl > n {
			p.Problem = MalformedTransport
			return
		}
		if hl > len(b) {
			p.Problem = TruncatedTransport
			return
		}
		p.Layers |= LayerTCP
		p.TCP = t[:min(len(b), n)]
		p.SrcPort, p.DstPort = t.SrcPort(), t.DstPort()
		p.Payload = b[hl:min(len(b), n)]
		p.PayloadLen = n - hl
		if len(b) >= n {
			p.transport = b[:n]
		}
	case header.ProtoUDP:
		if len(b) < header.UDPLen {
			p.Problem = TruncatedTransport
			return
		}
		u := header.UDP(b)
		p.Layers |= LayerUDP
		p.UDP = u[:min(len(b), n)]
		p.SrcPort, p.DstPort = u.SrcPort(), u.DstPort()
		ulen := u.Length()
		if ulen < header.UDPLen || ulen > n {
			ulen = n // a bad length field: trust IP, as tshark does
		}
		p.Payload = b[header.UDPLen:min(len(b), ulen)]
		p.PayloadLen = ulen - header.UDPLen
		if len(b) >= ulen {
			p.transport = b[:ulen]
		}
		d.udpTunnel(p, depth)
	case header.ProtoICMP, header.ProtoICMPv6:
		if len(b) < header.ICMPLen {
			p.Problem = TruncatedTransport
			return
		}
		ic := header.ICMP(b[:min(len(b), n)])
		if p.Proto == header.ProtoICMP {
			p.Layers |= LayerICMP
		} else {
			p.Layers |= LayerICMPv6
		}
		p.ICMP = ic
		p.Payload = ic.Body()
		p.PayloadLen = n - header.ICMPLen
		if len(b) >= n {
			p.transport = b[:n]
		}
		if header.IsError(p.Proto == header.ProtoICMPv6, ic.Type()) {
			p.Quoted = quote(ic.Body())
		}
	case header.ProtoGRE:
		if len(b) < header.GREMinLen {
			p.Problem = TruncatedTransport
			return
		}
		g := header.GRE(b)
		hl := g.HeaderLen()
		if hl > len(b) {
			p.Problem = TruncatedTransport
			return
		}
		inner := b[hl:]
		switch g.Protocol() {
		case header.EtherTypeIPv4, header.EtherTypeIPv6:
			if d.enter(p, LayerGRE, g.Key(), depth) {
				d.ip(inner, p, depth+1, false)
			}
		case header.EtherTypeTEB:
			if d.enter(p, LayerGRE, g.Key(), depth) {
				d.ethernet(inner, p, depth+1, false)
			}
		default:
			p.Layers |= LayerGRE
		}
	case header.ProtoIPIP, header.ProtoIPv6:
		if d.enter(p, LayerIPinIP, 0, depth) {
			d.ip(b, p, depth+1, false)
		}
	}
}

func (d *Decoder) enter(p *Packet, kind Layers, id uint32, depth int) bool {
	if depth+1 >= MaxEncap {
		p.Problem = TooDeep
		return false
	}
	return p.pushEncap(kind, id)
}

// udpTunnel decapsulates the UDP-based tunnels tshark decodes by default,
// recognised by port and a plausible header.
func (d *Decoder) udpTunnel(p *Packet, depth int) {
	b := p.Payload
	port := p.DstPort
	switch {
	case port == header.PortVXLAN && len(b) >= header.VXLANLen+header.EthernetLen && header.VXLAN(b).ValidVNI():
		if d.enter(p, LayerVXLAN, header.VXLAN(b).VNI(), depth) {
			d.ethernet(b[header.VXLANLen:], p, depth+1, false)
		}
	case port == header.PortGeneve && len(b) >= header.GeneveMinLen && header.Geneve(b).Version() == 0:
		g := header.Geneve(b)
		hl := g.HeaderLen()
		if hl > len(b) {
			return
		}
		switch g.Protocol() {
		case header.EtherTypeTEB:
			if d.enter(p, LayerGeneve, g.VNI(), depth) {
				d.ethernet(b[hl:], p, depth+1, false)
			}
		case header.EtherTypeIPv4, header.EtherTypeIPv6:
			if d.enter(p, LayerGeneve, g.VNI(), depth) {
				d.ip(b[hl:], p, depth+1, false)
			}
		}
	case (port == header.PortGTPU || p.SrcPort == header.PortGTPU) && len(b) >= 8 && b[0]>>5 == 1 && b[0]&0x10 != 0 && b[1] == 0xff:
		n := 8
		if b[0]&0x07 != 0 {
			n = 12
			// Extension headers: each is a length (in 4-byte units) and
			// ends with the next type.
			for i := 0; len(b) >= n && b[n-1] != 0 && i < 8; i++ {
				if len(b) < n+1 || b[n] == 0 {
					return
				}
				n += int(b[n]) * 4
			}
		}
		if n < len(b) && (b[n]>>4 == 4 || b[n]>>4 == 6) && d.enter(p, LayerGTP, binary.BigEndian.Uint32(b[4:]), depth) {
			d.ip(b[n:], p, depth+1, false)
		}
	case (port == header.PortAYIYA || p.SrcPort == header.PortAYIYA) && len(b) >= 8 && b[2]&0x0f == 1:
		// AYIYA forward: identity of 2^IDLen bytes and a signature of
		// SigLen words follow the 8-byte header; next header 41 or 4.
		n := 8 + 1<<(b[0]>>4) + int(b[1]>>4)*4
		if n < len(b) && (b[3] == header.ProtoIPv6 || b[3] == header.ProtoIPIP) && d.enter(p, LayerAYIYA, 0, depth) {
			d.ip(b[n:], p, depth+1, false)
		}
	case port == header.PortTeredo || p.SrcPort == header.PortTeredo:
		// Optional authentication (0x0001) and origin indication (0x0000)
		// headers, then an IPv6 packet.
		if len(b) >= 4 && b[0] == 0 && b[1] == 1 {
			n := 13 + int(b[2]) + int(b[3])
			if n > len(b) {
				return
			}
			b = b[n:]
		}
		if len(b) >= 8 && b[0] == 0 && b[1] == 0 {
			b = b[8:]
		}
		if len(b) >= header.IPv6Len && b[0]>>4 == 6 && header.IPv6(b).PayloadLen()+header.IPv6Len <= len(b) && d.enter(p, LayerTeredo, 0, depth) {
			d.ip(b, p, depth+1, false)
		}
	}
}

// quote decodes the IP header and first transport bytes an ICMP error
// carries.
func quote(b []byte) (q Quoted) {
	if len(b) < 1 {
		return
	}
	var rest []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < header.IPv4MinLen {
			return
		}
		h := header.IPv4(b)
		hl := h.HeaderLen()
		if hl < header.IPv4MinLen || hl > len(b) {
			return
		}
		q.Src, q.Dst, q.Proto, q.IPID, q.TTL, q.IPLen = h.Src(), h.Dst(), h.Protocol(), h.ID(), h.TTL(), h.TotalLen()
		rest = b[hl:]
	case 6:
		if len(b) < header.IPv6Len {
			return
		}
		h := header.IPv6(b)
		q.Src, q.Dst, q.Proto, q.TTL, q.IPLen = h.Src(), h.Dst(), h.NextHeader(), h.HopLimit(), header.IPv6Len+h.PayloadLen()
		rest = b[header.IPv6Len:]
	default:
		return
	}
	q.Valid = true
	if (q.Proto == header.ProtoTCP || q.Proto == header.ProtoUDP) && len(rest) >= 4 {
		q.SrcPort = binary.BigEndian.Uint16(rest)
		q.DstPort = binary.BigEndian.Uint16(rest[2:])
		if q.Proto == header.ProtoTCP && len(rest) >= 8 {
			q.Seq, q.HasSeq = binary.BigEndian.Uint32(rest[4:]), true
			q.TCP = header.TCP(rest)
		}
	}
	return
}
