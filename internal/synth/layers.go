package synth

import (
	"encoding/binary"
	"net/netip"
)

// A Layer is one header (or the payload) of a frame. Layers are listed
// outermost first and encoded by Encode; only this package's types are
// layers.
type Layer interface {
	headerLen() int
	// encode writes the header into h; payload holds the already encoded
	// layers after it; s is the whole stack and i this layer's index.
	encode(h, payload []byte, s []Layer, i int)
}

// etherTyped layers can follow a field holding an EtherType.
type etherTyped interface{ etherType() uint16 }

// ipProtoed layers can follow a field holding an IP protocol number.
type ipProtoed interface{ ipProto() uint8 }

// LinkType is a pcap LINKTYPE_ value.
type LinkType uint32

// Link types this package writes frames for.
const (
	LinkNull      LinkType = 0   // BSD loopback, host byte order family
	LinkEthernet  LinkType = 1   // Ethernet, possibly 802.1Q/QinQ tagged
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6
	LinkLoop      LinkType = 108 // OpenBSD loopback, network byte order family
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1 (tcpdump -i any)
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// MAC is an Ethernet address.
type MAC [6]byte

// EtherTypes and IP protocol numbers filled in automatically.
const (
	EtherTypeIPv4     = 0x0800
	EtherTypeIPv6     = 0x86dd
	EtherTypeDot1Q    = 0x8100
	EtherTypeQinQ     = 0x88a8
	EtherTypeEthernet = 0x6558 // transparent Ethernet bridging (GRE, Geneve)

	ProtoICMPv4 = 1
	ProtoIPIP   = 4
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoIPv6   = 41
	ProtoGRE    = 47
	ProtoICMPv6 = 58
)

// Encode appends the frame made of layers to dst and returns it. Zero-valued
// length, type and checksum fields are computed; an Ethernet first layer
// with Pad set is padded with zeros to 60 bytes.
func Encode(dst []byte, layers ...Layer) []byte {
	var offsBuf [16]int
	offs := offsBuf[:0]
	n := 0
	for _, l := range layers {
		offs = append(offs, n)
		n += l.headerLen()
	}
	start := len(dst)
	dst = grow(dst, n)
	b := dst[start:]
	for i := len(layers) - 1; i >= 0; i-- {
		end := n
		if i+1 < len(layers) {
			end = offs[i+1]
		}
		layers[i].encode(b[offs[i]:end], b[end:], layers, i)
	}
	if len(layers) > 0 {
		if e, ok := layers[0].(*Ethernet); ok && e.Pad && n < 60 {
			dst = grow(dst, 60-n) // grow zeroes the padding
		}
	}
	return dst
}

// grow extends b by n zeroed bytes.
func grow(b []byte, n int) []byte {
	l := len(b)
	if cap(b)-l >= n {
		b = b[:l+n]
		clear(b[l:])
		return b
	}
	nb := make([]byte, l+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}

func next(s []Layer, i int) Layer {
	if i+1 < len(s) {
		return s[i+1]
	}
	return nil
}

func nextEtherType(s []Layer, i int) uint16 {
	if t, ok := next(s, i).(etherTyped); ok {
		return t.etherType()
	}
	return 0
}

func nextProto(s []Layer, i int) uint8 {
	if t, ok := next(s, i).(ipProtoed); ok {
		return t.ipProto()
	}
	return 59 // IPv6 "no next header"; also harmless for IPv4
}

// ipBefore returns the addresses of the nearest IP layer before i, for
// pseudo-header checksums.
func ipBefore(s []Layer, i int) (src, dst netip.Addr) {
	for j := i - 1; j >= 0; j-- {
		switch l := s[j].(type) {
		case *IPv4:
			return l.Src, l.Dst
		case *IPv6:
			return l.Src, l.Dst
		}
	}
	return netip.Addr{}, netip.Addr{}
}

// Payload is the application data at the end of a frame (or any bytes to
// place verbatim, such as a quoted packet in an ICMP error).
type Payload []byte

func (p Payload) headerLen() int                       { return len(p) }
func (p Payload) encode(h, _ []byte, _ []Layer, _ int) { copy(h, p) }

// Ethernet is an Ethernet II header.
type Ethernet struct {
	Dst, Src MAC
	Type     uint16 // 0: from the next layer
	Pad      bool   // pad the frame to 60 bytes (only as the first layer)
}

func (*Ethernet) headerLen() int    { return 14 }
func (*Ethernet) etherType() uint16 { return EtherTypeEthernet }
func (e *Ethernet) encode(h, _ []byte, s []Layer, i int) {
	copy(h[0:6], e.Dst[:])
	copy(h[6:12], e.Src[:])
	binary.BigEndian.PutUint16(h[12:], or16(e.Type, nextEtherType(s, i)))
}

// Dot1Q is an 802.1Q VLAN tag. Two in a row make QinQ: give the outer one
// TPID EtherTypeQinQ.
type Dot1Q struct {
	TPID     uint16 // the EtherType announcing this tag; 0: 0x8100
	Priority uint8
	DEI      bool
	VID      uint16
	Type     uint16 // 0: from the next layer
}

func (*Dot1Q) headerLen() int      { return 4 }
func (d *Dot1Q) etherType() uint16 { return or16(d.TPID, EtherTypeDot1Q) }
func (d *Dot1Q) encode(h, _ []byte, s []Layer, i int) {
	tci := uint16(d.Priority)<<13 | d.VID&0xfff
	if d.DEI {
		tci |= 1 << 12
	}
	binary.BigEndian.PutUint16(h, tci)
	binary.BigEndian.PutUint16(h[2:], or16(d.Type, nextEtherType(s, i)))
}

// SLL packet types (who the frame was for).
const (
	SLLHost      = 0 // to us
	SLLBroadcast = 1
	SLLMulticast = 2
	SLLOtherHost = 3
	SLLOutgoing  = 4 // sent by us
)

// SLL is a Linux cooked capture v1 header (LinkLinuxSLL).
type SLL struct {
	PacketType uint16
	HAType     uint16 // ARPHRD_ type; 0: 1 (Ethernet)
	Addr       MAC
	Protocol   uint16 // 0: from the next layer
}

func (*SLL) headerLen() int { return 16 }
func (l *SLL) encode(h, _ []byte, s []Layer, i int) {
	binary.BigEndian.PutUint16(h, l.PacketType)
	binary.BigEndian.PutUint16(h[2:], or16(l.HAType, 1))
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:12], l.Addr[:])
	binary.BigEndian.PutUint16(h[14:], or16(l.Protocol, nextEtherType(s, i)))
}

