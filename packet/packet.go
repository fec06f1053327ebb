package packet

import (
	"net/netip"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/header"
)

// Layers is a set of protocol layers present in a packet.
type Layers uint32

const (
	LayerEthernet Layers = 1 << iota
	LayerVLAN
	LayerSLL
	LayerMPLS
	LayerPPPoE
	LayerARP
	LayerIPv4
	LayerIPv6
	LayerTCP
	LayerUDP
	LayerICMP
	LayerICMPv6
	LayerGRE
	LayerVXLAN
	LayerGeneve
	LayerTeredo
	LayerGTP
	LayerIPinIP
	LayerAYIYA
	Layer80211
)

// Has reports whether all of l2 are in l.
func (l Layers) Has(l2 Layers) bool { return l&l2 == l2 }

// Fragment says how a packet relates to IP fragmentation.
type Fragment uint8

const (
	NotFragmented Fragment = iota
	// FragmentPart: one fragment of a datagram not (yet) reassembled; the
	// transport header, if any, is not decoded.
	FragmentPart
	// Reassembled: the last fragment, carrying the whole reassembled
	// datagram's transport layer.
	Reassembled
)

// Problem says why decoding stopped early.
type Problem uint8

const (
	NoProblem Problem = iota
	UnknownLinkType
	NotIP         // a link-layer protocol other than IP (ARP, LLDP…): not a fault
	TruncatedLink // captured bytes end inside a link-layer header
	TruncatedIP   // captured bytes end inside the IP header
	TruncatedTransport
	MalformedIP        // impossible IP lengths or version
	MalformedTransport // impossible TCP/UDP lengths
	TooDeep            // more nested encapsulations than the decoder follows
	Encrypted          // 802.11 protected frame or ESP: payload not decodable
)

var problemNames = [...]string{"", "unknown link type", "not IP", "truncated link header", "truncated IP header", "truncated transport header", "malformed IP header", "malformed transport header", "too many nested encapsulations", "encrypted"}

func (p Problem) String() string {
	if int(p) < len(problemNames) {
		return problemNames[p]
	}
	return "problem"
}

// Encap is one outer layer a packet was tunnelled in: the outer IP
// endpoints and, for UDP-based tunnels, ports.
type Encap struct {
	Kind             Layers // LayerVXLAN, LayerGeneve, LayerGRE, LayerIPinIP, LayerTeredo, LayerGTP, LayerAYIYA
	Src, Dst         netip.Addr
	TTL              uint8
	IPID             uint16
	IPLen            int
	Proto            uint8 // outer transport protocol (17 for UDP tunnels, 47 for GRE, 4/41)
	SrcPort, DstPort uint16
	ID               uint32 // VNI, GRE key or GTP TEID

	// The outer IP header and what was captured after it, the length of
	// the whole datagram (reassembled, if the outer packet was
	// fragmented), the header length, and for UDP tunnels the outer UDP
	// header and what follows: views valid until the next Decode, so that
	// the outer connection (Zeek logs one per UDP tunnel) can be counted.
	IP          []byte
	DatagramLen int
	IPHdrLen    int
	IPVersion   uint8
	UDP         header.UDP
	transport   []byte
}

// IPChecksum verifies the outer IPv4 header checksum.
func (e *Encap) IPChecksum() Checksum {
	if e.IPVersion != 4 || len(e.IP) < e.IPHdrLen || e.IPHdrLen < header.IPv4MinLen {
		return ChecksumUnknown
	}
	if header.Checksum(e.IP[:e.IPHdrLen], 0) == 0 {
		return ChecksumGood
	}
	return ChecksumBad
}

// UDPChecksum verifies the outer UDP checksum of a UDP tunnel.
func (e *Encap) UDPChecksum() Checksum {
	if e.UDP == nil || e.transport == nil {
		return ChecksumUnknown
	}
	field := e.UDP.Checksum()
	if field == 0 {
		if e.IPVersion == 4 {
			return ChecksumZero
		}
		return ChecksumBad
	}
	if header.Checksum(e.transport, header.PseudoHeaderSum(e.Src, e.Dst, header.ProtoUDP, len(e.transport))) == 0 {
		return ChecksumGood
	}
	return ChecksumBad
}

