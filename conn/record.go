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
	// Stream is the tcp.stream index (package tcp) of the connection's
	// first annotated segment, to join the record with per-stream results
	// such as application decoding; valid when Annotated.
	Stream int64
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