// SLL2 is a Linux cooked capture v2 header (LinkLinuxSLL2).
type SLL2 struct {
	Protocol   uint16 // 0: from the next layer
	IfIndex    uint32
	HAType     uint16 // 0: 1 (Ethernet)
	PacketType uint8
	Addr       MAC
}

func (*SLL2) headerLen() int { return 20 }
func (l *SLL2) encode(h, _ []byte, s []Layer, i int) {
	binary.BigEndian.PutUint16(h, or16(l.Protocol, nextEtherType(s, i)))
	binary.BigEndian.PutUint32(h[4:], l.IfIndex)
	binary.BigEndian.PutUint16(h[8:], or16(l.HAType, 1))
	h[10] = l.PacketType
	h[11] = 6
	copy(h[12:18], l.Addr[:])
}

// Null is the 4-byte address-family header of BSD loopback captures.
// LinkNull stores it in the writer's byte order (little endian here),
// LinkLoop in network byte order: set BigEndian for LinkLoop.
type Null struct {
	Family    uint32 // 0: 2 for IPv4, 30 (macOS AF_INET6) for IPv6
	BigEndian bool
}

func (*Null) headerLen() int { return 4 }
func (l *Null) encode(h, _ []byte, s []Layer, i int) {
	f := l.Family
	if f == 0 {
		switch next(s, i).(type) {
		case *IPv4:
			f = 2
		case *IPv6:
			f = 30
		}
	}
	if l.BigEndian {
		binary.BigEndian.PutUint32(h, f)
	} else {
		binary.LittleEndian.PutUint32(h, f)
	}
}

