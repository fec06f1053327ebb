// Package convtable builds the conversation table engineers open first in
// Wireshark (Statistics → Conversations; tshark -q -z conv,tcp and
// conv,udp): one row per TCP stream (a 4-tuple reused with a new ISN is a
// new row, as tcp.stream is) and per UDP 4-tuple, with frames and bytes
// each way, relative start and duration. Address A is the source of the
// conversation's first packet. Tunnel outer UDP headers count as UDP
// conversations and the inner flows as their own, as in tshark; the header
// an ICMP error quotes counts as nothing.
package convtable

import (
	"cmp"
	"slices"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// Conversation is one row.
type Conversation struct {
	Proto    string        `json:"proto"` // "tcp" or "udp"
	A        flow.Endpoint `json:"-"`
	B        flow.Endpoint `json:"-"`
	AtoB     Counts        `json:"a_to_b"`
	BtoA     Counts        `json:"b_to_a"`
	Start    time.Duration `json:"-"` // since the capture's first frame
	Duration time.Duration `json:"-"`
	Stream   int64         `json:"stream"` // tcp.stream; for UDP, the order of first appearance among UDP conversations
	first    capture.Time
	last     capture.Time
	order    int
}

// Counts are frames and bytes (frame lengths on the wire) one way.
type Counts struct {
	Frames int64 `json:"frames"`
	Bytes  int64 `json:"bytes"`
}

// Total sums both directions.
func (c *Conversation) Total() Counts {
	return Counts{c.AtoB.Frames + c.BtoA.Frames, c.AtoB.Bytes + c.BtoA.Bytes}
}

// Table accumulates conversations from pipeline packets.
type Table struct {
	tcp   map[int64]*Conversation
	udp   map[flow.Key]*Conversation
	first capture.Time
	seen  bool
	n     int
	nudp  int64
}

// New returns an empty table.
func New() *Table {
	return &Table{tcp: map[int64]*Conversation{}, udp: map[flow.Key]*Conversation{}}
}

// Add counts one packet.
func (t *Table) Add(p *pipeline.Packet) {
	if !t.seen {
		t.first, t.seen = p.First, true
	}
	for i := 0; i < p.NumEncap; i++ {
		if e := &p.Encap[i]; e.Proto == header.ProtoUDP {
			t.addUDP(p, flow.Endpoint{Addr: e.Src, Port: e.SrcPort}, flow.Endpoint{Addr: e.Dst, Port: e.DstPort})
		}
	}
	switch {
	case p.TCP != nil && p.Packet.TCP != nil && !p.TCP.Quoted:
		c := t.tcp[p.TCP.Stream]
		if c == nil {
			c = &Conversation{Proto: "tcp", A: flow.Endpoint{Addr: p.Src, Port: p.SrcPort}, B: flow.Endpoint{Addr: p.Dst, Port: p.DstPort},
				Stream: p.TCP.Stream, first: p.Time, order: t.n}
			t.n++
			t.tcp[p.TCP.Stream] = c
		}
		c.count(p, p.TCP.FromA)
	case p.UDP != nil:
		t.addUDP(p, flow.Endpoint{Addr: p.Src, Port: p.SrcPort}, flow.Endpoint{Addr: p.Dst, Port: p.DstPort})
	}
}

func (t *Table) addUDP(p *pipeline.Packet, src, dst flow.Endpoint) {
	key, _ := flow.New(header.ProtoUDP, src.Addr, src.Port, dst.Addr, dst.Port)
	c := t.udp[key]
	if c == nil {
		c = &Conversation{Proto: "udp", A: src, B: dst, first: p.Time, order: t.n, Stream: t.nudp}
		t.n++
		t.nudp++
		t.udp[key] = c
	}
	c.count(p, src == c.A)
}

func (c *Conversation) count(p *pipeline.Packet, fromA bool) {
	d := &c.BtoA
	if fromA {
		d = &c.AtoB
	}
	d.Frames++
	d.Bytes += int64(p.FrameLen)
	if p.Time < c.first {
		c.first = p.Time
	}
	if p.Time > c.last {
		c.last = p.Time
	}
}

// Rows returns the conversations of proto ("tcp" or "udp"), ordered as
// tshark prints them: by total frames, most first, then by first
// appearance.
func (t *Table) Rows(proto string) []*Conversation {
	var rows []*Conversation
	if proto == "tcp" {
		for _, c := range t.tcp {
			rows = append(rows, c)
		}
	} else {
		for _, c := range t.udp {
			rows = append(rows, c)
		}
	}
	for _, c := range rows {
		c.Start = c.first.Sub(t.first)
		c.Duration = max(0, c.last.Sub(c.first))
	}
	slices.SortFunc(rows, func(x, y *Conversation) int {
		if c := cmp.Compare(y.Total().Frames, x.Total().Frames); c != 0 {
			return c
		}
		return cmp.Compare(x.order, y.order)
	})
	return rows
}
