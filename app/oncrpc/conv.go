package oncrpc

import (
	"github.com/wiresleuth/wiresleuth/app"
)

// MaxOutstanding caps the calls awaiting a reply per TCP connection or UDP
// exchange. Past it the oldest call is given up: it is reported as
// StatusNoReply with a Reply saying it was not tracked to the end.
const MaxOutstanding = 4096

// Handler receives what a decoder finds. Every field is optional.
type Handler struct {
	// Transaction receives each call with its reply, or its lack of one.
	// GlusterFS callbacks, which are never answered, make none.
	Transaction app.Sink
	// Message receives every decoded call and reply, in stream order.
	// The Message is valid only during the call.
	Message func(*Message)
	// Damage receives each place where decoding could not follow the
	// stream: gaps, lost record marking, malformed messages, caps hit.
	Damage func(Damage)
}

// Damage says where and why decoding lost (part of) a stream.
type Damage struct {
	Side   app.Side
	At     app.Pos
	Kind   DamageKind
	Detail string
}

// DamageKind classifies Damage.
type DamageKind uint8

const (
	// DamageGap: bytes were not captured. Within a record's fragment the
	// record marking survives; otherwise decoding resynchronises.
	DamageGap DamageKind = iota
	// DamageResync: decoding found a plausible record mark and RPC header
	// after losing the record marking and continues from there.
	DamageResync
	// DamageNoSync: the record marking was lost and not found again before
	// the end: the rest of that side was not decoded.
	DamageNoSync
	// DamageMalformed: a message that is not a valid RPC message.
	DamageMalformed
	// DamageCap: a length or count exceeded its cap.
	DamageCap
	// DamageCut: a record started but the stream ended (FIN, RST or end
	// of capture) before it completed.
	DamageCut
)

func (k DamageKind) String() string {
	return [...]string{"gap", "resync", "no-sync", "malformed", "cap", "cut"}[k]
}

// callKey identifies a call: its XID and the side that sent it (GlusterFS
// servers also call clients, with their own XIDs).
type callKey struct {
	xid  uint32
	side app.Side
}

type pending struct {
	call    Message
	retrans int  // retransmissions of the call seen
	gap     bool // the answering side lost bytes after the call: the reply may be among them
	done    bool
}

// conv matches calls and replies of one connection or exchange.
type conv struct {
	h     Handler
	calls map[callKey]*pending
	order []*pending // calls in arrival order, answered ones included until compacted
	free  []*pending
}

func newConv(h Handler) conv {
	return conv{h: h, calls: make(map[callKey]*pending)}
}

func (c *conv) damage(side app.Side, at app.Pos, k DamageKind, detail string) {
	if c.h.Damage != nil {
		c.h.Damage(Damage{Side: side, At: at, Kind: k, Detail: detail})
	}
}

// handle decodes the RPC message b, already stamped with its side and
// positions in m, and matches it.
func (c *conv) handle(b []byte, m *Message) {
	x, valid := decodeHeader(b, m)
	if !valid {
		c.damage(m.Side, m.At, DamageMalformed, "not an RPC message (xid 0x"+hex8(m.XID)+")")
		return
	}
	if !x.ok() {
		// The header itself is cut short (a runt datagram or record).
		m.Cut = true
		if m.Type == Reply {
			c.damage(m.Side, m.At, DamageMalformed, "RPC reply header cut short (xid 0x"+hex8(m.XID)+")")
			c.incomplete(m.Side, m.XID, m.At)
			return
		}
		if len(b) < 24 {
			c.damage(m.Side, m.At, DamageMalformed, "RPC call header cut short (xid 0x"+hex8(m.XID)+")")
			return
		}
	}
	if m.Type == Call {
		if x.ok() && m.RPCVersion == 2 && !sealed(&m.Cred) {
			decodeCallBody(m, &x)
		}
		c.call(m)
		return
	}
	k := callKey{m.XID, m.Side.Other()}
	p := c.calls[k]
	if p != nil {
		m.Matched = true
		m.RPCVersion = p.call.RPCVersion
		m.Program, m.Version, m.Procedure = p.call.Program, p.call.Version, p.call.Procedure
		m.CallAt = p.call.EndAt
		if x.ok() && m.ReplyStat == Accepted && m.AcceptStat == Success && !sealed(&p.call.Cred) {
			decodeReplyBody(m, &x)
		}
	}
	c.emitMessage(m)
	if p == nil {
		return // a reply to a call not captured, or a duplicate reply
	}
	c.emit(p, m)
	delete(c.calls, k)
	p.done = true
	c.compact()
}

// sealed reports whether RPCSEC_GSS integrity or privacy wraps the body,
// which then cannot be decoded without the keys.
func sealed(cred *Auth) bool { return cred.Flavor == RPCSecGSS && cred.GSSService >= 2 }