// IPv4 is an IPv4 header. Src and Dst must be IPv4 addresses.
type IPv4 struct {
	Src, Dst   netip.Addr
	DSCP       uint8 // 6 bits
	ECN        uint8 // 2 bits
	ID         uint16
	DF, MF     bool
	FragOffset int   // in bytes, a multiple of 8
	TTL        uint8 // 0: 64
	Protocol   uint8 // 0: from the next layer
	Options    []byte
	Length     uint16 // total length; 0: computed
	Checksum   Checksum
}

func (ip *IPv4) headerLen() int { return 20 + (len(ip.Options)+3)&^3 }
func (*IPv4) etherType() uint16 { return EtherTypeIPv4 }
func (*IPv4) ipProto() uint8    { return ProtoIPIP }
func (ip *IPv4) encode(h, payload []byte, s []Layer, i int) {
	h[0] = 0x40 | byte(len(h)/4)
	h[1] = ip.DSCP<<2 | ip.ECN&3
	binary.BigEndian.PutUint16(h[2:], or16(ip.Length, uint16(len(h)+len(payload))))
	binary.BigEndian.PutUint16(h[4:], ip.ID)
	ff := uint16(ip.FragOffset/8) & 0x1fff
	if ip.DF {
		ff |= 0x4000
	}
	if ip.MF {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], ff)
	h[8] = or8(ip.TTL, 64)
	proto := ip.Protocol
	if proto == 0 {
		proto = nextProto(s, i)
	}
	h[9] = proto
	a, b := ip.Src.As4(), ip.Dst.As4()
	copy(h[12:16], a[:])
	copy(h[16:20], b[:])
	copy(h[20:], ip.Options) // the rest stays zero: EOL padding
	ip.Checksum.put(h[10:], ^fold(sum(0, h)), 0)
}

// IPv6 is an IPv6 fixed header. Src and Dst must be IPv6 addresses.
type IPv6 struct {
	Src, Dst   netip.Addr
	DSCP       uint8
	ECN        uint8
	FlowLabel  uint32
	HopLimit   uint8  // 0: 64
	NextHeader uint8  // 0 (hop-by-hop) is taken from the next layer: use IPv6Ext for a real one
	Length     uint16 // payload length; 0: computed
}

