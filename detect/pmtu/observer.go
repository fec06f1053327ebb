package pmtu

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
	maxRuns    = 8 // unacknowledged runs of same-size segments per direction
	maxStuck   = 4 // retransmitted ranges followed per direction
	maxBeyond  = 4 // smaller segments acknowledged beyond a hole
	MaxConns   = 65536
	MaxResults = 10000
	// MaxSizes bounds the per-direction and per-host-pair size tables.
	MaxSizes = 100_000
	idle     = 5 * time.Minute
	linger   = 10 * time.Second
	sweep    = time.Second
)

// MinTransmissions is how many times a range must have been sent at one
// size (the original and at least two retransmissions) to count as stuck.
const MinTransmissions = 3

// Segments is the observer: it follows TCP data by packet size.
var Segments = &detect.Observer{
	Name: "pmtu.segments",
	Doc:  "TCP data by IP packet size: sizes acknowledged, ranges retransmitted and never acknowledged, smaller segments passing beyond them, holes never filled",
	New:  func() detect.Observation { return newObservation() },
}

// View is how a candidate was seen.
type View uint8

const (
	// SenderView: the capture saw the full-size segments sent again and
	// again, never acknowledged.
	SenderView View = iota + 1
	// Recovered: as SenderView, but the sender then resent the range in
	// smaller segments, which were acknowledged (TCP MTU probing,
	// blackhole detection): a stall, not a broken connection.
	Recovered
	// ReceiverView: the capture saw data beyond a hole that was never
	// filled, and never a packet from the sender as large as the
	// receiver's MSS allows.
	ReceiverView
)

func (v View) String() string {
	return [...]string{"", "sender", "recovered", "receiver"}[v]
}

// Candidate is one direction of a connection that shows a PMTU blackhole's
// signature at this vantage point.
type Candidate struct {
	View             View
	Stream           int64
	Sender, Receiver flow.Endpoint
	V6               bool
	// Sequence numbers are relative to the sender's initial sequence
	// number, as tshark shows them.
	//
	// Stuck: the range that was sent Transmissions times as IPLen-byte
	// packets, first and last at FirstTx and LastTx, never acknowledged
	// (Recovered: acknowledged at AckedBy after the sender resent it in
	// FallbackIPLen-byte packets).
	StuckSeq      uint32
	IPLen         int
	Transmissions int
	FirstTx       conn.Ref
	LastTx        conn.Ref
	FallbackIPLen int
	AckedBy       conn.Ref
	// MaxAcked is the largest IP packet from the sender that the
	// receiver acknowledged (cumulatively or by SACK), at MaxAckedRef.
	MaxAcked    int
	MaxAckedRef conn.Ref
	// Beyond is a smaller packet sent after the stuck range and
	// acknowledged by SACK while the range was still missing
	// (BeyondIPLen 0: none).
	BeyondIPLen int
	BeyondRef   conn.Ref
	BeyondAck   conn.Ref
	// MaxSent is the largest IP packet from the sender seen here.
	MaxSent    int
	MaxSentRef conn.Ref
	// Receiver view: bytes [HoleStart, HoleEnd) never seen, the segment
	// after them at HoleAfter, the receiver's ACKs or SACKs asking for
	// them after it (Asks).
	HoleStart, HoleEnd uint32
	HoleAfter          conn.Ref
	Asks               int
	// End is the connection's last packet here; EndedBy says how: "RST
	// from <host>", "FIN", or "" (idle or end of capture).
	End     conn.Ref
	EndedBy string
}

// Result is what Segments found in one capture.
type Result struct {
	Candidates []*Candidate
	// MaxIP gives, for every direction (sender, receiver) that had
	// retransmissions or holes, the largest IP packet from the sender seen
	// here.
	MaxIP map[[2]flow.Endpoint]int
	// HostMax gives the largest IP packet with data seen from one host to
	// another (in connections the observer followed).
	HostMax map[[2]netip.Addr]int
	// Untracked counts connections not followed because MaxConns were
	// open at once.
	Untracked int64
}

type segRun struct {
	start, end    seqnum.Value
	ipLen, payLen int
	first         conn.Ref
}

type stuck struct {
	start, end   seqnum.Value
	ipLen        int
	big, smaller int
	smallIPLen   int
	first, last  conn.Ref
	acked        bool
	ackedSmall   bool
	ackedBy      conn.Ref
}