func (c *conv) call(m *Message) {
	if oneWay(m.Program) {
		c.emitMessage(m) // no reply will come: nothing to wait for
		return
	}
	k := callKey{m.XID, m.Side}
	if p := c.calls[k]; p != nil {
		p.retrans++ // same XID from the same side: a retransmission (rpc.call.dup)
		m.Dup = true
		c.emitMessage(m)
		return
	}
	if len(c.calls) >= MaxOutstanding {
		c.evictOldest()
	}
	var p *pending
	if n := len(c.free); n > 0 {
		p, c.free = c.free[n-1], c.free[:n-1]
		*p = pending{}
	} else {
		p = new(pending)
	}
	p.call = *m
	c.calls[k] = p
	c.order = append(c.order, p)
	c.emitMessage(m)
}

func (c *conv) emitMessage(m *Message) {
	if c.h.Message != nil {
		c.h.Message(m)
	}
}

func (c *conv) emit(p *pending, reply *Message) {
	if c.h.Transaction != nil {
		c.h.Transaction(transaction(&p.call, reply, p.retrans))
	}
}

// compact drops answered calls from the head of order and recycles them.
func (c *conv) compact() {
	i := 0
	for i < len(c.order) && c.order[i].done {
		c.free = append(c.free, c.order[i])
		c.order[i] = nil
		i++
	}
	if i > 0 {
		c.order = append(c.order[:0], c.order[i:]...)
	}
	// Answered calls behind an old unanswered one accumulate; keep order
	// bounded by squeezing them out once it is twice the cap.
	if len(c.order) > 2*MaxOutstanding {
		j := 0
		for _, p := range c.order {
			if p.done {
				c.free = append(c.free, p)
				continue
			}
			c.order[j] = p
			j++
		}
		clear(c.order[j:])
		c.order = c.order[:j]
	}
}

func (c *conv) evictOldest() {
	for _, p := range c.order {
		if p.done {
			continue
		}
		c.damage(p.call.Side, p.call.At, DamageCap, "more than 4096 calls outstanding: oldest call no longer tracked")
		if c.h.Transaction != nil {
			t := transaction(&p.call, nil, p.retrans)
			t.Reply = "not tracked: more than 4096 calls outstanding"
			c.h.Transaction(t)
		}
		delete(c.calls, callKey{p.call.XID, p.call.Side})
		p.done = true
		c.compact()
		return
	}
}

// lostBytes records that side lost bytes: calls from the other side still
// waiting may have had their replies in the gap.
func (c *conv) lostBytes(side app.Side) {
	for _, p := range c.order {
		if !p.done && p.call.Side != side {
			p.gap = true
		}
	}
}

// incomplete reports the call answered by a reply that started but did
// not complete (cut by the end of the capture, a reset or lost marking).
func (c *conv) incomplete(side app.Side, xid uint32, at app.Pos) {
	k := callKey{xid, side.Other()}
	p := c.calls[k]
	if p == nil {
		return
	}
	if c.h.Transaction != nil {
		t := transaction(&p.call, nil, p.retrans)
		t.Status = app.StatusIncomplete
		t.Reply = "reply started but did not complete"
		t.ReplyAt = at
		t.Latency = at.Time.Sub(p.call.At.Time)
		c.h.Transaction(t)
	}
	delete(c.calls, k)
	p.done = true
	c.compact()
}

// end reports every call still waiting, in call order.
func (c *conv) end() {
	for _, p := range c.order {
		if p.done {
			continue
		}
		if c.h.Transaction != nil {
			t := transaction(&p.call, nil, p.retrans)
			if p.gap {
				t.Status = app.StatusIncomplete
				t.Reply = "unknown: the reply may be in bytes the capture missed"
			}
			c.h.Transaction(t)
		}
		delete(c.calls, callKey{p.call.XID, p.call.Side})
		p.done = true
	}
	c.compact()
}

// handleRecord handles a TCP record; hole says a capture gap cut it.
func (c *conv) handleRecord(rec []byte, m *Message, hole bool) {
	if hole {
		var h Message
		if x, valid := decodeHeader(rec, &h); valid && !x.ok() {
			// The gap took part of the header: a reply can only be said to
			// be incomplete; a call cannot be named.
			if len(rec) >= 8 && h.Type == Reply {
				c.incomplete(m.Side, h.XID, m.At)
			} else {
				c.damage(m.Side, m.At, DamageGap, "RPC header of a record lost in a capture gap")
			}
			return
		}
	}
	c.handle(rec, m)
}

// waiting returns a test for whether a reply from side would answer a call
// still waiting.
func (c *conv) waiting(side app.Side) func(uint32) bool {
	return func(xid uint32) bool { return c.calls[callKey{xid, side.Other()}] != nil }
}

// oneWay reports programs whose calls get no reply: GlusterFS servers send
// callbacks (rpcsvc_callback_submit) that clients never answer.
func oneWay(prog uint32) bool { return prog == ProgGlusterCbk }
