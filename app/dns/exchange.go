package dns

import (
	"strconv"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
)

// pendingQuery is a query waiting for its response.
type pendingQuery struct {
	id       uint16
	q        Question
	hasQ     bool
	first    app.Pos // first byte of its first transmission
	done     app.Pos // last byte of it
	tries    int
	gapAfter bool // the server side lost bytes after it was sent (TCP)
}

// answered remembers a matched query, to tell a repeated response from an
// unsolicited one.
type answered struct {
	id uint16
	q  Question
}

// maxAnswered is how many matched queries are remembered.
const maxAnswered = 64

// exchange matches queries and responses of one UDP 4-tuple or TCP
// connection.
type exchange struct {
	out      app.Output
	pending  []*pendingQuery
	answered []answered
	ended    bool
}

func (x *exchange) message(side app.Side, b []byte, at, end app.Pos, tcp bool) {
	m := &Message{Pos: at, End: end, Side: side, TCP: tcp}
	if parse(m, b) {
		if m.Response {
			x.response(m)
		} else {
			x.query(m)
		}
	}
	x.out.EmitRecord(m)
}

func sameQuestion(a, b Question) bool {
	return a.Type == b.Type && a.Class == b.Class && equalFold(a.Name, b.Name)
}

// equalFold compares names ASCII case-insensitively (RFC 4343): resolvers
// randomise case (DNS 0x20) and servers echo it, but not always.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (x *exchange) query(m *Message) {
	q, hasQ := m.Question0(), len(m.Questions) > 0
	for _, p := range x.pending {
		if p.id == m.ID && p.hasQ == hasQ && sameQuestion(p.q, q) {
			p.tries++
			m.Retransmission, m.RetransmitOf = true, p.first
			return
		}
	}
	if len(x.pending) >= MaxPending {
		x.noReply(x.pending[0])
		x.pending = append(x.pending[:0], x.pending[1:]...)
	}
	x.pending = append(x.pending, &pendingQuery{id: m.ID, q: q, hasQ: hasQ, first: m.Pos, done: m.End, tries: 1})
}

func (x *exchange) response(m *Message) {
	q := m.Question0()
	for i, p := range x.pending {
		if p.id != m.ID || len(m.Questions) > 0 && (!p.hasQ || !sameQuestion(p.q, q)) {
			continue
		}
		x.pending = append(x.pending[:i], x.pending[i+1:]...)
		m.ResponseTo, m.QueryDone = p.first, p.done
		if len(x.answered) >= maxAnswered {
			x.answered = append(x.answered[:0], x.answered[1:]...)
		}
		x.answered = append(x.answered, answered{p.id, p.q})
		x.emit(p, m)
		return
	}
	for _, a := range x.answered {
		if a.id == m.ID && sameQuestion(a.q, q) {
			m.Retransmission = true
			return
		}
	}
	m.Unsolicited = true
}

func (x *exchange) request(p *pendingQuery) string {
	s := p.q.Type.String() + " " + p.q.Name
	if !p.hasQ {
		s = "(no question)"
	}
	if p.tries > 1 {
		s += " (" + strconv.Itoa(p.tries) + " tries)"
	}
	return s
}

func (x *exchange) emit(p *pendingQuery, m *Message) {
	t := app.Transaction{
		Protocol: "dns", Operation: p.q.Type.String(), Request: x.request(p),
		Reply: reply(m), Status: app.StatusOK, RequestAt: p.first, ReplyAt: m.Pos, Latency: m.Latency(),
	}
	if m.Rcode != 0 {
		t.Status, t.Error = app.StatusError, m.Rcode.String()
	}
	x.out.Emit(t)
}

// reply summarises a response: its rcode, then up to three answers.
func reply(m *Message) string {
	var b strings.Builder
	b.WriteString(m.Rcode.String())
	n := 0
	for _, r := range m.Records {
		if r.Section != 1 || r.Data == "" {
			continue
		}
		if n == 3 {
			b.WriteString(" …")
			break
		}
		b.WriteString(" " + r.Type.String() + " " + r.Data)
		n++
	}
	if m.ANCount == 0 && m.Rcode == 0 {
		b.WriteString(" no answers")
	}
	if m.TC {
		b.WriteString(" (truncated)")
	}
	return b.String()
}

func (x *exchange) noReply(p *pendingQuery) {
	t := app.Transaction{
		Protocol: "dns", Operation: p.q.Type.String(), Request: x.request(p),
		Status: app.StatusNoReply, RequestAt: p.first,
	}
	if p.gapAfter {
		t.Status, t.Reply = app.StatusIncomplete, "answer may be in a capture gap"
	}
	x.out.Emit(t)
}

// serverGap marks the queries whose answer may have been lost in a gap.
func (x *exchange) serverGap() {
	for _, p := range x.pending {
		p.gapAfter = true
	}
}

func (x *exchange) end() {
	if x.ended {
		return
	}
	x.ended = true
	for _, p := range x.pending {
		x.noReply(p)
	}
	x.pending = nil
}
