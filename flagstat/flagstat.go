// Package flagstat counts TCP segments by their flag combination and by who
// sent them: the histogram engineers build with `ngrep | cut | sort | uniq
// -c` to see, say, that 1% of connections end in a reset and which side
// sends it. Flags are written as tcpdump writes them ("S", "S.", ".", "P.",
// "F.", "R", "R." …).
package flagstat

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/pktline"
)

// Sender identifies who sent segments: a host, or with a port given, the
// side of the conversation that uses that port ("server") or not
// ("client").
type Sender struct {
	Host netip.Addr `json:"host,omitempty"`
	Side string     `json:"side,omitempty"`
}

func (s Sender) String() string {
	if s.Side != "" {
		return s.Side
	}
	return s.Host.String()
}

// Row is one sender's count of one flag combination.
type Row struct {
	Sender Sender `json:"sender"`
	Flags  string `json:"flags"`
	Count  int64  `json:"count"`
	// Share is Count over all segments the sender sent.
	Share float64 `json:"share"`
}

type key struct {
	s     Sender
	flags uint8
}

// Counter accumulates segments.
type Counter struct {
	port   uint16
	counts map[key]int64
	order  map[Sender]int
}

// New returns a counter. A non-zero port splits senders into the side using
// that port ("server") and the other ("client"); segments not involving
// the port are not counted.
func New(port uint16) *Counter {
	return &Counter{port: port, counts: map[key]int64{}, order: map[Sender]int{}}
}

// Add counts one packet if it is a TCP segment (not a header quoted in an
// ICMP error).
func (c *Counter) Add(p *pipeline.Packet) {
	if p.Packet.TCP == nil {
		return
	}
	var s Sender
	switch {
	case c.port == 0:
		s.Host = p.Src
	case p.SrcPort == c.port:
		s.Side = "server"
	case p.DstPort == c.port:
		s.Side = "client"
	default:
		return
	}
	if _, ok := c.order[s]; !ok {
		c.order[s] = len(c.order)
	}
	c.counts[key{s, p.Packet.TCP.Flags()}]++
}

// Rows returns the histogram: senders in order of first appearance, and
// within a sender the most frequent flags first.
func (c *Counter) Rows() []Row {
	totals := map[Sender]int64{}
	for k, n := range c.counts {
		totals[k.s] += n
	}
	rows := make([]Row, 0, len(c.counts))
	for k, n := range c.counts {
		rows = append(rows, Row{Sender: k.s, Flags: pktline.Flags(k.flags), Count: n, Share: float64(n) / float64(totals[k.s])})
	}
	slices.SortFunc(rows, func(x, y Row) int {
		if d := cmp.Compare(c.order[x.Sender], c.order[y.Sender]); d != 0 {
			return d
		}
		if d := cmp.Compare(y.Count, x.Count); d != 0 {
			return d
		}
		return cmp.Compare(x.Flags, y.Flags)
	})
	return rows
}
