package oncrpc

import "github.com/wiresleuth/wiresleuth/app"

// Stream decodes ONC RPC over one TCP connection: record marking, calls
// and replies matched by XID. It implements app.Stream.
//
// Memory per connection is bounded: per side at most MaxPrefix bytes of the
// current record and a resync window of 16 KiB, plus MaxOutstanding calls.
type Stream struct {
	conv  conv
	sides [2]recordReader
	ended bool
}

// NewStream returns a decoder for one TCP connection.
func NewStream(h Handler) *Stream {
	s := &Stream{conv: newConv(h)}
	s.sides[app.Client].side = app.Client
	s.sides[app.Server].side = app.Server
	return s
}

// Bytes implements app.Stream.
func (s *Stream) Bytes(side app.Side, b []byte, at app.Pos) {
	if s.ended || side > app.Server {
		return
	}
	s.sides[side].feed(&s.conv, b, at)
}

// Gap implements app.Stream. A gap inside a fragment costs that record's
// data but not the record marking; a gap elsewhere loses the marking, and
// decoding resynchronises on the next record mark followed by a call to a
// known program or a reply to a waiting call. Calls waiting when the
// answering side lost bytes are reported StatusIncomplete, not
// StatusNoReply: their replies may be in the gap.
func (s *Stream) Gap(side app.Side, n int64, at app.Pos) {
	if s.ended || side > app.Server || n <= 0 {
		return
	}
	s.sides[side].gap(&s.conv, n, at)
}

// Close implements app.Stream: a record that side had started is cut.
func (s *Stream) Close(side app.Side, reset bool, at app.Pos) {
	if s.ended || side > app.Server {
		return
	}
	s.sides[side].close(&s.conv, at)
}

// End implements app.Stream: calls still waiting are reported.
func (s *Stream) End(at app.Pos) {
	if s.ended {
		return
	}
	s.sides[app.Client].close(&s.conv, at)
	s.sides[app.Server].close(&s.conv, at)
	s.conv.end()
	s.ended = true
}