// trouble is what a side keeps once its data needs retransmitting.
type trouble struct {
	stuck   [maxStuck]stuck
	nStuck  int
	beyond  [maxBeyond]credit
	nBeyond int
}

type credit struct {
	seq   seqnum.Value
	ipLen int
	ref   conn.Ref // the segment
	ack   conn.Ref // the SACK
}

// side is one direction of a connection: a sender's data and what its
// peer acknowledged of it.
type side struct {
	ep                  flow.Endpoint
	base                uint32 // ISN: absolute minus relative sequence numbers
	haveBase            bool
	maxSent, maxAcked   int
	maxPay              int
	maxSentRef, ackedBy conn.Ref
	nxt, una            seqnum.Value
	haveNxt, haveUna    bool
	runs                [maxRuns]segRun
	nRuns               int
	runsLost            bool
	t                   *trouble // made on the first retransmission or SACK
	retrans             int
	// receiver view
	hole     [2]seqnum.Value
	holeRef  conn.Ref
	haveHole bool
	holeDead bool // the hole was filled or acknowledged: no receiver view
	asks     int
}

type connState struct {
	stream  int64
	v6      bool
	s       [2]side // by annotation FromA: 0 = A's data, 1 = B's data
	last    conn.Ref
	closed  [2]bool
	reset   bool
	resetBy flow.Endpoint
}

type observation struct {
	conns     map[int64]*connState
	free      []*connState
	nextSweep capture.Time
	opts      header.TCPOptions
	res       Result
}

func newObservation() *observation {
	return &observation{conns: map[int64]*connState{},
		res: Result{MaxIP: map[[2]flow.Endpoint]int{}, HostMax: map[[2]netip.Addr]int{}}}
}

func (o *observation) Packet(pp *pipeline.Packet) {
	p := pp.Packet
	a := pp.TCP
	if p.TCP == nil || a == nil || a.Quoted {
		return
	}
	if p.Time >= o.nextSweep {
		o.sweep(p.Time)
		o.nextSweep = p.Time.Add(sweep)
	}
	c := o.conns[a.Stream]
	if c == nil {
		if len(o.conns) >= MaxConns {
			o.res.Untracked++
			return
		}
		c = o.newConn(a.Stream, p.IPVersion == 6)
	}
	d := 0
	if !a.FromA {
		d = 1
	}
	ref := conn.Ref{Frame: p.Frame, Time: p.Time}
	c.last = ref
	src := flow.Endpoint{Addr: p.Src, Port: p.SrcPort}
	c.s[d].ep = src
	if !c.s[d].haveBase {
		c.s[d].base, c.s[d].haveBase = p.TCP.Seq()-a.RelSeq, true
	}
	flags := p.TCP.Flags()
	if flags&header.FlagRST != 0 {
		c.reset, c.resetBy = true, src
	}
	if flags&header.FlagFIN != 0 {
		c.closed[d] = true
	}
	o.segment(&c.s[d], p.TCP.Seq(), p.PayloadLen, flags, p.IPLen, a, ref)
	if flags&header.FlagACK != 0 && flags&header.FlagRST == 0 {
		o.ack(&c.s[1-d], p, ref)
	}
}

// emptied empties a recycled trouble.
func emptied(t *trouble) *trouble {
	if t != nil {
		*t = trouble{}
	}
	return t
}

func (o *observation) newConn(stream int64, v6 bool) *connState {
	var c *connState
	if n := len(o.free); n > 0 {
		c = o.free[n-1]
		o.free = o.free[:n-1]
		t0, t1 := c.s[0].t, c.s[1].t
		*c = connState{}
		c.s[0].t, c.s[1].t = emptied(t0), emptied(t1)
	} else {
		c = new(connState)
	}
	c.stream, c.v6 = stream, v6
	o.conns[stream] = c
	return c
}

