package conn

import (
	"net/netip"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
)

// Record is one connection as a line of Zeek's conn.log has it, followed
// by what troubleshooting needs. A Record owns its memory.
type Record struct {
	// conn.log columns, named as Zeek names them.
	UID       string
	ID        ID
	Proto     Proto
	IPProto   uint8
	Service   string // the tunnel protocol of an outer tunnel connection; "" otherwise
	Start     capture.Time
	LastTime  capture.Time // Zeek's last_time: duration is LastTime-Start
	OrigBytes uint64       // from sequence numbers (TCP), payload lengths (UDP, ICMP)
	RespBytes uint64
	State     State
	// LocalOrig and LocalResp say whether each address is in
	// Options.LocalNets; LocalKnown is false when there are none (Zeek
	// then leaves both unset).
	LocalOrig   bool
	LocalResp   bool
	LocalKnown  bool
	MissedBytes uint64
	History     string
	OrigPkts    uint64
	OrigIPBytes uint64
	RespPkts    uint64
	RespIPBytes uint64
	// TunnelParents are the UIDs of the UDP tunnel connections that
	// carried this one.
	TunnelParents []string

	// OrigTCP and RespTCP are the TCP endpoint states at removal (Zeek's
	// c$orig$state and c$resp$state).
	OrigTCP, RespTCP EndpointState
	// Ended says what finalised the record; EndTime is the capture time
	// when it did.
	Ended   End
	EndTime capture.Time

	// FirstFrame and LastFrame are the first and last frames of the
	// connection, LastSeen the time of the last, whatever Zeek made of it
	// (it ignores some packets for duration).
	FirstFrame, LastFrame int64
	LastSeen              capture.Time

	Orig, Resp Side
	Handshake  Handshake
	Close      Close
	Idle       Idle
	// ICMPErrors are the first ICMP error messages that quote a packet of
	// this connection (up to MaxICMPErrors); ICMPErrorCount counts all.
	ICMPErrors     []ICMPError
	ICMPErrorCount int
	// Evidence are frames worth citing (up to MaxEvidence), in capture
	// order.
	Evidence []Evidence
	// Annotated says per-segment analysis annotations were supplied, so
	// Side.Analysis counts mean something.
	Annotated bool
}

// Bounds on the per-connection lists.
const (
	MaxICMPErrors = 4
	MaxEvidence   = 16
	MaxTTLValues  = 4
	MaxOutliers   = 4
	MaxBadSamples = 4
)

// ID is Zeek's conn_id. For ICMP the ports are the type and the code (or
// counterpart type); for other transports they are 0.
type ID struct {
	OrigH netip.Addr
	OrigP uint16
	RespH netip.Addr
	RespP uint16
}

// Duration is LastTime - Start at the capture's resolution.
func (r *Record) Duration() time.Duration { return r.LastTime.Sub(r.Start) }

// ZeekDuration is the duration as Zeek computes it: libpcap hands Zeek
// timestamps cut to microseconds (pcap_fopen_offline's default precision).
func (r *Record) ZeekDuration() time.Duration {
	return time.Duration(int64(r.LastTime)/1000-int64(r.Start)/1000) * time.Microsecond
}

// HasDuration reports whether Zeek logs duration, orig_bytes and
// resp_bytes for the record: only when its duration is positive.
func (r *Record) HasDuration() bool { return r.ZeekDuration() > 0 }

// Proto is the transport of a connection as conn.log's proto column.
type Proto uint8

const (
	ProtoUnknown Proto = iota // unknown_transport
	ProtoTCP
	ProtoUDP
	ProtoICMP
)

func (p Proto) String() string {
	return [...]string{"unknown_transport", "tcp", "udp", "icmp"}[p]
}

// State is conn.log's conn_state.
type State uint8

const (
	OTH    State = iota // no SYN seen, or another pattern
	S0                  // attempt seen, no reply
	S1                  // established, not terminated
	SF                  // normal establishment and termination
	REJ                 // attempt rejected
	S2                  // established, close attempt by the originator only
	S3                  // established, close attempt by the responder only
	RSTO                // established, originator aborted
	RSTR                // responder sent a RST
	RSTOS0              // originator sent a SYN then a RST, no SYN-ACK
	RSTRH               // responder sent a SYN-ACK then a RST, no SYN seen
	SH                  // originator sent a SYN then a FIN, no SYN-ACK (half open)
	SHR                 // responder sent a SYN-ACK then a FIN, no SYN seen
)

