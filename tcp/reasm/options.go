package reasm

import (
	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

// Defaults for Options fields left zero.
const (
	// DefaultMaxBuffered is the out-of-order data one direction may hold:
	// a little more than a 64 KiB window times the 16 segments a receiver
	// typically keeps, and the order of Linux's default receive buffer.
	DefaultMaxBuffered = 1 << 20
	// DefaultHistory is how many delivered bytes one direction keeps to
	// compare retransmissions with: a few full-sized segments, enough for
	// an injected reply racing the real one (Quantum Insert) and for
	// retransmissions of the latest segments.
	DefaultHistory = 8 << 10
)

// segOverhead is what one buffered segment is charged beyond its bytes, so
// that a flood of tiny segments is bounded too.
const segOverhead = 64

// maxWindow is the furthest ahead of the next expected byte that a segment
// or an acknowledgment may lie: the largest window TCP can advertise
// (65535 << 14, RFC 7323 §2.3). Anything further is not of this stream.
const maxWindow = seqnum.Size(1 << 30)

// Options configures a Conn. The zero value is ready to use.
type Options struct {
	// MaxBuffered caps, per direction, the memory held by out-of-order
	// data waiting for a hole to fill: each piece is charged the buffer
	// holding it (its bytes, or a pooled 2 KiB buffer) plus 64 bytes. Past
	// it the oldest hole is declared a gap. 0 means DefaultMaxBuffered.
	MaxBuffered int
	// History is how many of the most recently delivered bytes per
	// direction are kept to compare retransmissions with. 0 means
	// DefaultHistory; negative disables the comparison with delivered data
	// (buffered copies are still compared).
	History int
	// OnInconsistency, when set, is called for each segment whose bytes
	// differ from a copy of the same sequence range seen first. old is that
	// first copy (the one delivered), new the differing one, both limited
	// to the overlap; seq is where the overlap starts. The slices are valid
	// only during the call.
	OnInconsistency func(side app.Side, at app.Pos, seq seqnum.Value, old, new []byte)
}

func (o Options) maxBuffered() int {
	if o.MaxBuffered > 0 {
		return o.MaxBuffered
	}
	return DefaultMaxBuffered
}

func (o Options) history() int {
	switch {
	case o.History > 0:
		return o.History
	case o.History < 0:
		return 0
	}
	return DefaultHistory
}