// segment follows a segment from the side's sender.
func (o *observation) segment(s *side, seq32 uint32, payload int, flags uint8, ipLen int, a *tcp.Annotation, ref conn.Ref) {
	seq := seqnum.Value(seq32)
	n := payload
	if flags&header.FlagSYN != 0 {
		n++
	}
	if flags&header.FlagFIN != 0 {
		n++
	}
	end := seq.Add(seqnum.Size(n))
	if payload == 0 || a.Flags&(tcp.ZeroWindowProbe|tcp.KeepAlive) != 0 {
		if n > 0 && (!s.haveNxt || s.nxt.LessThan(end)) {
			s.nxt, s.haveNxt = end, true
		}
		return
	}
	if ipLen > s.maxSent {
		s.maxSent, s.maxSentRef = ipLen, ref
	}
	s.maxPay = max(s.maxPay, payload)
	switch {
	case !s.haveNxt || s.nxt.LessThanEq(seq):
		if s.haveNxt && s.nxt.LessThan(seq) && !s.haveHole && !s.holeDead {
			s.hole, s.holeRef, s.haveHole = [2]seqnum.Value{s.nxt, seq}, ref, true
		}
		s.addRun(seq, end, ipLen, payload, ref)
		s.nxt, s.haveNxt = end, true
	default:
		// Below the highest byte sent: a retransmission, or the late
		// original of a hole (the receiver view's bytes arriving).
		if s.haveHole && seq.LessThanEq(s.hole[0]) && s.hole[0].LessThan(end) {
			s.hole[0] = end
			if !s.hole[0].LessThan(s.hole[1]) {
				s.haveHole, s.holeDead = false, true
			}
		} else if s.haveHole && s.hole[0].LessThan(end) && seq.LessThan(s.hole[1]) {
			s.holeDead, s.haveHole = true, false // partly filled: not a clean hole
		}
		if s.haveUna && end.LessThanEq(s.una) {
			return // already acknowledged: spurious
		}
		s.retrans++
		s.resent(seq, end, ipLen, ref)
		if s.nxt.LessThan(end) {
			s.nxt = end
		}
	}
}

// addRun appends a fresh segment to the runs of same-size segments.
func (s *side) addRun(seq, end seqnum.Value, ipLen, payLen int, ref conn.Ref) {
	if s.nRuns > 0 {
		r := &s.runs[s.nRuns-1]
		if r.ipLen == ipLen && r.payLen == payLen && r.end == seq {
			r.end = end
			return
		}
	}
	if s.nRuns == maxRuns {
		// Forget the oldest: its sizes can no longer be credited.
		copy(s.runs[:], s.runs[1:])
		s.nRuns--
		s.runsLost = true
	}
	s.runs[s.nRuns] = segRun{start: seq, end: end, ipLen: ipLen, payLen: payLen, first: ref}
	s.nRuns++
}

// runAt returns the run holding seq, or nil.
func (s *side) runAt(seq seqnum.Value) *segRun {
	for i := range s.nRuns {
		r := &s.runs[i]
		if seq.InRange(r.start, r.end) {
			return r
		}
	}
	return nil
}

// resent notes a retransmission of [seq, end) as an ipLen-byte packet.
func (s *side) resent(seq, end seqnum.Value, ipLen int, ref conn.Ref) {
	if s.t == nil {
		s.t = new(trouble)
	}
	t := s.t
	for i := range t.nStuck {
		st := &t.stuck[i]
		if st.start != seq {
			continue
		}
		switch {
		case ipLen >= st.ipLen:
			st.big++
		default:
			st.smaller++
			st.smallIPLen = ipLen
			s.carve(seq, end, ipLen)
		}
		st.last = ref
		return
	}
	st := stuck{start: seq, end: end, ipLen: ipLen, big: 1, first: ref, last: ref}
	if r := s.runAt(seq); r != nil {
		st.first = r.first
		if r.ipLen > ipLen {
			st.ipLen, st.smaller, st.smallIPLen = r.ipLen, 1, ipLen
			s.carve(seq, end, ipLen)
		} else {
			st.big = 2 // the original, seen, and this one
		}
	}
	if t.nStuck == maxStuck {
		// Make room by forgetting an acknowledged range of no interest.
		j := -1
		for i := range t.nStuck {
			if x := &t.stuck[i]; x.acked && !(x.ackedSmall && x.big >= MinTransmissions) {
				j = i
				break
			}
		}
		if j < 0 {
			return
		}
		copy(t.stuck[j:], t.stuck[j+1:])
		t.nStuck--
	}
	t.stuck[t.nStuck] = st
	t.nStuck++
}

// carve marks [seq, end) as sent in ipLen-byte packets, so that its
// acknowledgment credits the smaller size, not the original one: the run
// holding it is split in up to three.
func (s *side) carve(seq, end seqnum.Value, ipLen int) {
	for i := range s.nRuns {
		r := s.runs[i]
		if !seq.InRange(r.start, r.end) {
			continue
		}
		parts, n := make3(r, seq, end, ipLen)
		if s.nRuns-1+n > maxRuns {
			s.runsLost = true
			return
		}
		copy(s.runs[i+n:s.nRuns-1+n], s.runs[i+1:s.nRuns])
		copy(s.runs[i:], parts[:n])
		s.nRuns += n - 1
		return
	}
}