var stateNames = [...]string{"OTH", "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "OTH"
}

// EndpointState is a TCP endpoint's state as Zeek tracks it.
type EndpointState uint8

const (
	Inactive    EndpointState = iota // nothing seen
	SYNSent                          // sent a SYN
	SYNACKSent                       // sent a SYN-ACK without a SYN from it
	Partial                          // traffic without a SYN
	Established                      // both handshake halves seen
	Closed                           // sent a FIN
	Reset                            // sent a RST
)

func (s EndpointState) String() string {
	return [...]string{"INACTIVE", "SYN_SENT", "SYN_ACK_SENT", "PARTIAL", "ESTABLISHED", "CLOSED", "RESET"}[s]
}

// End is what finalised a record.
type End uint8

const (
	EndCapture    End = iota // the capture ended with the connection live
	EndClosed                // closed (FIN/RST) and the close delay passed
	EndLinger                // one side closed and the connection lingered past tcp_connection_linger
	EndAttempt               // a SYN attempt unanswered past tcp_attempt_delay
	EndInactivity            // idle past its inactivity timeout
	EndReused                // a new SYN on the same 4-tuple replaced it
	EndDNS                   // the DNS analyzer's session timeout (UDP)
)

func (e End) String() string {
	return [...]string{"end of capture", "closed", "linger", "attempt timeout", "inactivity timeout", "reused", "dns timeout"}[e]
}

// Role is which end of a connection something belongs to.
type Role uint8

const (
	NoRole Role = iota
	OrigRole
	RespRole
)

func (r Role) String() string { return [...]string{"", "orig", "resp"}[r] }

// Ref points at a frame of the capture.
type Ref struct {
	Frame int64 // 0: none
	Time  capture.Time
}

// Valid reports whether r points at a frame.
func (r Ref) Valid() bool { return r.Frame != 0 }

// Side is what one end of the connection did, whoever Zeek calls it.
type Side struct {
	// Packets counts every packet seen from this side, including those
	// Zeek drops (bad checksums); PayloadBytes sums their transport
	// payload lengths on the wire.
	Packets      int64
	PayloadBytes int64
	// Options are those of this side's first SYN or SYN-ACK.
	Options TCPOptions
	// TSPackets and NoTSPackets count TCP segments with and without the
	// timestamps option (SYNs included).
	TSPackets, NoTSPackets int64
	TTL                    TTL
	IPID                   IPID
	Checksums              Checksums
	// Analysis counts the per-segment analysis flags of this side's
	// segments (see Annotated).
	Analysis Analysis
	// First and last segment with payload; first FIN and first RST.
	FirstData, LastData Ref
	FIN, RST            Ref
}

// TCPOptions are the options a side announced in its SYN or SYN-ACK.
type TCPOptions struct {
	Seen          bool // a SYN or SYN-ACK from this side was seen
	HasMSS        bool
	MSS           uint16
	HasWScale     bool
	WScale        uint8
	SACKPermitted bool
	Timestamps    bool
	Malformed     bool
}

// Presence says on which sides something was present.
type Presence uint8

const (
	PresenceUnknown Presence = iota // nothing to tell from
	Both
	OrigOnly
	RespOnly
	Neither
)

func (p Presence) String() string {
	return [...]string{"unknown", "both", "orig only", "resp only", "neither"}[p]
}

// Timestamps says on which sides TCP timestamps were used: as announced in
// the SYN and SYN-ACK when both were seen, as segments carried them when
// neither was (a connection picked up mid-stream), else unknown.
func (r *Record) Timestamps() Presence {
	if r.Proto != ProtoTCP {
		return PresenceUnknown
	}
	var o, s bool
	switch {
	case r.Orig.Options.Seen && r.Resp.Options.Seen:
		o, s = r.Orig.Options.Timestamps, r.Resp.Options.Timestamps
	case r.Orig.Options.Seen || r.Resp.Options.Seen:
		// One handshake half only: a RST or stray ACK answering a SYN
		// says nothing about what the other side would negotiate.
		return PresenceUnknown
	case r.Orig.TSPackets+r.Orig.NoTSPackets > 0 && r.Resp.TSPackets+r.Resp.NoTSPackets > 0:
		o, s = r.Orig.TSPackets > 0, r.Resp.TSPackets > 0
	default:
		return PresenceUnknown
	}
	switch {
	case o && s:
		return Both
	case o:
		return OrigOnly
	case s:
		return RespOnly
	}
	return Neither
}

