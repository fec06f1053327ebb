package conn

import (
	"net/netip"
	"time"
)

// Handshake is the TCP handshake as seen from the capture point.
type Handshake struct {
	SYN     Ref // the originator's first SYN
	SYNACK  Ref // the responder's first SYN-ACK
	ACK     Ref // the ACK of the SYN-ACK
	SYNs    int // SYNs from the originator (retries included)
	SYNACKs int // SYN-ACKs from the responder
	// RTT is SYN to ACK (Wireshark's iRTT): the round trip through the
	// capture point to both ends.
	RTT time.Duration
}

// Complete reports whether SYN, SYN-ACK and ACK were all seen.
func (h *Handshake) Complete() bool { return h.SYN.Valid() && h.SYNACK.Valid() && h.ACK.Valid() }

// RespRTT is SYN to SYN-ACK: capture point to responder and back.
func (h *Handshake) RespRTT() time.Duration {
	if !h.SYN.Valid() || !h.SYNACK.Valid() {
		return 0
	}
	return h.SYNACK.Time.Sub(h.SYN.Time)
}

// OrigRTT is SYN-ACK to ACK: capture point to originator and back.
func (h *Handshake) OrigRTT() time.Duration {
	if !h.SYNACK.Valid() || !h.ACK.Valid() {
		return 0
	}
	return h.ACK.Time.Sub(h.SYNACK.Time)
}

// CloseKind is how a side ended a connection.
type CloseKind uint8

const (
	NotClosed CloseKind = iota
	ByFIN
	ByRST
)

func (k CloseKind) String() string { return [...]string{"", "FIN", "RST"}[k] }

// Close says who closed first, how and when.
type Close struct {
	By  Role
	How CloseKind
	At  Ref
}

// Idle is the longest silence inside a connection.
type Idle struct {
	Gap time.Duration
	// From and To are the packets before and after it.
	From, To Ref
	// AfterLastData says no payload followed the gap; EndsWithClose says
	// the packet after it was a FIN or RST, sent by ClosedBy.
	AfterLastData bool
	EndsWithClose bool
	ClosedBy      Role
	// Trailing is the silence from the last packet to the record's end.
	Trailing time.Duration
}

// ICMPError is an ICMP error that quotes a packet of the connection.
type ICMPError struct {
	Ref
	From      netip.Addr // who sent the error: often a router or firewall
	V6        bool
	Type      uint8
	Code      uint8
	MTU       int  // next-hop MTU (fragmentation needed, packet too big)
	About     Role // whose packet it quotes
	QuotedSeq uint32
	HasSeq    bool
	QuotedTTL uint8 // the quoted packet's TTL as the router received it
}

// EvidenceKind is why a frame was kept as evidence.
type EvidenceKind uint8

const (
	EvSYN EvidenceKind = iota
	EvSYNACK
	EvFirstData
	EvFIN
	EvRST
	EvRetransmission
	EvZeroWindow
	EvICMPError
)

func (k EvidenceKind) String() string {
	return [...]string{"syn", "syn-ack", "first-data", "fin", "rst", "retransmission", "zero-window", "icmp-error"}[k]
}

// Evidence is a frame worth citing.
type Evidence struct {
	Ref
	Kind EvidenceKind
	From Role
}
