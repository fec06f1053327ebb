package conn

import (
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
)

// extras is what a connection keeps beyond Zeek's conn.log, by host
// (flow direction of the host's packets), all of it fixed-size or capped so
// that a long connection costs no more than a short one.
type extras struct {
	side       [2]sideState
	hs         [2]hsState
	last       Ref // the last packet
	idle       idleState
	icmp       []icmpErr
	icmpCount  int
	ev         []evidence
	evCount    [8][2]uint8 // per kind and host
	rexmitZeek bool        // Zeek counted the current packet as a retransmission
}

// reset clears x, keeping the capacity of its lists and the parts it
// allocated on demand, so that a recycled connection allocates nothing.
func (x *extras) reset() {
	icmp, ev := x.icmp[:0], x.ev[:0]
	var spare [2]sideSpare
	for i := range x.side {
		spare[i] = x.side[i].spare()
	}
	*x = extras{icmp: icmp, ev: ev}
	for i := range x.side {
		x.side[i].restore(spare[i])
	}
}

// sideState is kept per host. The parts only some connections need (more
// TTLs, IP ID outliers, bad checksum samples, analysis counters) are
// allocated when first needed, which keeps a SYN-scan connection small.
type sideState struct {
	packets, payload    int64
	opts                TCPOptions
	ts, noTS            int64
	ttl                 ttlState
	ipid                ipidState
	sums                sumState
	analysis            *Analysis
	firstData, lastData Ref
	fin, rst            Ref
}

// sideSpare holds the on-demand parts of a recycled sideState.
type sideSpare struct {
	ttl      *[MaxTTLValues - 1]TTLValue
	out      *[MaxOutliers]IDOutlier
	sums     *sumWrong
	analysis *Analysis
}

func (s *sideState) spare() sideSpare {
	return sideSpare{s.ttl.more, s.ipid.out, s.sums.w, s.analysis}
}

func (s *sideState) restore(sp sideSpare) {
	s.ttl.more, s.ipid.out, s.sums.w, s.analysis = sp.ttl, sp.out, sp.sums, sp.analysis
	if s.analysis != nil {
		*s.analysis = Analysis{}
	}
	if s.sums.w != nil {
		*s.sums.w = sumWrong{}
	}
}

type hsState struct {
	syn, synack Ref
	ack         Ref // this host's ACK of the peer's SYN-ACK
	nSYN        int32
	nSYNACK     int32
	synackSeq   uint32
	haveSYNACK  bool
}

type idleState struct {
	gap     int64
	from    Ref
	to      Ref
	toClose bool
	closer  flow.Dir
}

type icmpErr struct {
	ICMPError
	about flow.Dir
}

type evidence struct {
	Ref
	kind EvidenceKind
	from flow.Dir
}

// evidenceCaps bounds each kind per host.
var evidenceCaps = [8]uint8{EvSYN: 3, EvSYNACK: 3, EvFirstData: 1, EvFIN: 1, EvRST: 2, EvRetransmission: 3, EvZeroWindow: 1, EvICMPError: 2}

func (x *extras) addEvidence(kind EvidenceKind, d flow.Dir, r Ref) {
	if x.evCount[kind][d] >= evidenceCaps[kind] || len(x.ev) >= MaxEvidence {
		return
	}
	x.evCount[kind][d]++
	if x.ev == nil {
		x.ev = make([]evidence, 0, 4)
	}
	x.ev = append(x.ev, evidence{Ref: r, kind: kind, from: d})
}

// packet notes the timing of any packet of the connection from host d:
// the longest gap and what ended it.
func (x *extras) packet(d flow.Dir, r Ref, closes bool) {
	if x.last.Valid() {
		if g := int64(r.Time - x.last.Time); g > x.idle.gap {
			x.idle = idleState{gap: g, from: x.last, to: r, toClose: closes, closer: d}
		}
	}
	x.last = r
	x.side[d].packets++
}

// ttlState keeps the distinct TTLs of one side: the first inline, the
// others on demand.
type ttlState struct {
	first   TTLValue
	more    *[MaxTTLValues - 1]TTLValue
	n       uint8 // distinct values recorded
	last    uint8
	other   int64
	changes int64
}