func (*IPv6) headerLen() int    { return 40 }
func (*IPv6) etherType() uint16 { return EtherTypeIPv6 }
func (*IPv6) ipProto() uint8    { return ProtoIPv6 }
func (ip *IPv6) encode(h, payload []byte, s []Layer, i int) {
	tc := uint32(ip.DSCP<<2 | ip.ECN&3)
	binary.BigEndian.PutUint32(h, 6<<28|tc<<20|ip.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(h[4:], or16(ip.Length, uint16(len(payload))))
	nh := ip.NextHeader
	if nh == 0 {
		nh = nextProto(s, i)
	}
	h[6] = nh
	h[7] = or8(ip.HopLimit, 64)
	a, b := ip.Src.As16(), ip.Dst.As16()
	copy(h[8:24], a[:])
	copy(h[24:40], b[:])
}

// IPv6 extension header types for IPv6Ext.
const (
	IPv6HopByHop = 0
	IPv6Routing  = 43
	IPv6DestOpts = 60
)

// IPv6Ext is an IPv6 hop-by-hop, routing or destination-options header.
// Data follows the two-byte (next header, length) prefix; options headers
// are padded with PadN, others with zeros, to a multiple of 8 bytes.
type IPv6Ext struct {
	Type uint8
	Data []byte
}

func (e *IPv6Ext) headerLen() int { return (2 + len(e.Data) + 7) &^ 7 }
func (e *IPv6Ext) ipProto() uint8 { return e.Type }
func (e *IPv6Ext) encode(h, _ []byte, s []Layer, i int) {
	h[0] = nextProto(s, i)
	h[1] = byte(len(h)/8 - 1)
	copy(h[2:], e.Data)
	if pad := len(h) - 2 - len(e.Data); pad > 0 && e.Type != IPv6Routing {
		p := h[2+len(e.Data):]
		if pad == 1 {
			p[0] = 0 // Pad1
		} else {
			p[0], p[1] = 1, byte(pad-2) // PadN
		}
	}
}

// IPv6Fragment is an IPv6 fragment header.
type IPv6Fragment struct {
	NextHeader uint8 // 0: from the next layer
	Offset     int   // in bytes, a multiple of 8
	More       bool
	ID         uint32
}

func (*IPv6Fragment) headerLen() int { return 8 }
func (*IPv6Fragment) ipProto() uint8 { return 44 }
func (f *IPv6Fragment) encode(h, _ []byte, s []Layer, i int) {
	nh := f.NextHeader
	if nh == 0 {
		nh = nextProto(s, i)
	}
	h[0] = nh
	v := uint16(f.Offset/8) << 3
	if f.More {
		v |= 1
	}
	binary.BigEndian.PutUint16(h[2:], v)
	binary.BigEndian.PutUint32(h[4:], f.ID)
}

// UDP is a UDP header. A zero DstPort before VXLAN or Geneve becomes the
// protocol's well-known port.
type UDP struct {
	SrcPort, DstPort uint16
	Length           uint16 // 0: computed
	Checksum         Checksum
}

func (*UDP) headerLen() int { return 8 }
func (*UDP) ipProto() uint8 { return ProtoUDP }
func (u *UDP) encode(h, payload []byte, s []Layer, i int) {
	dp := u.DstPort
	if dp == 0 {
		switch next(s, i).(type) {
		case *VXLAN:
			dp = 4789
		case *Geneve:
			dp = 6081
		}
	}
	binary.BigEndian.PutUint16(h, u.SrcPort)
	binary.BigEndian.PutUint16(h[2:], dp)
	binary.BigEndian.PutUint16(h[4:], or16(u.Length, uint16(len(h)+len(payload))))
	src, dst := ipBefore(s, i)
	ps := pseudo(src, dst, ProtoUDP, len(h)+len(payload))
	c := ^fold(sum(sum(ps, h), payload))
	if c == 0 && src.Is4() {
		c = 0xffff // 0 means "no checksum" over IPv4
	}
	u.Checksum.put(h[6:], c, ps)
}

// TCP flags.
const (
	FIN = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// TCP is a TCP header.
type TCP struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            uint8
	Window           uint16
	Urgent           uint16
	Options          []TCPOption
	RawOptions       []byte // used verbatim (then zero-padded) instead of Options when set
	Checksum         Checksum
}

func (t *TCP) optLen() int {
	if t.RawOptions != nil {
		return len(t.RawOptions)
	}
	n := 0
	for _, o := range t.Options {
		n += o.len()
	}
	return n
}

func (t *TCP) headerLen() int { return 20 + (t.optLen()+3)&^3 }
func (*TCP) ipProto() uint8   { return ProtoTCP }
func (t *TCP) encode(h, payload []byte, s []Layer, i int) {
	binary.BigEndian.PutUint16(h, t.SrcPort)
	binary.BigEndian.PutUint16(h[2:], t.DstPort)
	binary.BigEndian.PutUint32(h[4:], t.Seq)
	binary.BigEndian.PutUint32(h[8:], t.Ack)
	h[12] = byte(len(h)/4) << 4
	h[13] = t.Flags
	binary.BigEndian.PutUint16(h[14:], t.Window)
	binary.BigEndian.PutUint16(h[18:], t.Urgent)
	if t.RawOptions != nil {
		copy(h[20:], t.RawOptions)
	} else {
		o := h[20:]
		for _, opt := range t.Options {
			o = o[opt.put(o):]
		}
	}
	src, dst := ipBefore(s, i)
	ps := pseudo(src, dst, ProtoTCP, len(h)+len(payload))
	t.Checksum.put(h[16:], ^fold(sum(sum(ps, h), payload)), ps)
}

// TCPOption is one TCP option; build them with the Opt functions.
type TCPOption struct {
	Kind uint8
	Data []byte // after kind and length; unused for EOL and NOP
}

func (o TCPOption) len() int {
	if o.Kind <= 1 {
		return 1
	}
	return 2 + len(o.Data)
}

func (o TCPOption) put(b []byte) int {
	b[0] = o.Kind
	if o.Kind <= 1 {
		return 1
	}
	b[1] = byte(2 + len(o.Data))
	copy(b[2:], o.Data)
	return 2 + len(o.Data)
}

// TCP option kinds.
const (
	OptKindEOL           = 0
	OptKindNOP           = 1
	OptKindMSS           = 2
	OptKindWScale        = 3
	OptKindSACKPermitted = 4
	OptKindSACK          = 5
	OptKindTimestamps    = 8
)

// OptNOP is a no-operation option (alignment).
func OptNOP() TCPOption { return TCPOption{Kind: OptKindNOP} }

// OptEOL is an end-of-options-list option.
func OptEOL() TCPOption { return TCPOption{Kind: OptKindEOL} }

// OptMSS is a maximum-segment-size option.
func OptMSS(mss uint16) TCPOption {
	return TCPOption{Kind: OptKindMSS, Data: binary.BigEndian.AppendUint16(nil, mss)}
}

// OptWScale is a window-scale option with the given shift count.
func OptWScale(shift uint8) TCPOption { return TCPOption{Kind: OptKindWScale, Data: []byte{shift}} }

// OptSACKPermitted is a SACK-permitted option.
func OptSACKPermitted() TCPOption { return TCPOption{Kind: OptKindSACKPermitted} }

// OptSACK is a SACK option; edges are left, right pairs of sequence numbers.
func OptSACK(edges ...uint32) TCPOption {
	d := make([]byte, 0, 4*len(edges))
	for _, e := range edges {
		d = binary.BigEndian.AppendUint32(d, e)
	}
	return TCPOption{Kind: OptKindSACK, Data: d}
}

// OptTimestamps is a timestamps option.
func OptTimestamps(val, ecr uint32) TCPOption {
	d := make([]byte, 8)
	binary.BigEndian.PutUint32(d, val)
	binary.BigEndian.PutUint32(d[4:], ecr)
	return TCPOption{Kind: OptKindTimestamps, Data: d}
}

// ICMPv4 is an ICMP header. Rest is the second word (identifier and
// sequence for echo, next-hop MTU for "fragmentation needed"). For errors,
// follow it with Quote of the offending packet.
type ICMPv4 struct {
	Type, Code uint8
	Rest       uint32
	Checksum   Checksum
}

func (*ICMPv4) headerLen() int { return 8 }
func (*ICMPv4) ipProto() uint8 { return ProtoICMPv4 }
func (c *ICMPv4) encode(h, payload []byte, _ []Layer, _ int) {
	h[0], h[1] = c.Type, c.Code
	binary.BigEndian.PutUint32(h[4:], c.Rest)
	c.Checksum.put(h[2:], ^fold(sum(sum(0, h), payload)), 0)
}

// ICMPv6 is an ICMPv6 header; Rest is the MTU for "packet too big".
type ICMPv6 struct {
	Type, Code uint8
	Rest       uint32
	Checksum   Checksum
}

func (*ICMPv6) headerLen() int { return 8 }
func (*ICMPv6) ipProto() uint8 { return ProtoICMPv6 }
func (c *ICMPv6) encode(h, payload []byte, s []Layer, i int) {
	h[0], h[1] = c.Type, c.Code
	binary.BigEndian.PutUint32(h[4:], c.Rest)
	src, dst := ipBefore(s, i)
	ps := pseudo(src, dst, ProtoICMPv6, len(h)+len(payload))
	c.Checksum.put(h[2:], ^fold(sum(sum(ps, h), payload)), ps)
}

// Quote encodes the packet given by layers (from its IP header on) and
// keeps its first n bytes (all when n <= 0), as an ICMP error quotes it.
func Quote(n int, layers ...Layer) Payload {
	b := Encode(nil, layers...)
	if n > 0 && n < len(b) {
		b = b[:n]
	}
	return b
}

// VXLAN is a VXLAN header (RFC 7348), carried in UDP to port 4789.
type VXLAN struct {
	VNI uint32
}

func (*VXLAN) headerLen() int { return 8 }
func (v *VXLAN) encode(h, _ []byte, _ []Layer, _ int) {
	h[0] = 0x08 // I flag: VNI valid
	binary.BigEndian.PutUint32(h[4:], v.VNI<<8)
}

// Geneve is a Geneve header (RFC 8926), carried in UDP to port 6081.
type Geneve struct {
	VNI      uint32
	Protocol uint16 // 0: from the next layer
	Options  []byte // a multiple of 4 bytes
	OAM      bool
	Critical bool
}

func (g *Geneve) headerLen() int { return 8 + (len(g.Options)+3)&^3 }
func (g *Geneve) encode(h, _ []byte, s []Layer, i int) {
	h[0] = byte(len(h)-8) / 4
	if g.OAM {
		h[1] |= 0x80
	}
	if g.Critical {
		h[1] |= 0x40
	}
	binary.BigEndian.PutUint16(h[2:], or16(g.Protocol, nextEtherType(s, i)))
	binary.BigEndian.PutUint32(h[4:], g.VNI<<8)
	copy(h[8:], g.Options)
}

// GRE is a GRE header (RFC 2784/2890) with optional checksum, key and
// sequence number.
type GRE struct {
	Protocol        uint16 // 0: from the next layer
	ChecksumPresent bool
	KeyPresent      bool
	Key             uint32
	SeqPresent      bool
	Seq             uint32
}

func (g *GRE) headerLen() int {
	n := 4
	for _, p := range []bool{g.ChecksumPresent, g.KeyPresent, g.SeqPresent} {
		if p {
			n += 4
		}
	}
	return n
}
func (*GRE) ipProto() uint8 { return ProtoGRE }
func (g *GRE) encode(h, payload []byte, s []Layer, i int) {
	var flags uint16
	o := h[4:]
	if g.ChecksumPresent {
		flags |= 0x8000
		o = o[4:]
	}
	if g.KeyPresent {
		flags |= 0x2000
		binary.BigEndian.PutUint32(o, g.Key)
		o = o[4:]
	}
	if g.SeqPresent {
		flags |= 0x1000
		binary.BigEndian.PutUint32(o, g.Seq)
	}
	binary.BigEndian.PutUint16(h, flags)
	binary.BigEndian.PutUint16(h[2:], or16(g.Protocol, nextEtherType(s, i)))
	if g.ChecksumPresent {
		binary.BigEndian.PutUint16(h[4:], ^fold(sum(sum(0, h), payload)))
	}
}

func or16(v, def uint16) uint16 {
	if v == 0 {
		return def
	}
	return v
}

func or8(v, def uint8) uint8 {
	if v == 0 {
		return def
	}
	return v
}
