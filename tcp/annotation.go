package tcp

import "time"

// Flags are tshark's per-segment tcp.analysis verdicts.
type Flags uint32

const (
	Retransmission         Flags = 1 << iota // tcp.analysis.retransmission (set too for fast and spurious, as tshark does)
	FastRetransmission                       // tcp.analysis.fast_retransmission
	SpuriousRetransmission                   // tcp.analysis.spurious_retransmission
	OutOfOrder                               // tcp.analysis.out_of_order
	LostSegment                              // tcp.analysis.lost_segment: previous segment not captured
	AckLostSegment                           // tcp.analysis.ack_lost_segment: ACKed unseen segment
	DuplicateAck                             // tcp.analysis.duplicate_ack
	ZeroWindow                               // tcp.analysis.zero_window
	ZeroWindowProbe                          // tcp.analysis.zero_window_probe
	ZeroWindowProbeAck                       // tcp.analysis.zero_window_probe_ack
	WindowFull                               // tcp.analysis.window_full
	WindowUpdate                             // tcp.analysis.window_update
	KeepAlive                                // tcp.analysis.keep_alive
	KeepAliveAck                             // tcp.analysis.keep_alive_ack
	ReusedPorts                              // tcp.analysis.reused_ports
)

// Has reports whether all of g are set.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Completeness bits (tcp.completeness).
const (
	CompleteSYN    = 1
	CompleteSYNACK = 2
	CompleteACK    = 4
	CompleteData   = 8
	CompleteFIN    = 16
	CompleteRST    = 32
)

// Annotation is what the analyzer says about one TCP segment. Frame numbers
// are 0 when absent.
type Annotation struct {
	Stream int64 // tcp.stream: 0, 1, 2… in order of first appearance
	// FromA says the segment travels from the stream's first sender (the
	// side tshark lists as address A) to the other.
	FromA bool
	Flags Flags

	// Quoted says the annotation is for the TCP header an ICMP error
	// quotes: only Stream, FromA and Completeness are set (tshark does
	// no sequence analysis on it).
	Quoted bool
	// HasRecord says tshark would show a tcp.analysis tree for the
	// segment (any flag, an acked segment, bytes in flight); without one
	// tshark prints none of the analysis fields, not even initial_rtt.
	HasRecord bool

	SeqLen  int    // tcp.len
	RelSeq  uint32 // tcp.seq (relative)
	RelAck  uint32 // tcp.ack (relative with the ACK flag, raw without it)
	NextSeq uint32 // tcp.nxtseq (relative): RelSeq+SeqLen, +1 for SYN or FIN

	DupAckNum   int   // tcp.analysis.duplicate_ack_num
	DupAckFrame int64 // tcp.analysis.duplicate_ack_frame

	AcksFrame int64         // tcp.analysis.acks_frame
	AckRTT    time.Duration // tcp.analysis.ack_rtt, valid when AcksFrame != 0

	InitialRTT    time.Duration // tcp.analysis.initial_rtt, valid when HasInitialRTT
	HasInitialRTT bool

	BytesInFlight int64 // tcp.analysis.bytes_in_flight; 0 when not computed
	PushBytesSent int64 // tcp.analysis.push_bytes_sent

	RTO      time.Duration // tcp.analysis.rto, valid when RTOFrame != 0
	RTOFrame int64         // tcp.analysis.rto_frame

	// Completeness is tcp.completeness as single-pass tshark prints it:
	// the conversation's bits before this segment.
	Completeness uint8

	// Window is the advertised window scaled as tcp.window_size shows it;
	// WinScale is the shift in use: -1 unknown (no handshake seen), -2 not
	// used, else 0..14.
	Window   int64
	WinScale int8
}
