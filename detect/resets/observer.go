package resets

import (
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// Observer gathers, in the dataset's single pass, what connection records
// do not keep: every RST with its IP fingerprint and what preceded it, SYNs
// answered by a bare ACK with the numbers of the connection that used the
// 4-tuple before, SYN-ACKs repeated, and per service the longest idle
// period a connection survived. Its result is a *Result.
var Observer = &detect.Observer{
	Name: "resets",
	Doc:  "RSTs with TTL, IP ID, window and context; SYNs answered by bare ACKs; repeated SYN-ACKs; idle periods survived",
	New:  func() detect.Observation { return newObservation() },
}

// Bounds on what one capture's observation keeps.
const (
	MaxRSTs     = 100_000
	MaxStale    = 10_000
	MaxRepeats  = 10_000
	MaxServices = 100_000
	maxStreams  = 1 << 20
	// Streams silent this long are forgotten: closed or never
	// established ones after TIME_WAIT (60 s on Linux, up to 4 min
	// elsewhere) has run out, established ones after the longest idle
	// timeout worth measuring.
	closedIdle = 5 * time.Minute
	openIdle   = 2 * time.Hour
	sweepEvery = 30 * time.Second
	// minGapSample is the shortest silence worth noting as survived.
	minGapSample = 100 * time.Millisecond
)

// Result is what the observer found in one capture.
type Result struct {
	// RSTs are the capture's RST segments, the first MaxRSTs; RSTCount
	// counts all.
	RSTs     []RST
	RSTCount int
	// Stale are connections whose SYN was answered by a bare ACK that
	// does not acknowledge it.
	Stale []*StaleConn
	// Repeats are SYN-ACKs beyond the first of their connection.
	Repeats []SYNACKRepeat
	// Survived is, per service (the endpoint SYNs went to), the longest
	// silence inside a connection after which both sides went on
	// exchanging packets without a reset.
	Survived map[flow.Endpoint]Survivor
	// Untracked counts packets of connections beyond the state cap: what
	// preceded their RSTs is unknown.
	Untracked int64
}

// Role is which end of its connection a packet came from.
type Role uint8

const (
	Unknown Role = iota // no SYN seen: roles unknown
	Client              // the SYN's sender
	Server              // the SYN's receiver
)

func (r Role) String() string { return [...]string{"unknown", "client", "server"}[r] }

// RST is one reset segment and what came before it in its connection.
type RST struct {
	conn.Ref
	Stream   int64
	Src, Dst flow.Endpoint
	From     Role
	TTL      uint8
	V6       bool
	IPID     uint16
	DF       bool
	Window   uint16
	ACK      bool
	Seq, Ack uint32
	Payload  int
	// Nth counts the RSTs its sender sent in this connection (1: first).
	Nth int
	// Known says the connection was tracked, so the fields below mean
	// something.
	Known bool
	// SinceAny is the silence before the RST (since the connection's
	// previous packet, from either side); -1 if it was the first.
	SinceAny time.Duration
	// Trigger is the packet just before the RST when the peer sent it:
	// what the RST answers. TriggerGap is the silence before that packet.
	Trigger      conn.Ref
	TriggerGap   time.Duration
	TriggerFlags uint8
	TriggerData  bool
	// What the sender (Self) and its peer had sent before the RST.
	SelfPkts, PeerPkts int64
	SelfData, PeerData bool
	SelfFIN, PeerFIN   bool
	// AnswersSYN: the peer had sent only SYNs and the sender nothing.
	AnswersSYN bool
	// AfterClose: a FIN or RST from either side came before: the
	// connection was already closing.
	AfterClose bool
	// Later is the TTL of the sender's next packet in the connection
	// after the RST (0: none): a genuine RST ends its sender's part, so
	// packets after it with the sender's usual TTL show the RST was not
	// its own.
	Later uint8
	// Established: SYN, SYN-ACK and the ACK of the SYN-ACK were seen.
	Established bool
	// PeerClosedBefore: the peer's first FIN came before Trigger (a
	// trigger that is a FIN retransmission resumes nothing).
	PeerClosedBefore bool
	// AcksAll: the RST acknowledges everything the peer sent, so the
	// sender had received it all (an application closing with a reset
	// after a complete exchange, rather than one breaking off).
	AcksAll bool
	// RTT is the handshake's round trip through this capture point (SYN
	// to the ACK of the SYN-ACK), 0 if not seen.
	RTT time.Duration
}

// StaleConn is a connection whose SYNs were answered by bare ACKs that do
// not acknowledge them, with the connection that used the 4-tuple before
// (when the capture holds it) and what the client did next.
type StaleConn struct {
	Stream         int64
	Client, Server flow.Endpoint
	FirstSYN       conn.Ref
	SYNSeq         uint32
	SYNTimestamps  bool
	// SYNs are the client's SYNs (the first 8), SYNCount all of them.
	SYNs     []conn.Ref
	SYNCount int
	// ACKs are the bare ACKs answering them (the first 8), ACKCount all.
	ACKs       []conn.Ref
	ACKCount   int
	ACKSeq     uint32 // of the first bare ACK
	ACKAck     uint32
	ACKTTL     uint8
	ACKWindow  uint16
	ACKHasTS   bool
	ClientRSTs []ClientRST
	// SYNACK is the first SYN-ACK that came after all (the server took a
	// later SYN); Established says the client acknowledged it.
	SYNACK      conn.Ref
	Established bool
	Last        conn.Ref
	Old         *OldConn
}

// ClientRST is a reset the client sent after a bare ACK answered its SYN.
type ClientRST struct {
	conn.Ref
	Seq uint32
	// AnswersACK says its sequence number is the bare ACK's
	// acknowledgment number: the RFC 793 reply of a SYN-SENT socket to an
	// unacceptable ACK, which kills a TIME_WAIT socket on Linux.
	AnswersACK bool
}

// OldConn is the connection that used the 4-tuple before, as far as this
// capture saw it, from the point of view of the new connection's client
// and server.
type OldConn struct {
	Stream int64
	// ClientEnd is the highest sequence number the client's side used,
	// plus its SYN and FIN: the server's RCV.NXT for it when closed.
	ClientEnd, ServerEnd         uint32
	HaveClientEnd, HaveServerEnd bool
	ClientFIN, ServerFIN         conn.Ref
	ClientRST, ServerRST         bool
	// FirstCloser sent the first FIN or RST.
	FirstCloser Role
	Handshake   bool
	// Timestamps: whether each side's segments carried timestamps (0
	// unknown, 1 yes, 2 no, 3 some did).
	ClientTS, ServerTS uint8
	First, Last        conn.Ref
	Packets            int64
}

// SYNACKRepeat is a SYN-ACK beyond the first of its connection.
type SYNACKRepeat struct {
	conn.Ref
	Stream         int64
	Client, Server flow.Endpoint
	Seq            uint32 // the server's ISN
	N              int    // 2 for the first repeat
	// SYNsBefore counts the client's SYNs seen before it: a repeat with
	// no SYN of its own to answer was sent by the server's timer (or
	// duplicated on the way).
	SYNsBefore int
	// ACK is the client's acknowledgment of the SYN-ACK, when this
	// capture saw it before the repeat.
	ACK         conn.Ref
	FirstSYNACK conn.Ref
	TTL         uint8
}

// Survivor is the longest silence connections to one service survived.
type Survivor struct {
	Gap      time.Duration
	From, To conn.Ref
	Client   flow.Endpoint
	Stream   int64
	Conns    int // connections with a survived silence of at least 100 ms
}

type stream struct {
	id         int64
	key        flow.Key
	origDir    flow.Dir
	haveOrig   bool
	lastAny    capture.Time
	last       [2]conn.Ref
	lastFlags  [2]uint8
	lastData   [2]bool
	lastGap    [2]time.Duration
	first      conn.Ref
	pkts       [2]int64
	data       [2]bool
	fin        [2]conn.Ref
	rsts       [2]int
	nxt        [2]uint32
	haveNxt    [2]bool
	ts         [2]uint8
	syns       [2]int32
	synSeq     [2]uint32
	synacks    [2]int32
	synackSeq  [2]uint32
	synackRef  [2]conn.Ref
	hsAck      [2]conn.Ref
	firstSYN   conn.Ref
	rtt        time.Duration
	firstClose int8
	rstAwait   [2]int // 1 + index of the sender's last RST awaiting its next packet
	pending    bool
	pendGap    time.Duration
	pendDir    flow.Dir
	pendFrom   conn.Ref
	pendTo     conn.Ref
	survived   time.Duration
	survFrom   conn.Ref
	survTo     conn.Ref
	stale      *StaleConn
	prev       *stream
}

type observation struct {
	res       *Result
	streams   map[flow.Key]*stream
	nextSweep capture.Time
}

func newObservation() *observation {
	return &observation{res: &Result{Survived: map[flow.Endpoint]Survivor{}}, streams: map[flow.Key]*stream{}}
}

const (
	fFIN = header.FlagFIN
	fSYN = header.FlagSYN
	fRST = header.FlagRST
	fACK = header.FlagACK
)

func (o *observation) Packet(p *pipeline.Packet) {
	th := p.Packet.TCP
	if th == nil || p.TCP == nil || p.TCP.Quoted {
		return
	}
	if p.Time >= o.nextSweep {
		o.sweep(p.Time)
		o.nextSweep = p.Time.Add(sweepEvery)
	}
	flags := th.Flags()
	key, d := flow.New(header.ProtoTCP, p.Src, th.SrcPort(), p.Dst, th.DstPort())
	ref := conn.Ref{Frame: p.Frame, Time: p.Time}
	s := o.streams[key]
	if s == nil || s.id != p.TCP.Stream {
		if s == nil && len(o.streams) >= maxStreams {
			o.res.Untracked++
			if flags&fRST != 0 {
				o.addRST(p, nil, d, ref)
			}
			return
		}
		ns := &stream{id: p.TCP.Stream, key: key, first: ref, firstClose: -1}
		if s != nil {
			o.retire(s)
			s.prev = nil
			ns.prev = s
		}
		s = ns
		o.streams[key] = s
	}
	if flags&fRST != 0 {
		o.addRST(p, s, d, ref)
	}
	o.update(p, s, d, ref, flags)
}

// update advances a connection's state with a packet from d.
func (o *observation) update(p *pipeline.Packet, s *stream, d flow.Dir, ref conn.Ref, flags uint8) {
	th := p.Packet.TCP
	r := d.Reverse()
	seq, ack := th.Seq(), th.Ack()
	if i := s.rstAwait[d]; i > 0 && flags&fRST == 0 {
		o.res.RSTs[i-1].Later = p.TTL
		s.rstAwait[d] = 0
	}
	gap := time.Duration(-1)
	if s.pkts[0]+s.pkts[1] > 0 {
		gap = p.Time.Sub(s.lastAny)
	}
	// Silences survived: a packet after a silence, answered by the other
	// side without a reset.
	if s.pending && d != s.pendDir {
		if flags&fRST == 0 && s.pendGap > s.survived {
			s.survived, s.survFrom, s.survTo = s.pendGap, s.pendFrom, s.pendTo
		}
		s.pending = false
	}
	if gap >= minGapSample && flags&fRST == 0 {
		prev := s.last[0]
		if s.last[1].Time > prev.Time {
			prev = s.last[1]
		}
		s.pending, s.pendGap, s.pendDir, s.pendFrom, s.pendTo = true, gap, d, prev, ref
	}

	syn, isAck := flags&fSYN != 0, flags&fACK != 0
	switch {
	case syn && !isAck:
		if !s.haveOrig {
			s.origDir, s.haveOrig = d, true
		}
		s.syns[d]++
		s.synSeq[d] = seq
		if !s.firstSYN.Valid() {
			s.firstSYN = ref
		}
		if s.stale != nil && d == s.origDir {
			st := s.stale
			st.SYNCount++
			if len(st.SYNs) < 8 {
				st.SYNs = append(st.SYNs, ref)
			}
		}
	case syn && isAck:
		if !s.haveOrig {
			s.origDir, s.haveOrig = r, true
		}
		s.synacks[d]++
		s.synackSeq[d] = seq
		if s.synacks[d] == 1 {
			s.synackRef[d] = ref
		} else if len(o.res.Repeats) < MaxRepeats {
			o.res.Repeats = append(o.res.Repeats, SYNACKRepeat{Ref: ref, Stream: s.id, Client: s.key.Dst(d), Server: s.key.Src(d),
				Seq: seq, N: int(s.synacks[d]), SYNsBefore: int(s.syns[r]), ACK: s.hsAck[r], FirstSYNACK: s.synackRef[d], TTL: p.TTL})
		}
		if st := s.stale; st != nil && d != s.origDir && !st.SYNACK.Valid() {
			st.SYNACK = ref
		}
	case isAck && flags&fRST == 0:
		if s.synacks[r] > 0 && !s.hsAck[d].Valid() && ack == s.synackSeq[r]+1 {
			s.hsAck[d] = ref
			if s.firstSYN.Valid() && s.rtt == 0 {
				s.rtt = p.Time.Sub(s.firstSYN.Time)
			}
			if st := s.stale; st != nil && d == s.origDir && st.SYNACK.Valid() {
				st.Established = true
			}
		}
		// Not an ACK of the SYN, nor one off by one (a broken stack, not
		// an older connection's numbers).
		if off := int32(ack - (s.synSeq[r] + 1)); s.haveOrig && d != s.origDir && s.syns[r] > 0 && s.synacks[d] == 0 && (off > 1 || off < -1) {
			o.staleACK(p, s, ref, seq, ack)
		}
	}
	if st := s.stale; st != nil && flags&fRST != 0 && d == s.origDir {
		if len(st.ClientRSTs) < 4 {
			st.ClientRSTs = append(st.ClientRSTs, ClientRST{Ref: ref, Seq: seq, AnswersACK: seq == st.ACKAck})
		}
	}
	if s.stale != nil {
		s.stale.Last = ref
	}

	if flags&fRST == 0 {
		end := seq + uint32(p.PayloadLen)
		if syn {
			end++
		}
		if flags&fFIN != 0 {
			end++
		}
		if !s.haveNxt[d] || int32(end-s.nxt[d]) > 0 {
			s.nxt[d], s.haveNxt[d] = end, true
		}
	}
	if hasTimestamps(th.Options()) {
		s.ts[d] |= 1
	} else {
		s.ts[d] |= 2
	}
	if p.PayloadLen > 0 && !syn {
		s.data[d] = true
	}
	if flags&fFIN != 0 && !s.fin[d].Valid() {
		s.fin[d] = ref
	}
	if flags&(fFIN|fRST) != 0 && s.firstClose < 0 {
		s.firstClose = int8(d)
	}
	if flags&fRST != 0 {
		s.rsts[d]++
	}
	s.pkts[d]++
	s.last[d], s.lastFlags[d], s.lastData[d] = ref, flags, p.PayloadLen > 0
	s.lastGap[d] = gap
	s.lastAny = p.Time
}

// staleACK notes a bare ACK from the responder that does not acknowledge
// the client's SYN.
func (o *observation) staleACK(p *pipeline.Packet, s *stream, ref conn.Ref, seq, ack uint32) {
	st := s.stale
	if st == nil {
		if len(o.res.Stale) >= MaxStale {
			return
		}
		c := s.origDir
		st = &StaleConn{Stream: s.id, Client: s.key.Src(c), Server: s.key.Dst(c), SYNSeq: s.synSeq[c],
			SYNCount: int(s.syns[c]), ACKSeq: seq, ACKAck: ack, ACKTTL: p.TTL, ACKWindow: p.Packet.TCP.Window(),
			ACKHasTS: hasTimestamps(p.Packet.TCP.Options()), SYNTimestamps: s.ts[c]&1 != 0, FirstSYN: s.first}
		if s.last[c].Valid() && s.lastFlags[c]&(fSYN|fACK) == fSYN {
			st.SYNs = append(st.SYNs, s.last[c])
		}
		if old := s.prev; old != nil {
			st.Old = oldConn(old, c)
		}
		s.stale = st
		o.res.Stale = append(o.res.Stale, st)
	}
	st.ACKCount++
	if len(st.ACKs) < 8 {
		st.ACKs = append(st.ACKs, ref)
	}
}

// oldConn describes connection s for a new one whose client sends in
// direction c.
func oldConn(s *stream, c flow.Dir) *OldConn {
	v := c.Reverse()
	o := &OldConn{Stream: s.id, ClientEnd: s.nxt[c], HaveClientEnd: s.haveNxt[c], ServerEnd: s.nxt[v], HaveServerEnd: s.haveNxt[v],
		ClientFIN: s.fin[c], ServerFIN: s.fin[v], ClientRST: s.rsts[c] > 0, ServerRST: s.rsts[v] > 0,
		Handshake: s.synacks[0]+s.synacks[1] > 0, ClientTS: s.ts[c], ServerTS: s.ts[v], First: s.first, Packets: s.pkts[0] + s.pkts[1]}
	o.Last = s.last[0]
	if s.last[1].Time > o.Last.Time {
		o.Last = s.last[1]
	}
	switch {
	case s.firstClose < 0:
	case flow.Dir(s.firstClose) == c:
		o.FirstCloser = Client
	default:
		o.FirstCloser = Server
	}
	return o
}

// addRST records a reset with what preceded it (s is nil when the
// connection is not tracked).
func (o *observation) addRST(p *pipeline.Packet, s *stream, d flow.Dir, ref conn.Ref) {
	o.res.RSTCount++
	if len(o.res.RSTs) >= MaxRSTs {
		return
	}
	th := p.Packet.TCP
	x := RST{Ref: ref, Stream: p.TCP.Stream, Src: flow.Endpoint{Addr: p.Src, Port: th.SrcPort()}, Dst: flow.Endpoint{Addr: p.Dst, Port: th.DstPort()},
		TTL: p.TTL, V6: p.IPVersion == 6, IPID: uint16(p.IPID), DF: p.DF, Window: th.Window(), ACK: th.Flags()&fACK != 0,
		Seq: th.Seq(), Ack: th.Ack(), Payload: p.PayloadLen, SinceAny: -1, Nth: 1}
	if s != nil {
		r := d.Reverse()
		x.Known = true
		x.Nth = s.rsts[d] + 1
		if s.haveOrig {
			x.From = Server
			if d == s.origDir {
				x.From = Client
			}
		}
		if s.pkts[0]+s.pkts[1] > 0 {
			x.SinceAny = p.Time.Sub(s.lastAny)
		}
		if s.last[r].Valid() && s.last[r].Time >= s.last[d].Time {
			x.Trigger, x.TriggerGap, x.TriggerFlags, x.TriggerData = s.last[r], s.lastGap[r], s.lastFlags[r], s.lastData[r]
		}
		x.SelfPkts, x.PeerPkts = s.pkts[d], s.pkts[r]
		x.SelfData, x.PeerData = s.data[d], s.data[r]
		x.SelfFIN, x.PeerFIN = s.fin[d].Valid(), s.fin[r].Valid()
		x.AnswersSYN = s.pkts[d] == 0 && s.pkts[r] > 0 && int64(s.syns[r]) == s.pkts[r]
		x.Established = s.synacks[0]+s.synacks[1] > 0 && (s.hsAck[0].Valid() || s.hsAck[1].Valid())
		x.PeerClosedBefore = s.fin[r].Valid() && (!x.Trigger.Valid() || s.fin[r].Frame < x.Trigger.Frame)
		x.RTT = s.rtt
		x.AcksAll = x.ACK && s.haveNxt[r] && x.Ack == s.nxt[r]
		x.AfterClose = s.fin[0].Valid() || s.fin[1].Valid() || s.rsts[0]+s.rsts[1] > 0
		if len(o.res.RSTs) < MaxRSTs {
			s.rstAwait[d] = len(o.res.RSTs) + 1
		}
	}
	o.res.RSTs = append(o.res.RSTs, x)
}

// retire folds a connection's survived silence into its service's.
func (o *observation) retire(s *stream) {
	if !s.haveOrig || s.survived < minGapSample {
		return
	}
	srv := s.key.Dst(s.origDir)
	cur, ok := o.res.Survived[srv]
	if !ok && len(o.res.Survived) >= MaxServices {
		return
	}
	cur.Conns++
	if s.survived > cur.Gap {
		cur.Gap, cur.From, cur.To, cur.Client, cur.Stream = s.survived, s.survFrom, s.survTo, s.key.Src(s.origDir), s.id
	}
	o.res.Survived[srv] = cur
}

func (o *observation) sweep(now capture.Time) {
	for k, s := range o.streams {
		limit := closedIdle
		if s.pkts[0] > 0 && s.pkts[1] > 0 && !s.fin[0].Valid() && !s.fin[1].Valid() && s.rsts[0]+s.rsts[1] == 0 {
			limit = openIdle
		}
		if now.Sub(s.lastAny) > limit {
			o.retire(s)
			delete(o.streams, k)
		}
	}
}

func (o *observation) Finish() any {
	for _, s := range o.streams {
		o.retire(s)
	}
	o.streams = nil
	return o.res
}

// hasTimestamps reports whether TCP options carry a timestamps option.
func hasTimestamps(opt []byte) bool {
	for len(opt) > 0 {
		switch opt[0] {
		case header.OptEnd:
			return false
		case header.OptNOP:
			opt = opt[1:]
			continue
		case header.OptTimestamps:
			return len(opt) >= 10 && opt[1] == 10
		}
		if len(opt) < 2 || opt[1] < 2 || int(opt[1]) > len(opt) {
			return false
		}
		opt = opt[opt[1]:]
	}
	return false
}

// resultOf returns the observer's result for a dataset.
func resultOf(ds *detect.Dataset) *Result {
	if r, ok := ds.Result(Observer).(*Result); ok {
		return r
	}
	return &Result{Survived: map[flow.Endpoint]Survivor{}}
}
