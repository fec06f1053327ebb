package reasm

import (
	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

// Conn reassembles the two directions of one TCP connection and drives an
// app.Stream with them. It is not safe for concurrent use.
type Conn struct {
	stream app.Stream
	opt    Options
	maxBuf int
	dir    [2]half
	ended  bool
}

// New returns a Conn that reports to stream.
func New(stream app.Stream, opt Options) *Conn {
	c := &Conn{stream: stream, opt: opt, maxBuf: opt.maxBuffered()}
	for s := range c.dir {
		c.dir[s] = half{c: c, side: app.Side(s)}
		c.dir[s].hist.max = opt.history()
	}
	return c
}

// Segment takes one TCP packet of the connection, in capture order; side is
// its sender (app.Client for the connection's originator). Packets that are
// not TCP are ignored. p's bytes are not kept beyond the call: what must
// wait for a hole to fill is copied.
func (c *Conn) Segment(p *packet.Packet, side app.Side) {
	t := p.TCP
	if c.ended || len(t) < header.TCPMinLen {
		return
	}
	side &= 1
	at := app.Pos{Frame: p.Frame, Time: p.Time}
	flags := t.Flags()
	// The acknowledgment first: a gap it reveals in the other direction
	// precedes, in the stream's story, whatever this segment carries.
	if flags&header.FlagACK != 0 {
		c.dir[side].synced = true
		c.dir[side^1].ack(seqnum.Value(t.Ack()), at)
	}
	c.dir[side].segment(seqnum.Value(t.Seq()), flags, p.Payload, max(p.PayloadLen, len(p.Payload)), at)
}

// End reports that the connection is finished (closed, timed out or at the
// end of the capture). Holes still pending are declared gaps, buffered data
// is delivered, a FIN already seen closes its direction, and Stream.End is
// called. Later calls do nothing.
func (c *Conn) End(at app.Pos) {
	if c.ended {
		return
	}
	c.Flush(at)
	c.ended = true
	c.stream.End(at)
}

// Flush gives up on every hole now, as End does but without ending the
// connection, and releases the connection's buffers. Bytes that fill those
// holes later are dropped as late copies. Use it to keep a global memory
// budget (see Memory).
func (c *Conn) Flush(at app.Pos) {
	if c.ended {
		return
	}
	for s := range c.dir {
		h := &c.dir[s]
		if !h.closed {
			h.flushAll(at)
		}
		h.release()
	}
}

// Memory returns the bytes the connection holds in buffers: out-of-order
// data (as charged against Options.MaxBuffered) and the history of
// delivered bytes.
func (c *Conn) Memory() int {
	n := 0
	for s := range c.dir {
		n += c.dir[s].cost + cap(c.dir[s].hist.buf)
	}
	return n
}

// Stats returns what happened so far to the bytes side sent.
func (c *Conn) Stats(side app.Side) Stats { return c.dir[side&1].st }
