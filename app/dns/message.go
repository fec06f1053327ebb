package dns

import (
	"net/netip"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
)

// Question is one entry of the question section.
type Question struct {
	Name  string // presentation form, "." for the root
	Type  Type
	Class uint16
}

// RR is one resource record. Data is the RDATA in presentation form for the
// types the decoder reads (A, AAAA, CNAME, NS, PTR, MX, SRV, SOA, TXT),
// otherwise empty.
type RR struct {
	Section uint8 // 1 answer, 2 authority, 3 additional
	Name    string
	Type    Type
	Class   uint16
	TTL     uint32
	Addr    netip.Addr // A, AAAA
	Data    string
}

// Message is one DNS message.
type Message struct {
	Pos       app.Pos // frame of its first byte (over TCP: of its length prefix)
	End       app.Pos // frame of its last byte (the same as Pos over UDP)
	Side      app.Side
	TCP       bool
	ID        uint16
	Response  bool
	Opcode    uint8
	AA, TC    bool
	RD, RA    bool
	AD, CD    bool
	Rcode     Rcode // with EDNS's upper bits when an OPT record says so
	QDCount   uint16
	ANCount   uint16
	NSCount   uint16
	ARCount   uint16
	Questions []Question // at most MaxQuestions
	Records   []RR       // at most MaxRecords, answers first
	EDNS      bool
	UDPSize   uint16 // EDNS payload size
	Truncated bool   // more questions or records than kept
	Malformed string // first structural problem; fields before it are kept

	// Matching, as tshark reports it: a retransmitted query points at the
	// first one; a response at its query and the time since it.
	Retransmission bool
	RetransmitOf   app.Pos // first transmission of a retransmitted query
	ResponseTo     app.Pos // the query a response answers (first transmission)
	QueryDone      app.Pos // the frame that completed that query
	Unsolicited    bool    // a response to no query seen
}

func (m *Message) At() app.Pos   { return m.Pos }
func (m *Message) Done() app.Pos { return m.End }

// Latency is the time from the query's first transmission to this response.
func (m *Message) Latency() time.Duration {
	if !m.Response || m.ResponseTo.Frame == 0 {
		return 0
	}
	return m.Pos.Time.Sub(m.ResponseTo.Time)
}

// Question0 returns the first question, or a zero one.
func (m *Message) Question0() Question {
	if len(m.Questions) == 0 {
		return Question{}
	}
	return m.Questions[0]
}

// Fields yields tshark's names: dns.id, dns.flags.response,
// dns.flags.opcode, dns.flags.truncated, dns.flags.rcode (responses),
// dns.qry.name/type/class, dns.count.answers, dns.resp.name/type, dns.a,
// dns.aaaa, dns.cname, dns.response_to and dns.time (between the frames
// that completed query and response, as tshark; Latency is between first
// bytes), dns.retransmission and
// dns.retransmit_request_in.
func (m *Message) Fields(yield func(app.Field) bool) {
	ok := yield(app.Hex("dns.id", uint64(m.ID), 4)) &&
		yield(app.Bool("dns.flags.response", m.Response)) &&
		yield(app.Uint("dns.flags.opcode", uint64(m.Opcode))) &&
		yield(app.Bool("dns.flags.truncated", m.TC)) &&
		(!m.Response || yield(app.Uint("dns.flags.rcode", uint64(m.Rcode&0xf)))) &&
		yield(app.Uint("dns.count.answers", uint64(m.ANCount)))
	for _, q := range m.Questions {
		ok = ok && yield(app.String("dns.qry.name", display(q.Name))) &&
			yield(app.Uint("dns.qry.type", uint64(q.Type))) &&
			yield(app.Hex("dns.qry.class", uint64(q.Class), 4))
	}
	for _, r := range m.Records {
		if !ok {
			return
		}
		if r.Type == TypeOPT {
			continue // tshark names the OPT pseudo-record differently
		}
		ok = yield(app.String("dns.resp.name", display(r.Name))) && yield(app.Uint("dns.resp.type", uint64(r.Type)))
		switch r.Type {
		case TypeA:
			ok = ok && yield(app.Addr("dns.a", r.Addr.String()))
		case TypeAAAA:
			ok = ok && yield(app.Addr("dns.aaaa", r.Addr.String()))
		case TypeCNAME:
			ok = ok && yield(app.String("dns.cname", display(r.Data)))
		}
	}
	switch {
	case !ok:
	case m.Response && m.ResponseTo.Frame != 0:
		// As tshark: between the frames that completed query and response.
		_ = yield(app.Uint("dns.response_to", uint64(m.QueryDone.Frame))) &&
			yield(app.Duration("dns.time", int64(m.End.Time-m.QueryDone.Time)))
	case m.Retransmission:
		_ = yield(app.Bool("dns.retransmission", true)) &&
			yield(app.Uint("dns.retransmit_request_in", uint64(m.RetransmitOf.Frame)))
	}
}

// display is how tshark shows a name: the root as "<Root>".
func display(name string) string {
	if name == "." {
		return "<Root>"
	}
	return name
}