// make3 splits run r around [seq, end) sent as ipLen-byte packets.
func make3(r segRun, seq, end seqnum.Value, ipLen int) ([3]segRun, int) {
	var out [3]segRun
	n := 0
	if r.start.LessThan(seq) {
		out[n] = segRun{start: r.start, end: seq, ipLen: r.ipLen, payLen: r.payLen, first: r.first}
		n++
	}
	e := end
	if r.end.LessThan(e) {
		e = r.end
	}
	out[n] = segRun{start: seq, end: e, ipLen: ipLen, payLen: int(e.Sub(seq)), first: r.first}
	n++
	if e.LessThan(r.end) {
		out[n] = segRun{start: e, end: r.end, ipLen: r.ipLen, payLen: r.payLen, first: r.first}
		n++
	}
	return out, n
}

// ack applies the peer's acknowledgment (cumulative and SACK) to side s.
func (o *observation) ack(s *side, p *packet.Packet, ref conn.Ref) {
	ackv := seqnum.Value(p.TCP.Ack())
	if !s.haveNxt {
		return
	}
	advanced := !s.haveUna || s.una.LessThan(ackv)
	if advanced && ackv.LessThanEq(s.nxt) {
		s.una, s.haveUna = ackv, true
		s.cumulative(ackv, ref)
	}
	if s.haveHole && s.hole[0].LessThan(ackv) {
		s.haveHole, s.holeDead = false, true // the receiver has the bytes: capture loss, not a hole
	}
	sack := p.TCP.HeaderLen() > header.TCPMinLen
	if sack {
		p.TCP.ParseOptions(&o.opts)
		sack = o.opts.Has&header.HasSACK != 0
	}
	if s.haveHole && (sack || !advanced && p.PayloadLen == 0) {
		s.asks++
	}
	if !sack {
		return
	}
	for i := range o.opts.NumSACK {
		b := o.opts.SACK[i]
		s.sacked(seqnum.Value(b.Left), seqnum.Value(b.Right), ref)
	}
}

// cumulative credits the runs and stuck ranges an ACK up to ackv covers.
func (s *side) cumulative(ackv seqnum.Value, ref conn.Ref) {
	keep := 0
	for i := range s.nRuns {
		r := s.runs[i]
		if r.start.Add(seqnum.Size(r.payLen)).LessThanEq(ackv) {
			s.credit(r.ipLen, ref)
		}
		if ackv.LessThan(r.end) {
			if r.start.LessThan(ackv) {
				r.start = ackv
			}
			s.runs[keep] = r
			keep++
		}
	}
	s.nRuns = keep
	if t := s.t; t != nil {
		for i := range t.nStuck {
			st := &t.stuck[i]
			if !st.acked && st.end.LessThanEq(ackv) {
				st.acked, st.ackedBy, st.ackedSmall = true, ref, st.smaller > 0
			}
		}
	}
}

func (s *side) credit(ipLen int, ack conn.Ref) {
	if ipLen > s.maxAcked {
		s.maxAcked, s.ackedBy = ipLen, ack
	}
}

// sacked credits what a SACK block [l, r) covers, and notes smaller
// segments received beyond a range still missing.
func (s *side) sacked(l, r seqnum.Value, ref conn.Ref) {
	if !s.haveUna || !s.una.LessThan(l) {
		return
	}
	head := s.runAt(s.una)
	for i := range s.nRuns {
		x := &s.runs[i]
		lo, hi := x.start, x.end
		if lo.LessThan(l) {
			lo = l
		}
		if r.LessThan(hi) {
			hi = r
		}
		if !lo.LessThan(hi) || int(hi.Sub(lo)) < x.payLen {
			continue
		}
		s.credit(x.ipLen, ref)
		if head != nil && head != x && x.ipLen < head.ipLen {
			if s.t == nil {
				s.t = new(trouble)
			}
			if t := s.t; t.nBeyond < maxBeyond {
				t.beyond[t.nBeyond] = credit{seq: lo, ipLen: x.ipLen, ref: x.first, ack: ref}
				t.nBeyond++
			}
		}
	}
	if t := s.t; t != nil {
		for i := range t.nStuck {
			st := &t.stuck[i]
			if !st.acked && !st.start.LessThan(l) && st.end.LessThanEq(r) {
				st.acked, st.ackedBy, st.ackedSmall = true, ref, st.smaller > 0
			}
		}
	}
}

