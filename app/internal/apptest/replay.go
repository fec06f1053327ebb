package apptest

import (
	"net/netip"
	"sort"

	"github.com/wiresleuth/wiresleuth/app"
)

// EventKind is the kind of one replayed call.
type EventKind uint8

const (
	Bytes EventKind = iota
	Gap
	Close
	End
	Datagram
)

// Event is one app.Stream or app.Datagrams call.
type Event struct {
	Kind  EventKind
	Side  app.Side
	Data  []byte // Bytes, Datagram
	N     int64  // Gap
	Reset bool   // Close
	At    app.Pos
}

// Conn is one TCP connection or UDP 4-tuple of a capture.
type Conn struct {
	Proto          uint8 // 6 TCP, 17 UDP
	Client, Server netip.AddrPort
	Events         []Event
}

// Options changes how a capture is replayed.
type Options struct {
	// Drop pretends the frames it returns true for were not captured, to
	// make gaps out of a clean capture.
	Drop func(frame int64) bool
}

// Load reads a capture and returns its connections in order of first frame.
func Load(path string, opt Options) ([]*Conn, error) {
	link, frames, err := readPcap(path)
	if err != nil {
		return nil, err
	}
	type key struct {
		a, b  netip.AddrPort
		proto uint8
	}
	var conns []*tracker
	byKey := map[key]*tracker{}
	for _, f := range frames {
		if opt.Drop != nil && opt.Drop(f.num) {
			continue
		}
		p, ok := decode(link, f.data)
		if !ok {
			continue
		}
		k := key{p.src, p.dst, p.proto}
		t := byKey[k]
		if t == nil {
			t = byKey[key{p.dst, p.src, p.proto}]
		}
		if t != nil && p.proto == protoTCP && p.flags&(flagSYN|flagACK) == flagSYN && t.ended() {
			t = nil // a new connection on a reused 4-tuple
		}
		if t == nil {
			t = &tracker{c: &Conn{Proto: p.proto, Client: p.src, Server: p.dst}}
			if p.proto == protoTCP && p.flags&(flagSYN|flagACK) == flagSYN|flagACK {
				t.c.Client, t.c.Server = p.dst, p.src
			}
			conns = append(conns, t)
			byKey[k] = t
			delete(byKey, key{p.dst, p.src, p.proto})
		}
		t.add(p, app.Pos{Frame: f.num, Time: f.time})
	}
	out := make([]*Conn, len(conns))
	for i, t := range conns {
		t.finish()
		out[i] = t.c
	}
	return out, nil
}

// tracker follows one connection.
type tracker struct {
	c    *Conn
	half [2]half
	last app.Pos
}

type half struct {
	init   bool
	next   uint32
	ooo    []segment
	fin    bool
	finSeq uint32
	closed bool
}

type segment struct {
	seq  uint32
	data []byte
	at   app.Pos
}

// after reports whether a is later than b in sequence space.
func after(a, b uint32) bool { return int32(a-b) > 0 }

func (t *tracker) ended() bool { return t.half[0].closed && t.half[1].closed }

func (t *tracker) emit(e Event) { t.c.Events = append(t.c.Events, e) }

func (t *tracker) add(p packet, at app.Pos) {
	t.last = at
	side := app.Client
	if p.src != t.c.Client {
		side = app.Server
	}
	if p.proto == protoUDP {
		t.emit(Event{Kind: Datagram, Side: side, Data: p.payload, At: at})
		return
	}
	h := &t.half[side]
	if p.flags&flagSYN != 0 {
		h.init, h.next = true, p.seq+1
	} else if !h.init && (len(p.payload) > 0 || p.flags&flagFIN != 0) {
		h.init, h.next = true, p.seq
	}
	if h.closed {
		return
	}
	if p.flags&flagRST != 0 {
		h.closed = true
		t.emit(Event{Kind: Close, Side: side, Reset: true, At: at})
		return
	}
	seq := p.seq
	if p.flags&flagSYN != 0 {
		seq++
	}
	if len(p.payload) > 0 {
		h.ooo = append(h.ooo, segment{seq, p.payload, at})
		sort.SliceStable(h.ooo, func(i, j int) bool { return after(h.ooo[j].seq, h.ooo[i].seq) })
	}
	if p.flags&flagFIN != 0 {
		h.fin, h.finSeq = true, seq+uint32(len(p.payload))
	}
	t.drain(side, at)
	if p.flags&flagACK != 0 {
		t.acked(side.Other(), p.ack, at)
	}
}

