package http1

import (
	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/lines"
)

// state is where a side is in its current message.
type state uint8

const (
	stStart     state = iota // expecting a start line (empty lines between messages are skipped)
	stHeaders                // header field lines until an empty line
	stBody                   // remain bytes of a Content-Length body
	stChunkSize              // a chunk-size line
	stChunkData              // remain bytes of the current chunk
	stChunkEnd               // the CRLF after chunk data
	stTrailers               // trailer lines until an empty line
	stCloseBody              // body until the side closes
	stResync                 // out of step: looking for a start line
	stStopped                // closed or tunnelled: bytes are ignored
)

// sideState is one direction's parser.
type sideState struct {
	st       state
	lines    lines.Buffer
	lineAt   app.Pos // frame of the current line's first byte
	remain   int64
	acc      headAcc
	trailers int
	afterGap bool
	headDone bool // the current message's header section is complete
}

// pending is a request waiting for its final response.
type pending struct {
	seq            int
	method, target string
	start, done    app.Pos
}

// Conn decodes one HTTP/1 connection; it implements app.Stream.
type Conn struct {
	out     app.Output
	side    [2]sideState
	req     *Request  // request being received
	reqPend *pending  // its queue entry, once its header section is complete
	resp    *Response // response being received
	pending []*pending
	seq     int
	sum     ConnSummary
	started bool
	ended   bool
}

// New returns a decoder for one connection that reports to out.
func New(out app.Output) *Conn {
	c := &Conn{out: out}
	for i := range c.side {
		c.side[i].lines = lines.New(MaxLine)
	}
	return c
}

// Bytes implements app.Stream.
func (c *Conn) Bytes(side app.Side, b []byte, at app.Pos) {
	if c.ended || side > app.Server || len(b) == 0 {
		return
	}
	if !c.started {
		c.started, c.sum.Start = true, at
	}
	s := &c.side[side]
	for len(b) > 0 {
		switch s.st {
		case stStopped:
			return
		case stCloseBody:
			c.body(side, int64(len(b)), false, at)
			return
		case stBody, stChunkData:
			n := min(int64(len(b)), s.remain)
			b = b[n:]
			s.remain -= n
			c.body(side, n, false, at)
			if s.remain == 0 {
				c.bodyPartDone(side, at)
			}
		default:
			if s.lines.Pending() == 0 {
				s.lineAt = at
			}
			line, rest, ok := s.lines.Next(b)
			if !ok {
				return
			}
			b = rest
			c.line(side, line, at)
		}
	}
}

// Gap implements app.Stream: within a body of known length the gap is
// skipped; elsewhere the side loses step and resynchronises.
func (c *Conn) Gap(side app.Side, n int64, at app.Pos) {
	if c.ended || side > app.Server || n <= 0 {
		return
	}
	s := &c.side[side]
	c.sum.Gaps[side]++
	switch s.st {
	case stStopped:
		return
	case stCloseBody:
		c.body(side, n, true, at)
		return
	case stBody, stChunkData:
		if n <= s.remain {
			s.remain -= n
			c.body(side, n, true, at)
			if s.remain == 0 {
				c.bodyPartDone(side, at)
			}
			return
		}
	}
	c.lose(side, at)
}

// Close implements app.Stream. The server's FIN completes a close-delimited
// response; a RST leaves it incomplete.
func (c *Conn) Close(side app.Side, reset bool, at app.Pos) {
	if c.ended || side > app.Server || c.sum.Closed[side] {
		return
	}
	if !c.started {
		c.started, c.sum.Start = true, at
	}
	c.sum.Closed[side], c.sum.Reset[side], c.sum.ClosedAt[side] = true, reset, at
	if !c.sum.AnyClosed {
		c.sum.AnyClosed, c.sum.FirstCloser = true, side
	}
	s := &c.side[side]
	if side == app.Server && s.st == stCloseBody {
		c.finishResponse(at, !reset)
	} else {
		c.cut(side, at)
	}
	s.st = stStopped
	c.sum.Stopped[side] = true
}

// End implements app.Stream: messages in progress are cut, requests still
// waiting are reported unanswered, and the summary is emitted.
func (c *Conn) End(at app.Pos) {
	if c.ended {
		return
	}
	c.ended = true
	if c.side[app.Server].st == stCloseBody {
		c.sum.CloseDelimitedOpen = true
	}
	c.cut(app.Server, at)
	c.cut(app.Client, at)
	for _, p := range c.pending {
		c.sum.Unanswered++
		c.out.Emit(app.Transaction{
			Protocol: "http", Operation: p.method, Request: p.method + " " + p.target,
			Status: app.StatusNoReply, RequestAt: p.start,
		})
	}
	c.pending = nil
	if !c.started {
		c.sum.Start = at
	}
	c.sum.End = at
	sum := c.sum
	c.out.EmitRecord(&sum)
}

// Summary returns the connection summary so far (final after End).
func (c *Conn) Summary() ConnSummary { return c.sum }

func (c *Conn) line(side app.Side, line lines.Line, at app.Pos) {
	s := &c.side[side]
	text := line.Text
	switch s.st {
	case stStart, stResync:
		if len(text) == 0 && !line.Truncated {
			return
		}
		var ok bool
		if side == app.Client {
			ok = c.startRequest(text, s.lineAt)
		} else {
			ok = c.startResponse(text, s.lineAt)
		}
		switch {
		case ok && s.st == stResync:
			c.sum.Resyncs[side]++
		case !ok && s.st == stStart:
			c.sum.Malformed[side]++
			s.afterGap = true
			s.st = stResync
			return
		case !ok:
			return
		}
		s.st = stHeaders
		s.headDone = false
	case stHeaders:
		if len(text) == 0 && !line.Truncated {
			c.headDone(side, at)
		} else if !s.acc.field(text, line.Truncated) {
			c.malformed(side, "too many header fields", at)
		}
	case stChunkSize:
		n, ok := parseChunkSize(text)
		switch {
		case !ok:
			c.malformed(side, "invalid chunk size", at)
		case n == 0:
			s.st, s.trailers = stTrailers, 0
		default:
			s.st, s.remain = stChunkData, n
		}
	case stChunkEnd:
		if len(text) != 0 || line.Truncated {
			c.malformed(side, "chunk data not followed by CRLF", at)
			return
		}
		s.st = stChunkSize
	case stTrailers:
		if len(text) == 0 && !line.Truncated {
			c.messageDone(side, at)
			return
		}
		s.trailers++
		if s.trailers > MaxHeaders {
			c.malformed(side, "too many trailer fields", at)
		}
	}
}

func (c *Conn) startRequest(text []byte, at app.Pos) bool {
	method, target, v, ok := parseRequestLine(text)
	if !ok {
		return false
	}
	c.seq++
	c.sum.Requests++
	r := &Request{Start: at, End: at, Seq: c.seq, Method: intern(method), AfterGap: c.side[app.Client].afterGap}
	c.side[app.Client].acc.reset(&r.Head)
	r.Version = v
	r.Target = keep(target, &r.Truncated)
	c.req, c.reqPend = r, nil
	return true
}

func (c *Conn) startResponse(text []byte, at app.Pos) bool {
	v, code, reason, ok := parseStatusLine(text)
	if !ok {
		return false
	}
	r := &Response{Start: at, End: at, Code: code, AfterGap: c.side[app.Server].afterGap}
	c.side[app.Server].acc.reset(&r.Head)
	r.Version = v
	r.Reason = keep(reason, &r.Truncated)
	c.resp = r
	return true
}
