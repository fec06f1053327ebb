package progress

import (
	"cmp"
	"slices"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/seqnum"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Observer watches the sequence and acknowledgement numbers of every TCP
// stream: how far each side's data got, how far the other side
// acknowledged it, what was retransmitted at the point where the
// acknowledgements stopped, which bytes this vantage point never saw, and
// each side's FINs and whether they were acknowledged. Its result is a
// *Result. Connection records count retransmissions; this says which
// bytes they were and whether they ever got through.
var Observer = &detect.Observer{
	Name: "tcp-progress",
	Doc:  "per TCP stream and direction: data sent, acknowledged, retransmitted at the stall point, unseen; FINs and their fate",
	New:  func() detect.Observation { return newProgressObs() },
}

// Caps on what the observer keeps.
const (
	// MaxFlows bounds the finished streams kept; later ones are counted
	// in Result.Dropped.
	MaxFlows = 200_000
	// MaxLive bounds the streams tracked at once; streams beyond it are
	// not tracked (Result.Untracked).
	MaxLive = 200_000
	// MaxHeadRefs is how many transmissions of the stalled segment are
	// kept as evidence.
	MaxHeadRefs = 8
	// flowIdle ends a stream's tracking after this much silence (longer
	// than the longest retransmission back-off, 120 s on Linux), flowLinger
	// this long after it was closed or reset.
	flowIdle   = 5 * time.Minute
	flowLinger = 10 * time.Second
	sweepEvery = 10 * time.Second
)

// Flow is what the observer made of one TCP stream at one vantage point.
type Flow struct {
	Stream int64
	// A sent the stream's first packet, B is the other end; Dir[0] is A's
	// sending direction, Dir[1] B's.
	A, B flow.Endpoint
	// SYN says a SYN without ACK was seen, ClientA that A sent it.
	SYN, ClientA bool
	First, Last  conn.Ref
	Dir          [2]Dir
	// Resumed says an earlier part of the stream was already ended by the
	// observer (idle too long): this is its continuation.
	Resumed bool
}

// Dir is one side's sending direction of a stream: its bytes, and the
// other side's acknowledgements of them. Sequence numbers are relative
// (the SYN is 0).
type Dir struct {
	Packets int64
	// SYN says this side's SYN or SYN-ACK was seen: sequence number 1
	// is its first byte.
	SYN bool
	// Based says a segment from this side gave a sequence number
	// baseline; Next is the highest sequence number this side's segments
	// showed it had reached (the end of its payload, or the number a bare
	// ACK or FIN carries): its SND.NXT as seen here.
	Based bool
	Next  seqnum.Value
	// Data says payload was seen; DataEnd is the highest end of it.
	Data                bool
	DataEnd             seqnum.Value
	FirstData, LastData conn.Ref
	MaxSeg              int // largest payload of one segment
	Segments            int64

	// Acked is the highest acknowledgement the other side sent for this
	// direction (AckSeen), AckedAt the frame that last advanced it.
	AckSeen bool
	Acked   seqnum.Value
	AckedAt conn.Ref
	// HeadTx counts segments carrying the byte at Acked (the oldest
	// unacknowledged one) since Acked last advanced: its first
	// transmission and its retransmissions. HeadRefs are the first of
	// them, HeadLast the last, HeadLen the last one's payload length.
	HeadTx int
	// HeadRexmits counts those the analysis marks as retransmissions.
	HeadRexmits int
	HeadRefs    []conn.Ref
	HeadLast    conn.Ref
	HeadLen     int
	// Stuck counts the other side's segments (not RSTs) that acknowledged
	// exactly Acked while this side had shown more: acknowledgements that
	// do not advance (duplicate ACKs, and replies that carry the same ack).
	Stuck                 int
	StuckFirst, StuckLast conn.Ref
	// PeerZeroWindow says the other side's last advertised window was 0:
	// the data waits for flow control, not for loss.
	PeerZeroWindow bool

	// Hole is the earliest range of this side's bytes this vantage point
	// never saw (a later segment or a bare ACK showed they were sent),
	// not filled since; HoleAt is the packet that revealed it.
	Hole           bool
	HoleLo, HoleHi seqnum.Value
	HoleAt         conn.Ref
	// AfterHoleMax is the largest segment seen beyond the hole while it
	// was open: bytes that got through while the hole's did not.
	AfterHoleMax int

	// FINs counts this side's FIN segments (retransmissions included);
	// FIN is the first, FINLast the last, FINSeq its sequence number;
	// FINAcked says the other side acknowledged it.
	FINs     int
	FIN      conn.Ref
	FINLast  conn.Ref
	FINSeq   seqnum.Value
	FINAcked bool
	// FINIPLen is the first FIN's IP packet length, FINPadding the bytes
	// its link frame carried after it (Ethernet pads to 60).
	FINIPLen   int
	FINPadding int
	RST        conn.Ref
	// Close is this side's first FIN or RST; Quiet how long this side had
	// been silent before it, PeerQuiet how long the other side had.
	Close     conn.Ref
	Quiet     time.Duration
	PeerQuiet time.Duration
	LastPkt   conn.Ref
	// LastAck is this side's last acknowledgement of the other side's
	// bytes, valid when AckSent.
	AckSent bool
	LastAck seqnum.Value
}

// Outstanding reports whether this side had shown bytes the other side
// never acknowledged.
func (d *Dir) Outstanding() bool { return d.AckSeen && d.Based && d.Next.GreaterThan(d.Acked) }

// Unacked is the number of bytes shown and not acknowledged.
func (d *Dir) Unacked() seqnum.Size {
	if !d.Outstanding() {
		return 0
	}
	return d.Next.Sub(d.Acked)
}

// FirstByte reports whether the oldest unacknowledged byte is this
// side's first.
func (d *Dir) FirstByte() bool { return d.SYN && d.AckSeen && d.Acked == 1 }

// HoleAtAck reports whether the oldest unacknowledged byte is one this
// vantage point never saw.
func (d *Dir) HoleAtAck() bool {
	return d.Hole && d.AckSeen && d.Acked.InRange(d.HoleLo, d.HoleHi)
}

// Client returns the index of the client's direction (the SYN sender's,
// or A's when no SYN was seen).
func (f *Flow) Client() int {
	if f.SYN && !f.ClientA {
		return 1
	}
	return 0
}

// Endpoint returns the sender of direction i.
func (f *Flow) Endpoint(i int) flow.Endpoint {
	if i == 0 {
		return f.A
	}
	return f.B
}

// Result is the observer's result for one capture.
type Result struct {
	Flows []*Flow
	// byStream indexes Flows by tcp.stream (the first part of a stream
	// the observer ended and resumed).
	byStream map[int64]*Flow
	byPair   map[pair][]*Flow
	// Dropped counts finished streams beyond MaxFlows, Untracked streams
	// never tracked because MaxLive were live.
	Dropped, Untracked int
}

type pair struct{ a, b flow.Endpoint }

// Stream returns the flow of a tcp.stream, or nil.
func (p *Result) Stream(s int64) *Flow {
	if p == nil {
		return nil
	}
	return p.byStream[s]
}

// Find returns the flow between client and server (either way round)
// whose time span contains at, or the one nearest to it, or nil.
func (p *Result) Find(client, server flow.Endpoint, at capture.Time) *Flow {
	if p == nil {
		return nil
	}
	var best *Flow
	var bestD time.Duration
	for _, list := range [2][]*Flow{p.byPair[pair{client, server}], p.byPair[pair{server, client}]} {
		for _, f := range list {
			d := time.Duration(0)
			switch {
			case at < f.First.Time:
				d = f.First.Time.Sub(at)
			case at > f.Last.Time:
				d = at.Sub(f.Last.Time)
			}
			if best == nil || d < bestD {
				best, bestD = f, d
			}
		}
	}
	return best
}

// Of returns a dataset's result of Observer (nil if it did not run).
func Of(ds *detect.Dataset) *Result {
	p, _ := ds.Result(Observer).(*Result)
	return p
}

type liveFlow struct {
	f    *Flow
	done bool // closed by RST, or FINs both ways
}

type progressObs struct {
	live      map[int64]*liveFlow
	maxStream int64 // highest tcp.stream seen; -1 before any
	res       *Result
	nextSweep capture.Time
}

func newProgressObs() *progressObs {
	return &progressObs{live: map[int64]*liveFlow{}, maxStream: -1,
		res: &Result{byStream: map[int64]*Flow{}, byPair: map[pair][]*Flow{}}}
}

func (o *progressObs) Packet(p *pipeline.Packet) {
	if p.Time >= o.nextSweep {
		o.sweep(p.Time)
		o.nextSweep = p.Time.Add(sweepEvery)
	}
	if p.Packet.TCP == nil || p.TCP == nil || p.TCP.Quoted {
		return
	}
	src := flow.Endpoint{Addr: p.Src, Port: p.SrcPort}
	dst := flow.Endpoint{Addr: p.Dst, Port: p.DstPort}
	ref := conn.Ref{Frame: p.Frame, Time: p.Time}
	lf := o.live[p.TCP.Stream]
	if lf == nil {
		if len(o.live) >= MaxLive {
			o.res.Untracked++
			return
		}
		// tcp.stream numbers are handed out in order of first
		// appearance: a known number that is not live was ended here.
		lf = &liveFlow{f: &Flow{Stream: p.TCP.Stream, A: src, B: dst, First: ref, Resumed: p.TCP.Stream <= o.maxStream}}
		o.maxStream = max(o.maxStream, p.TCP.Stream)
		o.live[p.TCP.Stream] = lf
	}
	f := lf.f
	f.Last = ref
	i := 0
	if src != f.A {
		i = 1
	}
	me, peer := &f.Dir[i], &f.Dir[1-i]
	a := p.TCP
	flags := p.Packet.TCP.Flags()
	syn, fin, rst, ack := flags&header.FlagSYN != 0, flags&header.FlagFIN != 0, flags&header.FlagRST != 0, flags&header.FlagACK != 0
	me.Packets++
	if syn && !ack && !f.SYN {
		f.SYN, f.ClientA = true, i == 0
	}
	if !me.Close.Valid() && (fin || rst) {
		me.Close = ref
		if me.LastPkt.Valid() {
			me.Quiet = p.Time.Sub(me.LastPkt.Time)
		}
		if peer.LastPkt.Valid() {
			me.PeerQuiet = p.Time.Sub(peer.LastPkt.Time)
		}
	}
	if rst {
		if !me.RST.Valid() {
			me.RST = ref
		}
		lf.done = true
		me.LastPkt = ref
		return
	}
	probe := a.Flags&(tcp.KeepAlive|tcp.ZeroWindowProbe) != 0

	// The acknowledgement: progress of the other side's bytes.
	if ack {
		v := seqnum.Value(a.RelAck)
		me.AckSent, me.LastAck = true, v
		switch {
		case !peer.AckSeen || v.GreaterThan(peer.Acked):
			peer.AckSeen, peer.Acked, peer.AckedAt = true, v, ref
			peer.HeadTx, peer.HeadRexmits, peer.HeadRefs, peer.HeadLast, peer.HeadLen = 0, 0, peer.HeadRefs[:0], conn.Ref{}, 0
			peer.Stuck, peer.StuckFirst, peer.StuckLast = 0, conn.Ref{}, conn.Ref{}
			if peer.Hole && v.GreaterThan(peer.HoleLo) {
				// The receiver got bytes this vantage point did not see.
				if !v.LessThan(peer.HoleHi) {
					peer.Hole = false
				} else {
					peer.HoleLo = v
				}
			}
		case v == peer.Acked && peer.Based && peer.Next.GreaterThan(v) && !syn:
			peer.Stuck++
			if !peer.StuckFirst.Valid() {
				peer.StuckFirst = ref
			}
			peer.StuckLast = ref
		}
		if peer.FINs > 0 && v.GreaterThan(peer.FINSeq) {
			peer.FINAcked = true
		}
		peer.PeerZeroWindow = a.Window == 0 && !syn
	}

	// This side's bytes.
	seq := seqnum.Value(a.RelSeq)
	end := seq.Add(seqnum.Size(a.SeqLen))
	switch {
	case syn:
		me.SYN, me.Based, me.Next = true, true, seqnum.Value(a.NextSeq)
	case probe:
	default:
		if !me.Based {
			me.Based, me.Next = true, seq
		}
		if seq.GreaterThan(me.Next) && !me.Hole {
			me.Hole, me.HoleLo, me.HoleHi, me.HoleAt, me.AfterHoleMax = true, me.Next, seq, ref, 0
		}
		if a.SeqLen > 0 {
			me.Segments++
			if !me.Data {
				me.Data, me.FirstData, me.DataEnd = true, ref, end
			}
			me.LastData = ref
			me.DataEnd = seqnum.Max(me.DataEnd, end)
			me.MaxSeg = max(me.MaxSeg, a.SeqLen)
			if me.Hole && !seq.LessThan(me.HoleHi) {
				me.AfterHoleMax = max(me.AfterHoleMax, a.SeqLen)
			}
			if me.Hole && seq.LessThanEq(me.HoleLo) && end.GreaterThan(me.HoleLo) {
				if !end.LessThan(me.HoleHi) {
					me.Hole = false
				} else {
					me.HoleLo = end
				}
			}
			if me.AckSeen && seq.LessThanEq(me.Acked) && end.GreaterThan(me.Acked) {
				me.HeadTx++
				if a.Flags&tcp.Retransmission != 0 {
					me.HeadRexmits++
				}
				if len(me.HeadRefs) < MaxHeadRefs {
					me.HeadRefs = append(me.HeadRefs, ref)
				}
				me.HeadLast, me.HeadLen = ref, a.SeqLen
			}
		}
		me.Next = seqnum.Max(me.Next, end)
	}
	if fin {
		me.FINs++
		if me.FINs == 1 {
			me.FIN, me.FINSeq = ref, end
			me.FINIPLen, me.FINPadding = p.IPLen, p.Padding
		}
		me.FINLast = ref
		if me.FINs > 0 && peer.FINs > 0 {
			lf.done = true
		}
	}
	me.LastPkt = ref
}

// sweep ends the tracking of streams idle too long.
func (o *progressObs) sweep(now capture.Time) {
	for s, lf := range o.live {
		idle := now.Sub(lf.f.Last.Time)
		if idle > flowIdle || lf.done && idle > flowLinger {
			o.end(s, lf)
		}
	}
}

func (o *progressObs) end(s int64, lf *liveFlow) {
	delete(o.live, s)
	r := o.res
	if len(r.Flows) >= MaxFlows {
		r.Dropped++
		return
	}
	f := lf.f
	r.Flows = append(r.Flows, f)
	if _, ok := r.byStream[s]; !ok {
		r.byStream[s] = f
	}
	k := pair{f.A, f.B}
	r.byPair[k] = append(r.byPair[k], f)
}

func (o *progressObs) Finish() any {
	for s, lf := range o.live {
		o.end(s, lf)
	}
	// Streams ended in map order: put them back in stream order.
	fs := o.res.Flows
	sortFlows(fs)
	for _, list := range o.res.byPair {
		sortFlows(list)
	}
	return o.res
}

func sortFlows(fs []*Flow) {
	slices.SortFunc(fs, func(a, b *Flow) int {
		if c := cmp.Compare(a.Stream, b.Stream); c != 0 {
			return c
		}
		return cmp.Compare(a.First.Frame, b.First.Frame)
	})
}