// sweep finalises connections that ended or went idle.
func (o *observation) sweep(now capture.Time) {
	for k, c := range o.conns {
		done := c.reset || c.closed[0] && c.closed[1]
		if now.Sub(c.last.Time) > idle || done && now.Sub(c.last.Time) > linger {
			o.finish(c)
			delete(o.conns, k)
			o.free = append(o.free, c)
		}
	}
}

// finish judges a connection at its end.
func (o *observation) finish(c *connState) {
	for d := range c.s {
		s := &c.s[d]
		peer := &c.s[1-d]
		if s.maxSent > 0 {
			k := [2]netip.Addr{s.ep.Addr, peer.ep.Addr}
			if m, ok := o.res.HostMax[k]; ok || len(o.res.HostMax) < MaxSizes {
				o.res.HostMax[k] = max(m, s.maxSent)
			}
		}
		if s.retrans > 0 || s.haveHole {
			k := [2]flow.Endpoint{s.ep, peer.ep}
			if m, ok := o.res.MaxIP[k]; ok || len(o.res.MaxIP) < MaxSizes {
				o.res.MaxIP[k] = max(m, s.maxSent)
			}
		}
		if len(o.res.Candidates) >= MaxResults {
			continue
		}
		if cd := judge(c, s, peer); cd != nil {
			o.res.Candidates = append(o.res.Candidates, cd)
		}
	}
}

// minFull is the smallest IP packet a blackhole can swallow: links have an
// MTU of at least 576 bytes (IPv4 in practice) or 1280 (IPv6).
func minFull(v6 bool) int {
	if v6 {
		return 1280
	}
	return 576
}

// judge returns the candidate a direction makes, or nil.
func judge(c *connState, s, peer *side) *Candidate {
	cd := &Candidate{Stream: c.stream, Sender: s.ep, Receiver: peer.ep, V6: c.v6, MaxAcked: s.maxAcked, MaxAckedRef: s.ackedBy,
		MaxSent: s.maxSent, MaxSentRef: s.maxSentRef, End: c.last}
	if c.reset {
		cd.EndedBy = "RST from " + c.resetBy.Addr.String()
	} else if c.closed[0] || c.closed[1] {
		cd.EndedBy = "FIN"
	}
	// Sender view: the earliest range sent MinTransmissions times at a
	// size never acknowledged.
	var best *stuck
	t := s.t
	if t == nil {
		t = &trouble{}
	}
	for i := range t.nStuck {
		st := &t.stuck[i]
		if st.big < MinTransmissions || st.ipLen <= minFull(c.v6) || s.maxAcked >= st.ipLen {
			continue
		}
		if st.acked && !st.ackedSmall {
			continue // delivered at full size after all: loss, not a blackhole
		}
		if best == nil || st.start.LessThan(best.start) {
			best = st
		}
	}
	if best != nil && !s.runsLost {
		cd.View = SenderView
		if best.acked {
			cd.View = Recovered
			cd.FallbackIPLen, cd.AckedBy = best.smallIPLen, best.ackedBy
		}
		cd.StuckSeq, cd.IPLen, cd.Transmissions, cd.FirstTx, cd.LastTx = uint32(best.start)-s.base, best.ipLen, best.big, best.first, best.last
		for i := range t.nBeyond {
			b := &t.beyond[i]
			if b.ipLen < best.ipLen && best.start.LessThan(b.seq) && best.first.Time <= b.ack.Time {
				cd.BeyondIPLen, cd.BeyondRef, cd.BeyondAck = b.ipLen, b.ref, b.ack
				break
			}
		}
		return cd
	}
	// Receiver view: a hole never filled, data beyond it, the receiver
	// asking, and nothing from the sender ever as large as a full-size
	// segment would be.
	if s.haveHole && s.asks > 0 && int(s.hole[1].Sub(s.hole[0])) > s.maxPay {
		if c.last.Time.Sub(s.holeRef.Time) >= time.Second {
			cd.View = ReceiverView
			cd.HoleStart, cd.HoleEnd, cd.HoleAfter, cd.Asks = uint32(s.hole[0])-s.base, uint32(s.hole[1])-s.base, s.holeRef, s.asks
			return cd
		}
	}
	return nil
}

// Finish finalises every connection still open and returns the *Result.
func (o *observation) Finish() any {
	for k, c := range o.conns {
		o.finish(c)
		delete(o.conns, k)
	}
	r := o.res
	return &r
}
