package http1

import (
	"strconv"

	"github.com/wiresleuth/wiresleuth/app"
)

// Ending messages: by their framing, cut short, or out of step.

// messageDone ends the current message of side by its own framing.
func (c *Conn) messageDone(side app.Side, at app.Pos) {
	if side == app.Server {
		c.finishResponse(at, true)
		return
	}
	r := c.req
	if r == nil {
		return
	}
	r.End, r.Complete = at, true
	if c.reqPend != nil {
		c.reqPend.done = at
	}
	c.req, c.reqPend = nil, nil
	c.side[side].st = stStart
	c.out.EmitRecord(r)
}

// finishResponse ends the current response, complete or not, and reports
// the exchange.
func (c *Conn) finishResponse(at app.Pos, complete bool) {
	r := c.resp
	if r == nil {
		return
	}
	c.resp = nil
	if s := &c.side[app.Server]; s.st != stStopped {
		s.st = stStart
	}
	r.End, r.Complete = at, complete
	c.sum.LastComplete, c.sum.LastDelimit, c.sum.LastData = complete, r.Delimit, r.LastData
	c.out.EmitRecord(r)
	t := app.Transaction{
		Protocol: "http",
		Reply:    statusText(r.Code, r.Reason),
		ReplyAt:  r.Start,
		Status:   app.StatusOK,
	}
	if r.Seq != 0 {
		t.Operation, t.RequestAt, t.Latency = r.Method, r.RequestAt, r.Latency()
		t.Request = r.Method + " " + r.Target
	}
	switch {
	case r.Code >= 400:
		t.Status, t.Error = app.StatusError, strconv.Itoa(r.Code)
	case !complete:
		t.Status = app.StatusIncomplete
	}
	c.out.Emit(t)
}

// cut ends side's message in progress as incomplete.
func (c *Conn) cut(side app.Side, at app.Pos) {
	s := &c.side[side]
	if side == app.Server {
		if r := c.resp; r != nil && !s.headDone {
			// The status line came but not the whole header section: it
			// still answers the oldest request.
			if len(c.pending) > 0 {
				p := c.pending[0]
				c.pending = c.pending[1:]
				c.attach(r, p)
			}
			c.sum.Responses++
		}
		c.finishResponse(at, false)
		return
	}
	r := c.req
	if r == nil {
		return
	}
	c.enqueue(r)
	r.End = at
	c.req, c.reqPend = nil, nil
	c.out.EmitRecord(r)
}

// lose cuts side's message and looks for the next start line.
func (c *Conn) lose(side app.Side, at app.Pos) {
	s := &c.side[side]
	c.cut(side, at)
	s.lines.Reset()
	s.st, s.afterGap = stResync, true
}

func (c *Conn) malformed(side app.Side, why string, at app.Pos) {
	c.sum.Malformed[side]++
	if side == app.Client && c.req != nil && c.req.Malformed == "" {
		c.req.Malformed = why
	}
	if side == app.Server && c.resp != nil && c.resp.Malformed == "" {
		c.resp.Malformed = why
	}
	c.lose(side, at)
}
