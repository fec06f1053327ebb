package checksum

import (
	"net/netip"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/seqnum"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Bounds of the observation.
const (
	MaxDirections = 16384 // host-to-host directions with statistics
	MaxSamples    = 4     // wrong packets kept as evidence per direction and kind
	maxPending    = 64    // wrong segments awaiting the receiver's verdict
	pendingLife   = 2 * time.Minute
	// MinFrame is the shortest Ethernet frame (without FCS): IP packets
	// under MinFrame-14 bytes are padded to it.
	MinFrame = 60
)

// Category is a property a TCP segment may have; a segment has several.
type Category uint8

const (
	Padded  Category = iota // its frame carried Ethernet padding after the IP packet
	Short                   // the IP packet is under 46 bytes: on Ethernet its frame is padded to 60
	BareACK                 // no payload, no SYN, FIN or RST
	FIN
	RST
	SYN
	Data // carries payload
	NumCategories
)

var categoryNames = [...]string{"padded frame", "packet under 46 bytes", "bare ACK", "FIN", "RST", "SYN", "data segment"}

func (c Category) String() string { return categoryNames[c] }

// Counts are per-category packet counts.
type Counts [NumCategories]int64

// Verdict is what the receiver made of wrong segments that carried
// sequence space.
type Verdict struct {
	// Accepted: acknowledged without being sent again: the receiver got
	// a copy with a good checksum.
	Accepted int64
	// Rejected: sent again before the receiver acknowledged it: dropped.
	Rejected int64
	// Chain is the longest run of copies of one segment that were all
	// wrong (a FIN resent four times, wrong each time: 4).
	Chain int
	// ChainRef is the last wrong copy of that run.
	ChainRef conn.Ref
}

// Direction is what was seen of the TCP segments from one host to another.
type Direction struct {
	Src, Dst netip.Addr
	// Verified counts segments whose checksum could be verified (fully
	// captured); Good those that were right.
	Verified, Good int64
	// Wrong ones, by pattern. Bad: none of the offload patterns below.
	Bad     int64
	Partial int64 // only the pseudo-header sum: left for the NIC
	Zero    int64 // zero field
	// Outbound counts wrong ones (any pattern) the capture marks as sent
	// by the capturing host.
	Outbound int64
	// OffloadStyle counts the wrong ones that are partial, zero or
	// outbound: the capture host's checksum offload.
	OffloadStyle int64
	// BadConstant says all Bad ones carried the same value, BadValue.
	BadConstant bool
	BadValue    uint16
	// OverPadding counts Bad ones that verify when the Ethernet padding
	// is summed as part of the segment.
	OverPadding int64
	// IPBad counts IPv4 headers with a wrong header checksum.
	IPBad int64
	// All and BadCats count the categories of verified and of Bad
	// segments.
	All, BadCats Counts
	// IP lengths of Bad and of good segments.
	BadMin, BadMax, GoodMin, GoodMax int
	// BadVerdict and OffloadVerdict say what the receiver did with Bad
	// and with offload-pattern segments.
	BadVerdict, OffloadVerdict Verdict
	// BadSamples and OffloadSamples are the first of each.
	BadSamples, OffloadSamples []conn.Ref
	// Flows are the connections (as sender → receiver endpoints) with Bad
	// segments, at most detect.MaxConnections; MoreFlows counts others.
	Flows     [][2]flow.Endpoint
	MoreFlows int
	// Frames is the first and last Bad segment's time.
	FirstBad, LastBad capture.Time
}

// Result is what Verdicts found in one capture.
type Result struct {
	Directions []*Direction
	// Untracked counts segments of directions beyond MaxDirections.
	Untracked int64
}

// Find returns the statistics of the direction src → dst, or nil.
func (r *Result) Find(src, dst netip.Addr) *Direction {
	for _, d := range r.Directions {
		if d.Src == src && d.Dst == dst {
			return d
		}
	}
	return nil
}

// Verdicts is the observer: it verifies every TCP checksum.
var Verdicts = &detect.Observer{
	Name: "checksum.verdicts",
	Doc:  "TCP checksum verdicts per direction: wrong ones told from offload artefacts, what they have in common, what the receiver did with them",
	New:  func() detect.Observation { return &observation{dirs: map[dirKey]*Direction{}} },
}

// dirKey is a direction's addresses packed without pointers, so that the
// map hashes plain memory and the collector has nothing to scan.
type dirKey [2][16]byte

// kind of a wrong checksum.
type kind uint8

const (
	right kind = iota
	bad
	offload
)

type pending struct {
	stream     int64
	fromA      bool
	start, end seqnum.Value
	dir        *Direction
	kind       kind
	ref        conn.Ref
	chain      int
}

type observation struct {
	dirs    map[dirKey]*Direction
	order   []*Direction
	last    [2]*Direction // lookup cache
	pending []pending
	res     Result
}

func (o *observation) direction(src, dst netip.Addr) *Direction {
	for _, d := range o.last {
		if d != nil && d.Src == src && d.Dst == dst {
			return d
		}
	}
	k := dirKey{src.As16(), dst.As16()}
	d := o.dirs[k]
	if d == nil {
		if len(o.dirs) >= MaxDirections {
			return nil
		}
		d = &Direction{Src: src, Dst: dst}
		o.dirs[k] = d
		o.order = append(o.order, d)
	}
	o.last[1], o.last[0] = o.last[0], d
	return d
}

// Packet verifies one TCP segment.
func (o *observation) Packet(pp *pipeline.Packet) {
	p := pp.Packet
	if p.TCP == nil || pp.TCP != nil && pp.TCP.Quoted {
		return
	}
	var chain int
	if len(o.pending) > 0 && pp.TCP != nil {
		chain = o.resolve(p, pp.TCP)
	}
	v := p.TransportChecksum()
	if v == packet.ChecksumUnknown {
		return
	}
	d := o.direction(p.Src, p.Dst)
	if d == nil {
		o.res.Untracked++
		return
	}
	if p.IPVersion == 4 && p.IPChecksum() == packet.ChecksumBad {
		d.IPBad++
	}
	d.Verified++
	var cats Counts
	categorise(p, &cats)
	for i, n := range cats {
		d.All[i] += n
	}
	ref := conn.Ref{Frame: p.Frame, Time: p.Time}
	k := right
	field := p.TCP.Checksum()
	out := p.Direction == capture.DirOutbound
	switch {
	case v == packet.ChecksumGood:
		d.Good++
		d.GoodMin, d.GoodMax = minMax(d.GoodMin, d.GoodMax, p.IPLen, d.Good == 1)
		return
	case v == packet.ChecksumZero:
		d.Zero++
		k = offload
	case field == uint16(header.PseudoHeaderSum(p.Src, p.Dst, header.ProtoTCP, len(p.TCP))):
		d.Partial++
		k = offload
	case out:
		k = offload
	default:
		k = bad
	}
	if out {
		d.Outbound++
	}
	if k == offload {
		d.OffloadStyle++
		if len(d.OffloadSamples) < MaxSamples {
			d.OffloadSamples = append(d.OffloadSamples, ref)
		}
	} else {
		if d.Bad == 0 {
			d.BadValue, d.BadConstant = field, true
			d.FirstBad = p.Time
		} else if field != d.BadValue {
			d.BadConstant = false
		}
		d.Bad++
		d.LastBad = p.Time
		d.BadMin, d.BadMax = minMax(d.BadMin, d.BadMax, p.IPLen, d.Bad == 1)
		for i, n := range cats {
			d.BadCats[i] += n
		}
		if overPadding(p) {
			d.OverPadding++
		}
		if len(d.BadSamples) < MaxSamples {
			d.BadSamples = append(d.BadSamples, ref)
		}
		d.addFlow(flow.Endpoint{Addr: p.Src, Port: p.SrcPort}, flow.Endpoint{Addr: p.Dst, Port: p.DstPort})
	}
	if a := pp.TCP; a != nil && a.NextSeq != a.RelSeq && len(o.pending) < maxPending {
		o.pending = append(o.pending, pending{stream: a.Stream, fromA: a.FromA, start: seqnum.Value(a.RelSeq),
			end: seqnum.Value(a.NextSeq), dir: d, kind: k, ref: ref, chain: chain + 1})
	}
}

// resolve settles the pending wrong segments this packet tells about: a
// resend of one (rejected), or an acknowledgment covering it (accepted). It
// returns the run length of wrong copies the packet continues, if it
// resends one.
func (o *observation) resolve(p *packet.Packet, a *tcp.Annotation) int {
	chain := 0
	keep := o.pending[:0]
	for _, q := range o.pending {
		done := false
		switch {
		case p.Time.Sub(q.ref.Time) > pendingLife:
			q.unresolved()
			done = true
		case q.stream != a.Stream:
		case a.FromA == q.fromA:
			s := seqnum.Value(a.RelSeq)
			if a.NextSeq != a.RelSeq && s.LessThanEq(q.start) && q.start.LessThan(seqnum.Value(a.NextSeq)) {
				v := q.verdict()
				v.Rejected++
				if q.chain > v.Chain {
					v.Chain, v.ChainRef = q.chain, q.ref
				}
				chain = max(chain, q.chain)
				done = true
			}
		case p.TCP.Has(header.FlagACK) && q.end.LessThanEq(seqnum.Value(a.RelAck)):
			q.verdict().Accepted++
			done = true
		case p.TCP.Has(header.FlagRST):
			q.unresolved()
			done = true
		}
		if !done {
			keep = append(keep, q)
		}
	}
	o.pending = keep
	return chain
}

// unresolved notes a wrong segment nobody resent or acknowledged: the
// last of a run of wrong copies.
func (q *pending) unresolved() {
	if v := q.verdict(); q.chain > v.Chain {
		v.Chain, v.ChainRef = q.chain, q.ref
	}
}

func (q *pending) verdict() *Verdict {
	if q.kind == bad {
		return &q.dir.BadVerdict
	}
	return &q.dir.OffloadVerdict
}

func minMax(lo, hi, v int, first bool) (int, int) {
	if first {
		return v, v
	}
	return min(lo, v), max(hi, v)
}

func categorise(p *packet.Packet, c *Counts) {
	if p.Padding > 0 {
		c[Padded]++
	}
	if p.IPLen < MinFrame-header.EthernetLen {
		c[Short]++
	}
	f := p.TCP.Flags()
	switch {
	case p.PayloadLen > 0:
		c[Data]++
	case f&(header.FlagSYN|header.FlagFIN|header.FlagRST) == 0:
		c[BareACK]++
	}
	if f&header.FlagFIN != 0 {
		c[FIN]++
	}
	if f&header.FlagRST != 0 {
		c[RST]++
	}
	if f&header.FlagSYN != 0 {
		c[SYN]++
	}
}

// overPadding reports whether a wrong TCP checksum verifies when the
// frame's Ethernet padding is summed as part of the segment (with the
// pseudo-header length grown to match): the checksum was computed over the
// frame's length rather than the IP packet's.
func overPadding(p *packet.Packet) bool {
	seg := p.TCP
	if p.Padding == 0 || p.Frag != packet.NotFragmented || cap(seg)-len(seg) < p.Padding {
		return false
	}
	ext := seg[:len(seg)+p.Padding]
	return header.Checksum(ext, header.PseudoHeaderSum(p.Src, p.Dst, header.ProtoTCP, len(ext))) == 0
}

func (d *Direction) addFlow(src, dst flow.Endpoint) {
	for _, f := range d.Flows {
		if f[0] == src && f[1] == dst {
			return
		}
	}
	if len(d.Flows) < detect.MaxConnections {
		d.Flows = append(d.Flows, [2]flow.Endpoint{src, dst})
	} else {
		d.MoreFlows++
	}
}

// Finish returns the *Result. Wrong segments still unanswered at the end
// count in the runs of wrong copies.
func (o *observation) Finish() any {
	for i := range o.pending {
		o.pending[i].unresolved()
	}
	r := o.res
	r.Directions = o.order
	return &r
}