func (s *ttlState) value(i int) *TTLValue {
	if i == 0 {
		return &s.first
	}
	return &s.more[i-1]
}

func (s *ttlState) add(ttl uint8, r Ref) {
	if s.n > 0 && ttl != s.last {
		s.changes++
	}
	s.last = ttl
	for i := range int(s.n) {
		if v := s.value(i); v.TTL == ttl {
			v.Count++
			return
		}
	}
	if int(s.n) == MaxTTLValues {
		s.other++
		return
	}
	if s.n == 1 && s.more == nil {
		s.more = new([MaxTTLValues - 1]TTLValue)
	}
	*s.value(int(s.n)) = TTLValue{TTL: ttl, Count: 1, First: r}
	s.n++
}

// ipidState classifies one side's IPv4 IDs. It follows the side's counter
// (expect): an ID more than MaxIDStep ahead of it is held as pending; if
// the next ID continues the counter, the pending one was an outlier; if it
// continues from the pending one, the counter jumped there.
type ipidState struct {
	packets, zero   int64
	inSeq, outliers int64
	first, last     uint16
	expect          uint16
	haveNonZero     bool
	allSame         bool
	hasPending      bool
	nOut            uint8
	pending         IDOutlier
	out             *[MaxOutliers]IDOutlier
}

func idInRange(step uint16) bool { return step <= MaxIDStep }

func (s *ipidState) add(id uint16, r Ref) {
	s.packets++
	if id == 0 {
		s.zero++
		return
	}
	if !s.haveNonZero {
		s.haveNonZero, s.allSame = true, true
		s.first, s.last, s.expect = id, id, id
		return
	}
	if id != s.first {
		s.allSame = false
	}
	s.last = id
	if s.hasPending {
		switch {
		case idInRange(id - s.expect):
			s.outlier(s.pending)
			s.inSeq++
			s.expect = id
			s.hasPending = false
		case idInRange(id - s.pending.ID):
			// The counter jumped (another flow's packets in between).
			s.inSeq++
			s.expect = id
			s.hasPending = false
		default:
			s.pending = IDOutlier{Ref: r, ID: id, Expected: s.expect}
		}
		return
	}
	if idInRange(id - s.expect) {
		s.inSeq++
		s.expect = id
		return
	}
	s.pending = IDOutlier{Ref: r, ID: id, Expected: s.expect}
	s.hasPending = true
}

func (s *ipidState) outlier(o IDOutlier) {
	s.outliers++
	if int(s.nOut) < MaxOutliers {
		if s.out == nil {
			s.out = new([MaxOutliers]IDOutlier)
		}
		s.out[s.nOut] = o
		s.nOut++
	}
}

// sumState counts one side's checksum verdicts; what only wrong checksums
// need is allocated on the first.
type sumState struct {
	good, unverified int64
	w                *sumWrong
}

type sumWrong struct {
	bad, zero, partial, ipBad, outbound int64
	value                               uint16
	haveValue, constant                 bool
	ns                                  uint8
	samples                             [MaxBadSamples]Ref
}

// wrongs returns the state of wrong checksums, made on first use.
func (s *sumState) wrongs() *sumWrong {
	if s.w == nil {
		s.w = new(sumWrong)
	}
	return s.w
}

// wrong notes a packet whose checksum was wrong: its value and where.
func (w *sumWrong) wrong(v uint16, r Ref, outbound bool) {
	if !w.haveValue {
		w.value, w.haveValue, w.constant = v, true, true
	} else if v != w.value {
		w.constant = false
	}
	if outbound {
		w.outbound++
	}
	if int(w.ns) < MaxBadSamples {
		w.samples[w.ns] = r
		w.ns++
	}
}

// verdict tells offload artefacts (all wrong checksums of this side are
// partial, zero or one constant value, or were sent by the capturing host)
// from corruption.
func (w *sumWrong) verdict() ChecksumVerdict {
	if w == nil {
		return ChecksumsOK
	}
	n := w.bad + w.zero + w.partial
	if n == 0 {
		return ChecksumsOK
	}
	if w.outbound == n || w.partial+w.zero == n || w.constant && n >= 2 {
		return ChecksumsOffload
	}
	return ChecksumsCorrupt
}

func ref(frame int64, t capture.Time) Ref { return Ref{Frame: frame, Time: t} }
