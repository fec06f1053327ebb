package http1

import "github.com/wiresleuth/wiresleuth/app"

// How each message body ends, and pairing a response with its request.

// headDone decides, at the end of a header section, how the body ends.
func (c *Conn) headDone(side app.Side, at app.Pos) {
	s := &c.side[side]
	s.headDone = true
	a := &s.acc
	if side == app.Client {
		r := c.req
		c.enqueue(r)
		if r.Persistent() {
			c.sum.ClientKeepAlive++
		} else {
			c.sum.ClientClose++
		}
		if a.teSeen && r.ContentLength >= 0 && r.Malformed == "" {
			r.Malformed = "both Transfer-Encoding and Content-Length"
		}
		switch {
		case a.teSeen && a.teChunked:
			r.Delimit, s.st = Chunked, stChunkSize
		case a.teSeen:
			// RFC 9112 section 6.3: the server cannot find the end either.
			c.malformed(side, "request transfer coding is not chunked", at)
		case a.clBad:
			c.malformed(side, "invalid Content-Length", at)
		case r.ContentLength > 0:
			r.Delimit, s.st, s.remain = ByLength, stBody, r.ContentLength
		default:
			c.messageDone(side, at)
		}
		return
	}
	r := c.resp
	r.LastData = at
	if r.Code < 200 && r.Code != 101 {
		// Interim: the final response to the same request follows.
		r.Interim = true
		c.sum.Interim++
		if len(c.pending) > 0 {
			c.attach(r, c.pending[0])
		}
		r.Complete, r.End = true, at
		c.resp = nil
		c.out.EmitRecord(r)
		s.st = stStart
		return
	}
	if len(c.pending) == 0 && c.req != nil {
		// An answer to a request still arriving (413, 408, 400 for a
		// head too large): pair them.
		c.enqueue(c.req)
	}
	method := ""
	if len(c.pending) > 0 {
		p := c.pending[0]
		c.pending = c.pending[1:]
		c.attach(r, p)
		method = p.method
	}
	c.sum.Responses++
	switch {
	case r.Code == 101:
		// Switching Protocols ends HTTP on this connection: the exchange is
		// answered, whatever follows is another protocol.
		r.Delimit = Tunnel
	case method == "HEAD" || r.Code == 204 || r.Code == 304:
		r.Delimit = NoBody
	case method == "CONNECT" && r.Code/100 == 2:
		r.Delimit = Tunnel
	case a.teSeen && a.teChunked:
		r.Delimit = Chunked
	case a.teSeen, a.clBad:
		r.Delimit = ByClose
	case r.ContentLength > 0:
		r.Delimit = ByLength
	case r.ContentLength == 0:
		r.Delimit = NoBody
	default:
		r.Delimit = ByClose
	}
	if r.Persistent() && r.Delimit != ByClose {
		c.sum.ServerKeepAlive++
	} else {
		c.sum.ServerClose++
	}
	switch r.Delimit {
	case NoBody:
		c.finishResponse(at, true)
	case Tunnel:
		c.tunnel()
		c.finishResponse(at, true)
	case Chunked:
		s.st = stChunkSize
	case ByLength:
		s.st, s.remain = stBody, r.ContentLength
	case ByClose:
		s.st = stCloseBody
	}
}

func (c *Conn) attach(r *Response, p *pending) {
	r.Seq, r.Method, r.Target, r.RequestAt, r.RequestDone = p.seq, p.method, p.target, p.start, p.done
}

func (c *Conn) enqueue(r *Request) {
	if c.reqPend != nil {
		return
	}
	if len(c.pending) >= MaxPending {
		c.pending = append(c.pending[:0], c.pending[1:]...)
		c.sum.Dropped++
	}
	p := &pending{seq: r.Seq, method: r.Method, target: r.Target, start: r.Start, done: r.Start}
	c.pending = append(c.pending, p)
	c.reqPend = p
}

func (c *Conn) tunnel() {
	c.sum.Tunnel = true
	for i := range c.side {
		c.side[i].st = stStopped
		c.sum.Stopped[i] = true
	}
}

func (c *Conn) body(side app.Side, n int64, gap bool, at app.Pos) {
	if side == app.Client && c.req != nil {
		c.req.Body += n
		c.req.BodyGap = c.req.BodyGap || gap
	} else if side == app.Server && c.resp != nil {
		c.resp.Body += n
		c.resp.BodyGap = c.resp.BodyGap || gap
		if !gap {
			c.resp.LastData = at
		}
	}
}

func (c *Conn) bodyPartDone(side app.Side, at app.Pos) {
	s := &c.side[side]
	if s.st == stChunkData {
		s.st = stChunkEnd
		return
	}
	c.messageDone(side, at)
}
