package reasm

import "github.com/wiresleuth/wiresleuth/app"

// Stats counts what happened to one direction's bytes. Byte counts are in
// sequence space (payload bytes as on the wire).
type Stats struct {
	Delivered int64 // bytes passed to Stream.Bytes
	Gaps      int64 // Stream.Gap calls
	GapBytes  int64 // bytes declared missing (all causes)
	// AckedGapBytes are the missing bytes the other side acknowledged:
	// sent and received, but not captured.
	AckedGapBytes int64
	// OverflowGaps are holes given up because MaxBuffered was reached.
	OverflowGaps int64
	// TruncatedBytes were cut from captured segments by the snap length.
	TruncatedBytes int64

	Retransmitted int64 // bytes dropped as copies of bytes delivered, buffered or declared missing
	// LateBytes arrived after their range had been declared missing (a
	// retransmission after an ACK-declared gap, or a capture that records
	// an ACK before the data it acknowledges).
	LateBytes int64
	// Unchecked are retransmitted bytes not compared with their first
	// copy: older than the history kept, or in a range declared missing.
	Unchecked int64
	// Inconsistencies counts segments whose bytes differed from the first
	// copy of the same range; FirstInconsistency is the first of them.
	Inconsistencies    int64
	FirstInconsistency app.Pos

	KeepAlives  int64 // keep-alive segments ignored
	OutOfWindow int64 // segments (or parts) dropped: too far ahead, past the FIN, or after the close
	RSTData     int64 // bytes carried by a RST, not part of the stream (RFC 9293 §3.5.3)

	PeakBuffered int // largest out-of-order buffer held, in charged bytes
	Closed       bool
	Reset        bool // closed by RST
}
