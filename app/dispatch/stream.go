package dispatch

import "github.com/wiresleuth/wiresleuth/app"

type kind uint8

const (
	evBytes kind = iota
	evGap
	evClose
)

// event is a call held back until the decision.
type event struct {
	kind  kind
	side  app.Side
	off   int   // evBytes: offset in held[side]
	n     int64 // evBytes: length; evGap: gap length
	reset bool
	at    app.Pos
}

// Stream holds back a TCP connection's first calls, chooses its decoder,
// and then forwards everything to it. It implements app.Stream.
type Stream struct {
	d       *Dispatcher
	port    uint16
	out     app.Output
	held    [2][]byte
	closed  [2]bool
	events  []event
	decided bool
	name    string
	dec     app.Stream
}

// NewStream returns the dispatching stream for one TCP connection whose
// server listens on serverPort; the chosen decoder reports to out.
func (d *Dispatcher) NewStream(serverPort uint16, out app.Output) *Stream {
	return &Stream{d: d, port: serverPort, out: out}
}

// Protocol returns the chosen protocol's name, "" while undecided or when no
// protocol matched.
func (s *Stream) Protocol() string { return s.name }

// Decoder returns the chosen decoder, nil while undecided or when no
// protocol matched.
func (s *Stream) Decoder() app.Stream { return s.dec }

// Bytes implements app.Stream.
func (s *Stream) Bytes(side app.Side, b []byte, at app.Pos) {
	if s.decided {
		if s.dec != nil {
			s.dec.Bytes(side, b, at)
		}
		return
	}
	if side > app.Server || len(b) == 0 {
		return
	}
	take := min(MaxProbe-len(s.held[side]), len(b))
	s.events = append(s.events, event{kind: evBytes, side: side, off: len(s.held[side]), n: int64(take), at: at})
	s.held[side] = append(s.held[side], b[:take]...)
	rest := b[take:]
	s.try(len(rest) > 0 || len(s.held[side]) >= MaxProbe)
	if s.decided && s.dec != nil && len(rest) > 0 {
		s.dec.Bytes(side, rest, at)
	}
}

// Gap implements app.Stream. A gap before the decision forces it: bytes
// after it are not a stream's first bytes.
func (s *Stream) Gap(side app.Side, n int64, at app.Pos) {
	if !s.decided {
		s.events = append(s.events, event{kind: evGap, side: side, n: n, at: at})
		s.try(true)
		return
	}
	if s.dec != nil {
		s.dec.Gap(side, n, at)
	}
}

// Close implements app.Stream. The decision waits for the other side as
// long as it may still speak (a client that closes at once may still get a
// greeting).
func (s *Stream) Close(side app.Side, reset bool, at app.Pos) {
	if !s.decided {
		s.events = append(s.events, event{kind: evClose, side: side, reset: reset, at: at})
		if side <= app.Server {
			s.closed[side] = true
		}
		s.try(s.closed[0] && s.closed[1])
		return
	}
	if s.dec != nil {
		s.dec.Close(side, reset, at)
	}
}

// End implements app.Stream.
func (s *Stream) End(at app.Pos) {
	if !s.decided {
		s.try(true)
	}
	if s.dec != nil {
		s.dec.End(at)
	}
}

// try decides when a probe is sure, when both sides have spoken, or when
// forced.
func (s *Stream) try(force bool) {
	have := [2]bool{len(s.held[0]) > 0, len(s.held[1]) > 0}
	i, conf := s.d.choose(true, s.port, s.held, have)
	if conf < app.Likely && !force && !(have[0] && have[1]) {
		return
	}
	s.decided = true
	if i >= 0 {
		p := s.d.protos[i]
		s.name, s.dec = p.Name, p.Stream(s.out)
	}
	if s.dec != nil {
		for _, e := range s.events {
			switch e.kind {
			case evBytes:
				s.dec.Bytes(e.side, s.held[e.side][e.off:e.off+int(e.n)], e.at)
			case evGap:
				s.dec.Gap(e.side, e.n, e.at)
			case evClose:
				s.dec.Close(e.side, e.reset, e.at)
			}
		}
	}
	s.held, s.events = [2][]byte{}, nil
}