// Quoted is the packet an ICMP error message quotes.
type Quoted struct {
	Valid            bool
	Src, Dst         netip.Addr
	Proto            uint8
	SrcPort, DstPort uint16
	Seq              uint32 // TCP sequence number, when the quote reaches it
	HasSeq           bool
	IPID             uint16
	TTL              uint8
	IPLen            int // the quoted header's total length field
	// TCP is whatever of the quoted TCP header was captured (often only
	// its first 8 bytes); check its length before reading beyond the ports.
	TCP header.TCP
}

// MaxEncap is the number of nested tunnels the decoder follows.
const MaxEncap = 4

// Packet is a decoded frame.
type Packet struct {
	// Tunnels, outermost first: Encap[:NumEncap]. Kept out of the part
	// reset for every frame because it is large and rarely used.
	Encap [MaxEncap]Encap
	fields
}

// fields are the parts of a Packet cleared for every frame.
type fields struct {
	// Frame context.
	Frame     int64
	Time      capture.Time
	Interface int
	FrameLen  int // length on the wire (frame.len)
	CapLen    int // captured length (frame.cap_len)
	LinkType  capture.LinkType
	Direction capture.Direction // from pcapng flags or the cooked header

	Layers  Layers
	Problem Problem

	// Link layer (the outermost Ethernet, when there is one).
	SrcMAC, DstMAC [6]byte
	VLANs          [2]uint16 // outermost first
	VLANTPIDs      [2]uint16 // 0x8100 (802.1Q) or 0x88a8/0x9100 (802.1ad S-tag)
	NumVLAN        int
	// InnerSrcMAC and InnerDstMAC are the Ethernet addresses of a frame
	// carried in a tunnel (VXLAN, Geneve, GRE transparent bridging) or
	// behind a FabricPath header, when HasInnerMAC.
	InnerSrcMAC, InnerDstMAC [6]byte
	HasInnerMAC              bool

	NumEncap int // number of valid entries in Encap

	// Innermost IP layer.
	IPVersion uint8
	Src, Dst  netip.Addr
	TTL       uint8
	IPID      uint32 // IPv4 identification; IPv6 fragment id (0 if none)
	TOS       uint8  // DSCP<<2 | ECN (IPv6 traffic class)
	DF        bool
	IPLen     int    // total length from the IP header (IPv6: 40 + payload length)
	IPHdrLen  int    // IP header length including options / extension headers
	IP        []byte // the IP header and what was captured after it
	Frag      Fragment
	// Padding is the number of bytes the link frame carried after the IP
	// packet (Ethernet pads short frames to 60 bytes). Never payload.
	Padding int

	// Transport layer.
	Proto            uint8
	SrcPort, DstPort uint16
	TCP              header.TCP  // nil unless TCP
	UDP              header.UDP  // nil unless UDP
	ICMP             header.ICMP // nil unless ICMP/ICMPv6
	Quoted           Quoted      // the packet an ICMP error quotes
	// Payload is the captured part of the transport payload, never
	// including link padding. PayloadLen is its length on the wire (from
	// the IP and transport headers), which exceeds len(Payload) when the
	// capture was cut by a snap length.
	Payload    []byte
	PayloadLen int
	// transport holds the whole transport segment (header and payload) for
	// checksum verification; nil if not fully captured.
	transport []byte
}

// reset prepares p for a new frame, keeping nothing from the last.
func (p *Packet) reset(f *capture.Frame) {
	p.fields = fields{
		Frame:     f.Number,
		Time:      f.Time,
		Interface: f.Interface,
		FrameLen:  f.OrigLen,
		CapLen:    len(f.Data),
		LinkType:  f.LinkType,
		Direction: f.Direction,
	}
}

// IsTCP, IsUDP report the transport.
func (p *Packet) IsTCP() bool { return p.TCP != nil }
func (p *Packet) IsUDP() bool { return p.UDP != nil }

// Truncated reports whether the capture cut the packet short (snap length).
func (p *Packet) Truncated() bool { return p.CapLen < p.FrameLen }