// drain delivers whatever is now in order on side.
func (t *tracker) drain(side app.Side, at app.Pos) {
	h := &t.half[side]
	for len(h.ooo) > 0 {
		s := h.ooo[0]
		end := s.seq + uint32(len(s.data))
		if after(s.seq, h.next) {
			break
		}
		h.ooo = h.ooo[1:]
		if !after(end, h.next) {
			continue // retransmission of delivered bytes
		}
		data := s.data[h.next-s.seq:]
		t.emit(Event{Kind: Bytes, Side: side, Data: data, At: s.at})
		h.next = end
	}
	if h.fin && h.next == h.finSeq && !h.closed {
		h.closed = true
		h.next++
		t.emit(Event{Kind: Close, Side: side, At: at})
	}
}

// acked declares a gap on side when its peer acknowledges bytes that were
// never captured.
func (t *tracker) acked(side app.Side, ack uint32, at app.Pos) {
	h := &t.half[side]
	if !h.init || h.closed || !after(ack, h.next) {
		return
	}
	limit := ack
	if h.fin && after(limit, h.finSeq) {
		limit = h.finSeq
	}
	if len(h.ooo) > 0 && after(limit, h.ooo[0].seq) {
		limit = h.ooo[0].seq
	}
	if after(limit, h.next) {
		t.emit(Event{Kind: Gap, Side: side, N: int64(limit - h.next), At: at})
		h.next = limit
	}
	t.drain(side, at)
}

func (t *tracker) finish() {
	if t.c.Proto == protoTCP {
		for side := app.Client; side <= app.Server; side++ {
			h := &t.half[side]
			for !h.closed && (len(h.ooo) > 0 || h.fin) {
				limit := h.finSeq
				if len(h.ooo) > 0 {
					limit = h.ooo[0].seq
				}
				if after(limit, h.next) {
					t.emit(Event{Kind: Gap, Side: side, N: int64(limit - h.next), At: t.last})
					h.next = limit
				}
				before := len(h.ooo)
				t.drain(side, t.last)
				if len(h.ooo) == before && !h.closed {
					// A FIN below data already delivered (odd traces):
					// take it as the close.
					if h.fin {
						h.closed = true
						t.emit(Event{Kind: Close, Side: side, At: t.last})
					}
					break
				}
			}
		}
	}
	t.emit(Event{Kind: End, At: t.last})
}

// Replay feeds the connection to s, Bytes split into pieces of at most
// chunk bytes (0: as captured), to check that decoders are incremental.
func (c *Conn) Replay(s app.Stream, chunk int) {
	for _, e := range c.Events {
		switch e.Kind {
		case Bytes:
			b := e.Data
			for chunk > 0 && len(b) > chunk {
				s.Bytes(e.Side, b[:chunk], e.At)
				b = b[chunk:]
			}
			s.Bytes(e.Side, b, e.At)
		case Gap:
			s.Gap(e.Side, e.N, e.At)
		case Close:
			s.Close(e.Side, e.Reset, e.At)
		case End:
			s.End(e.At)
		}
	}
}

// ReplayDatagrams feeds a UDP exchange to d.
func (c *Conn) ReplayDatagrams(d app.Datagrams) {
	for _, e := range c.Events {
		switch e.Kind {
		case Datagram:
			d.Datagram(e.Side, e.Data, e.At)
		case End:
			d.End(e.At)
		}
	}
}

// Stream returns all bytes side sent, in order, ignoring gaps.
func (c *Conn) Stream(side app.Side) []byte {
	var b []byte
	for _, e := range c.Events {
		if e.Kind == Bytes && e.Side == side {
			b = append(b, e.Data...)
		}
	}
	return b
}

// ConnOf maps every frame that carried an event of a connection to the
// connection's index in conns.
func ConnOf(conns []*Conn) map[int64]int {
	m := map[int64]int{}
	for i, c := range conns {
		for _, e := range c.Events {
			m[e.At.Frame] = i
		}
	}
	return m
}
