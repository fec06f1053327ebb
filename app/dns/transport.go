package dns

import "github.com/wiresleuth/wiresleuth/app"

// Datagrams decodes DNS over one UDP 4-tuple; it implements app.Datagrams.
type Datagrams struct{ x exchange }

// NewDatagrams returns a decoder for one UDP exchange that reports to out.
func NewDatagrams(out app.Output) *Datagrams { return &Datagrams{x: exchange{out: out}} }

// Datagram implements app.Datagrams: each datagram is one message.
func (d *Datagrams) Datagram(side app.Side, b []byte, at app.Pos) {
	if !d.x.ended {
		d.x.message(side, b, at, at, false)
	}
}

// End implements app.Datagrams: queries still waiting are unanswered.
func (d *Datagrams) End(at app.Pos) { d.x.end() }

// tcpSide reassembles one direction's length-prefixed messages.
type tcpSide struct {
	lenBuf  [2]byte
	lenN    int
	need    int // message bytes still to come
	skip    int // bytes of a message lost in a gap still to skip
	buf     []byte
	at      app.Pos
	stopped bool
}

// Stream decodes DNS over one TCP connection; it implements app.Stream.
type Stream struct {
	x    exchange
	side [2]tcpSide
	// Lost counts messages lost in gaps per side; Stopped says a gap
	// took the framing with it.
	Lost    [2]int
	Stopped [2]bool
}

// NewStream returns a decoder for one TCP connection that reports to out.
func NewStream(out app.Output) *Stream { return &Stream{x: exchange{out: out}} }

// Bytes implements app.Stream.
func (s *Stream) Bytes(side app.Side, b []byte, at app.Pos) {
	if s.x.ended || side > app.Server {
		return
	}
	t := &s.side[side]
	for len(b) > 0 && !t.stopped {
		switch {
		case t.skip > 0:
			n := min(t.skip, len(b))
			t.skip -= n
			b = b[n:]
		case t.need == 0:
			if t.lenN == 0 {
				t.at = at
			}
			t.lenBuf[t.lenN] = b[0]
			t.lenN++
			b = b[1:]
			if t.lenN == 2 {
				t.lenN = 0
				t.need = int(t.lenBuf[0])<<8 | int(t.lenBuf[1])
				t.buf = t.buf[:0]
			}
		default:
			n := min(t.need, len(b))
			t.buf = append(t.buf, b[:n]...)
			t.need -= n
			b = b[n:]
			if t.need == 0 {
				s.x.message(side, t.buf, t.at, at, true)
			}
		}
	}
}

// Gap implements app.Stream: a gap inside a message loses that message; one
// that reaches past it (or falls between messages) loses the framing.
func (s *Stream) Gap(side app.Side, n int64, at app.Pos) {
	if s.x.ended || side > app.Server || n <= 0 {
		return
	}
	t := &s.side[side]
	if side == app.Server {
		s.x.serverGap()
	}
	if t.stopped {
		return
	}
	switch {
	case t.skip > 0 && n <= int64(t.skip):
		t.skip -= int(n)
	case t.need > 0 && n <= int64(t.need):
		t.skip, t.need = t.need-int(n), 0
		s.Lost[side]++
	default:
		t.stopped, s.Stopped[side] = true, true
	}
}

// Close implements app.Stream.
func (s *Stream) Close(side app.Side, reset bool, at app.Pos) {}

// End implements app.Stream: queries still waiting are unanswered.
func (s *Stream) End(at app.Pos) { s.x.end() }
