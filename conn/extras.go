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
	rexmitZeek [2]int64    // Zeek's T/t events, for evidence without annotations
}

// reset clears x, keeping the capacity of its lists.
func (x *extras) reset() {
	icmp, ev := x.icmp[:0], x.ev[:0]
	*x = extras{icmp: icmp, ev: ev}
}

type sideState struct {
	packets, payload    int64
	opts                TCPOptions
	ts, noTS            int64
	ttl                 ttlState
	ipid                ipidState
	sums                sumState
	analysis            Analysis
	firstData, lastData Ref
	fin, rst            Ref
}

type hsState struct {
	syn        Ref
	nSYN       int32
	synack     Ref
	nSYNACK    int32
	synackSeq  uint32
	haveSYNACK bool
	ack        Ref // this host's ACK of the peer's SYN-ACK
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
		x.ev = make([]evidence, 0, MaxEvidence)
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

// ttlState keeps the distinct TTLs of one side.
type ttlState struct {
	vals    [MaxTTLValues]TTLValue
	n       uint8
	other   int64
	changes int64
	last    uint8
}

func (s *ttlState) add(ttl uint8, r Ref) {
	if s.n > 0 || s.other > 0 {
		if ttl != s.last {
			s.changes++
		}
	}
	s.last = ttl
	for i := range s.vals[:s.n] {
		v := &s.vals[i]
		if v.TTL == ttl {
			v.Count++
			v.Last = r
			return
		}
	}
	if int(s.n) < len(s.vals) {
		s.vals[s.n] = TTLValue{TTL: ttl, Count: 1, First: r, Last: r}
		s.n++
		return
	}
	s.other++
}

// ipidState classifies one side's IPv4 IDs. It follows the side's counter
// (expect): an ID more than MaxIDStep ahead of it is held as pending; if
// the next ID continues the counter, the pending one was an outlier; if it
// continues from the pending one, the counter jumped there.
type ipidState struct {
	packets, zero      int64
	inc, rep, jumps    int64 // consecutive steps
	inSeq, rebases     int64
	first, last        uint16
	expect             uint16
	haveNonZero        bool
	allSame            bool
	pending            IDOutlier
	hasPending         bool
	out                [MaxOutliers]IDOutlier
	nOut               uint8
	outliers, unsorted int64
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
	switch step := id - s.last; {
	case step == 0:
		s.rep++
	case idInRange(step):
		s.inc++
	default:
		s.jumps++
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
			s.rebases++
			s.inSeq++
			s.expect = id
			s.hasPending = false
		default:
			s.unsorted++
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
	if int(s.nOut) < len(s.out) {
		s.out[s.nOut] = o
		s.nOut++
	}
}

// sumState counts one side's checksum verdicts.
type sumState struct {
	good, bad, zero, partial, unverified, ipBad, outbound int64
	value                                                 uint16
	haveValue, constant                                   bool
	samples                                               [MaxBadSamples]Ref
	ns                                                    uint8
}

func (s *sumState) wrong(v uint16, r Ref, outbound bool) {
	if !s.haveValue {
		s.value, s.haveValue, s.constant = v, true, true
	} else if v != s.value {
		s.constant = false
	}
	if outbound {
		s.outbound++
	}
	if int(s.ns) < len(s.samples) {
		s.samples[s.ns] = r
		s.ns++
	}
}

// verdict tells offload artefacts (all wrong checksums of this side are
// partial, zero or one constant value, or were sent by the capturing host)
// from corruption.
func (s *sumState) verdict() ChecksumVerdict {
	w := s.bad + s.zero + s.partial
	if w == 0 {
		return ChecksumsOK
	}
	if s.outbound == w || s.partial+s.zero == w || s.constant && w >= 2 {
		return ChecksumsOffload
	}
	return ChecksumsCorrupt
}

func ref(frame int64, t capture.Time) Ref { return Ref{Frame: frame, Time: t} }