// TTL is the IP TTL (hop limit) behaviour of one side.
type TTL struct {
	// Values are the distinct TTLs seen, most frequent first, at most
	// MaxTTLValues; Other counts packets whose TTL did not fit.
	Values []TTLValue
	Other  int64
	// Changes counts packets whose TTL differs from the previous one.
	Changes int64
}

// TTLValue is one TTL a side used, how often, and where first.
type TTLValue struct {
	TTL   uint8
	Count int64
	First Ref
}

// Constant reports whether every packet had the same TTL.
func (t *TTL) Constant() bool { return len(t.Values) == 1 && t.Other == 0 }

// Dominant returns the most frequent TTL (0 if none).
func (t *TTL) Dominant() uint8 {
	if len(t.Values) == 0 {
		return 0
	}
	return t.Values[0].TTL
}

// IPIDClass is how a side numbers its IPv4 packets.
type IPIDClass uint8

const (
	IDUnknown      IPIDClass = iota // no IPv4 packets, or too few to tell
	IDZero                          // always 0 (Linux with DF set on some paths)
	IDConstant                      // always the same non-zero value
	IDIncrementing                  // a counter: small forward steps
	IDRandom                        // no pattern
)

func (c IPIDClass) String() string {
	return [...]string{"unknown", "zero", "constant", "incrementing", "random"}[c]
}

// IPID is the IPv4 identification behaviour of one side.
type IPID struct {
	Class       IPIDClass
	Packets     int64  // IPv4 packets considered
	Zero        int64  // with ID 0 (Linux sends 0 on some control packets)
	First, Last uint16 // first and last non-zero ID
	// InSequence counts packets whose ID was at most MaxIDStep ahead of
	// the side's counter.
	InSequence int64
	// Outliers are packets whose ID broke the side's counter and the
	// sequence resumed after them (or they were the last): the kind of
	// packet a middlebox forges.
	Outliers []IDOutlier
}

// MaxIDStep is the largest step between consecutive IDs that still counts
// as incrementing: hosts with one global counter advance it for every
// packet they send to anyone.
const MaxIDStep = 4096

// IDOutlier is a packet whose IP ID did not fit its side's counter.
type IDOutlier struct {
	Ref
	ID       uint16
	Expected uint16 // the counter's value before it
}

// Checksums are the checksum verdicts of one side's packets.
type Checksums struct {
	Good       int64 // transport checksum correct
	Bad        int64 // wrong, and not one of the patterns below
	Zero       int64 // zero field where a checksum was due
	Partial    int64 // only the pseudo-header sum: left for the NIC to finish (offload)
	Unverified int64 // not fully captured
	IPBad      int64 // IPv4 header checksum wrong
	// Outbound counts the bad, zero and partial ones the capture marks as
	// sent by the capturing host.
	Outbound int64
	// Constant says every bad checksum had the same value, Value.
	Constant bool
	Value    uint16
	// Samples are the first bad, zero or partial packets.
	Samples []Ref
	Verdict ChecksumVerdict
}

// Wrong is the number of packets whose transport checksum did not verify.
func (c *Checksums) Wrong() int64 { return c.Bad + c.Zero + c.Partial }

// ChecksumVerdict tells checksum offload artefacts from corruption.
type ChecksumVerdict uint8

const (
	ChecksumsOK      ChecksumVerdict = iota // none wrong
	ChecksumsOffload                        // wrong in the way of checksum offload on the capturing host
	ChecksumsCorrupt                        // wrong otherwise: damaged on the way
)

func (v ChecksumVerdict) String() string {
	return [...]string{"ok", "offload", "corrupt"}[v]
}

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
