package correlate

import (
	"cmp"
	"slices"

	"github.com/wiresleuth/wiresleuth/header"
)

// Connection matching between two captures: anchors (identities of single
// packets that survive NAT) are joined by sorting, every pair of
// connections that share anchors collects votes, and pairs are chosen
// greedily, most votes first, one to one.

// anchor is one packet identity.
type anchor struct {
	key uint64
	pkt uint32
	cls uint8 // anchor class: clsSpecific, clsContent or clsWeak
}

// Anchor classes. Specific anchors (sequence and acknowledgment numbers,
// ICMP quotes) almost never repeat across connections; content anchors
// (payload hashes, TCP timestamps) repeat when applications send the same
// bytes or hosts share a timestamp clock; weak ones (IP IDs) often do.
const (
	clsWeak = iota
	clsContent
	clsSpecific
)

const (
	anchorsPerDir = 8  // every connection contributes its first packets each way…
	sampleMask    = 15 // …and a consistent sample (1 in 16 by key) of the rest,
	specificMask  = 3  // 1 in 4 for specific anchors
	maxGroup      = 64 // anchor groups larger than this (|X|·|Y|) are too common to vote
)

const flagsMask = 0xff &^ (header.FlagECE | header.FlagCWR)

// anchors lists the anchors of a capture's packets.
func anchorsOf(c *Capture) []anchor {
	out := make([]anchor, 0, len(c.conns)*8+len(c.sigs)/4)
	var early map[uint64]bool // keys emitted for a connection's first packets
	for f := range c.conns {
		var n [2]int
		clear(early)
		for _, i := range c.connPackets(uint32(f)) {
			s := &c.sigs[i]
			side := s.fromB()
			first := n[side] < anchorsPerDir
			n[side]++
			add := func(k uint64, cls uint8) {
				mask := uint64(sampleMask)
				if cls == clsSpecific {
					mask = specificMask
				}
				switch {
				case first:
					// A later packet with the same key (a retransmission)
					// is emitted too, so that sampling stays consistent
					// between captures that saw different transmissions.
					if early == nil {
						early = map[uint64]bool{}
					}
					early[k] = true
				case k&mask == 0 || s.kind <= KindSYNACK || s.kind == KindFIN || s.kind == KindRST || early[k]:
				default:
					return
				}
				out = append(out, anchor{k, i, cls})
			}
			fl := uint64(s.flags & flagsMask)
			switch s.kind {
			case KindICMP:
				if s.bits&bitQuoted != 0 {
					add(key64(6, uint64(s.ack), uint64(s.seq), uint64(s.tsval)), clsSpecific)
				} else {
					add(key64(7, uint64(s.ack), uint64(s.seq), uint64(s.plen)), clsContent)
				}
			case KindUDP, KindOther:
			default:
				add(key64(1, fl, uint64(s.seq), uint64(s.ack), uint64(s.plen)), clsSpecific)
				if s.opts&optTS != 0 {
					add(key64(2, fl, uint64(s.tsval), uint64(s.plen)), clsContent)
				}
			}
			if s.plen > 0 && s.bits&bitH16 != 0 && s.bits&bitQuoted == 0 {
				add(key64(3, uint64(s.kind), uint64(s.plen), uint64(s.h16)), clsContent)
			}
			if s.plen > 16 && s.bits&bitH64 != 0 && s.bits&bitQuoted == 0 {
				add(key64(4, uint64(s.kind), uint64(s.plen), uint64(s.h64)), clsContent)
			}
			if s.ipid != 0 && s.bits&bitV6 == 0 {
				add(key64(5, uint64(s.ipid), uint64(s.plen), uint64(s.kind), fl), clsWeak)
			}
		}
	}
	radixAnchors(out)
	return out
}

func sortAnchors(as []anchor) {
	slices.SortStableFunc(as, func(a, b anchor) int { return cmp.Compare(a.key, b.key) })
}

// link pairs a connection in one capture with one in another.
type link struct {
	fx, fy uint32
	swap   bool      // side A at X is side B at Y
	delta  [2]uint32 // sequence offset Y−X for packets from X's side A, side B
	hasD   [2]bool
	votes  float64
	adjX   [2]bool // packets of X's side A, B are matched along this link
	// alt are other sequence offsets the anchors suggested, tried by
	// refineDeltas unless sure (initial sequence numbers or specific
	// anchors gave the offset).
	alt  [2][]uint32
	sure [2]bool
}

func (l *link) swapBit() int {
	if l.swap {
		return 1
	}
	return 0
}

// debugConn, when set by a test, sees every pair of connections that
// collected votes.
var debugConn func(cx, cy *connRec, v *vote)

// vote gathers the evidence for one pair of connections.
type vote struct {
	w      [2][3]float64    // by orientation (same sides, swapped) and anchor class
	deltas [4][4]deltaCount // by orientation·2 + X's side
	dts    [8]int64         // time differences tY−tX of the first hits
	ndt    int
}

// dt returns the median time difference of the hits.
func (v *vote) dt() int64 {
	d := slices.Clone(v.dts[:v.ndt])
	slices.Sort(d)
	return d[len(d)/2]
}

type deltaCount struct {
	d    uint32
	rank float32 // weight for choosing: specific and unique hits count most
	n    float32 // plain weight, for agreement
}

// addDelta records a hit's sequence offset. Specific anchors (equal
// sequence numbers) and anchors unique on both sides rank far above
// repeated content, which also pairs identical payloads sent at other
// offsets of the same connection.
func (v *vote) addDelta(side int, d uint32, w, rank float32) {
	ds := &v.deltas[side]
	for i := range ds {
		if ds[i].n > 0 && ds[i].d == d {
			ds[i].n += w
			ds[i].rank += rank
			return
		}
	}
	// Replace the weakest entry.
	j := 0
	for i := range ds {
		if ds[i].rank < ds[j].rank {
			j = i
		}
	}
	if ds[j].rank < rank {
		ds[j] = deltaCount{d, rank, w}
	}
}

// bestDelta returns the best-ranked offset and its plain weight.
func (v *vote) bestDelta(side int) (uint32, float32) {
	ds := &v.deltas[side]
	j := 0
	for i := range ds {
		if ds[i].rank > ds[j].rank {
			j = i
		}
	}
	return ds[j].d, ds[j].n
}

// bestRank returns the rank of the best offset.
func (v *vote) bestRank(side int) float32 {
	r := float32(0)
	for _, d := range v.deltas[side] {
		r = max(r, d.rank)
	}
	return r
}

type connPair struct{ fx, fy uint32 }

// matchConns pairs the connections of two captures.
func matchConns(x, y *Capture, ax, ay []anchor) []link {
	votes := map[connPair]*vote{}
	i, j := 0, 0
	for i < len(ax) && j < len(ay) {
		switch {
		case ax[i].key < ay[j].key:
			i++
			continue
		case ax[i].key > ay[j].key:
			j++
			continue
		}
		k := ax[i].key
		i2, j2 := i, j
		for i2 < len(ax) && ax[i2].key == k {
			i2++
		}
		for j2 < len(ay) && ay[j2].key == k {
			j2++
		}
		nx, ny := i2-i, j2-j
		if nx*ny <= maxGroup {
			w := 1 / float64(max(nx, ny))
			for _, a := range ax[i:i2] {
				for _, b := range ay[j:j2] {
					sx, sy := &x.sigs[a.pkt], &y.sigs[b.pkt]
					if sx.kind != sy.kind {
						continue
					}
					p := connPair{sx.flow, sy.flow}
					v := votes[p]
					if v == nil {
						v = &vote{}
						votes[p] = v
					}
					o := 0
					if sx.fromB() != sy.fromB() {
						o = 1
					}
					v.w[o][a.cls] += w
					// Only anchors unique on both sides time the pair: a
					// payload sent again (retransmissions) pairs copies
					// an RTO apart.
					if v.ndt < len(v.dts) && a.cls != clsWeak && nx == 1 && ny == 1 {
						v.dts[v.ndt] = sy.t - sx.t
						v.ndt++
					}
					if sx.kind <= KindRST && sx.bits&bitQuoted == 0 && a.cls != clsWeak {
						rank := float32(w)
						switch {
						case a.cls == clsSpecific:
							rank *= 100
						case nx == 1 && ny == 1:
							rank *= 10
						}
						v.addDelta(o*2+sx.fromB(), sy.seq-sx.seq, float32(w), rank)
					}
				}
			}
		}
		i, j = i2, j2
	}
	type cand struct {
		p     connPair
		swap  bool
		score float64
		dt    int64
		sure  bool // specific anchors or unchanged endpoints
		hasDT bool
		// isnOnly: accepted because the anchors' offset agrees with the
		// initial sequence numbers; dt is then the difference of the
		// connections' start times, which must fit closely.
		isnOnly bool
	}
	var cands []cand
	for p, v := range votes {
		cx, cy := &x.conns[p.fx], &y.conns[p.fy]
		if debugConn != nil {
			debugConn(cx, cy, v)
		}
		if cx.proto != cy.proto {
			continue
		}
		for o := range 2 {
			same := cx.key.Equal(cy.key) && (cx.aIsKeyA == cy.aIsKeyA) == (o == 0)
			spec, content, weak := v.w[o][clsSpecific], v.w[o][clsContent], v.w[o][clsWeak]
			score := spec + content + weak/4
			if same {
				score += 2
			}
			ok := same && spec+content+weak > 0 || spec >= 1
			if !ok && content >= 1.5 {
				// Content alone (payload, timestamps) repeats across
				// connections: it counts when two hits or more agree on
				// the sequence offset, as hits on the same connection do.
				agree := float32(0)
				for side := range 2 {
					_, n := v.bestDelta(o*2 + side)
					agree += n
				}
				ok = agree >= 1.5
				if cx.proto != 6 {
					ok = content >= 2
				}
			}
			isnAgree, isnOnly := false, false
			if cx.proto == 6 && content > 0 {
				// Initial sequence numbers seen at both ends must agree
				// with the offset the anchors give; when they do, that is
				// a 32-bit coincidence otherwise, and enough evidence.
				ys := func(side int) int { return side ^ o }
				for side := range 2 {
					d, n := v.bestDelta(o*2 + side)
					if n == 0 || !cx.hasISN[side] || !cy.hasISN[ys(side)] {
						continue
					}
					if cy.isn[ys(side)]-cx.isn[side] != d {
						isnAgree = false
						if !same {
							ok = false
						}
						break
					}
					isnAgree = true
				}
				if isnAgree && !ok {
					// Identical payloads at the same offset of two
					// connections agree with the ISNs too: accept on this
					// evidence only if the connections also start at the
					// same time (checked below).
					ok, isnOnly = true, true
				}
			}
			if ok {
				c := cand{p: p, swap: o == 1, score: score, sure: same || spec >= 1, hasDT: v.ndt > 0, isnOnly: isnOnly}
				if c.hasDT {
					c.dt = v.dt()
				}
				if isnOnly {
					c.dt, c.hasDT = cy.start-cx.start, true
				}
				cands = append(cands, c)
			}
		}
	}
	// Connections with the same endpoints in both captures and no shared
	// anchor (a lone SYN lost in between has none) still pair up when
	// their times fit: that is decided later, by time, in pairByTuple.
	// The captures' clocks differ by one offset (and the delay): a
	// candidate whose packets are seen far off the others' time
	// difference pairs two different connections.
	var sure []int64
	for _, c := range cands {
		if c.sure && c.hasDT {
			sure = append(sure, c.dt)
		}
	}
	if len(sure) == 0 {
		for _, c := range cands {
			if c.hasDT && !c.isnOnly {
				sure = append(sure, c.dt)
			}
		}
	}
	var mid, tol int64
	hasMid := false
	if len(sure) >= 3 {
		slices.Sort(sure)
		mid = sure[len(sure)/2]
		dev := make([]int64, len(sure))
		for i, d := range sure {
			dev[i] = max(d-mid, mid-d)
		}
		slices.Sort(dev)
		tol = max(50e6, 8*dev[len(dev)/2])
		tight := max(2e6, 4*dev[len(dev)/2])
		hasMid = true
		// A pair qualifies if any of its hits fits: a unique anchor can
		// pair a lost packet with its retransmission an RTO later.
		cands = slices.DeleteFunc(cands, func(c cand) bool {
			if !c.hasDT {
				return false
			}
			if c.isnOnly {
				return c.dt-mid > tight || mid-c.dt > tight
			}
			v := votes[c.p]
			for _, d := range v.dts[:v.ndt] {
				if d-mid <= tol && mid-d <= tol {
					return false
				}
			}
			return true
		})
	} else {
		cands = slices.DeleteFunc(cands, func(c cand) bool { return c.isnOnly })
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.p.fx, b.p.fx); c != 0 {
			return c
		}
		return cmp.Compare(a.p.fy, b.p.fy)
	})
	takenX := make(map[uint32]bool)
	takenY := make(map[uint32]bool)
	var links []link
	for _, c := range cands {
		if takenX[c.p.fx] || takenY[c.p.fy] {
			continue
		}
		takenX[c.p.fx], takenY[c.p.fy] = true, true
		l := link{fx: c.p.fx, fy: c.p.fy, swap: c.swap, votes: c.score}
		v := votes[c.p]
		o := 0
		if c.swap {
			o = 1
		}
		cx, cy := &x.conns[c.p.fx], &y.conns[c.p.fy]
		for side := range 2 {
			ys := side
			if c.swap {
				ys = 1 - side
			}
			if cx.hasISN[side] && cy.hasISN[ys] {
				l.delta[side], l.hasD[side], l.sure[side] = cy.isn[ys]-cx.isn[side], true, true
			} else if d, n := v.bestDelta(o*2 + side); n > 0 {
				l.delta[side], l.hasD[side] = d, true
				l.sure[side] = v.bestRank(o*2+side) >= 50
			}
			for _, dc := range v.deltas[o*2+side] {
				if dc.n > 0 && !slices.Contains(l.alt[side], dc.d) {
					l.alt[side] = append(l.alt[side], dc.d)
				}
			}
		}
		// A direction without evidence keeps the other's offset when
		// that is zero (no rewriting seen).
		for side := range 2 {
			if !l.hasD[side] && l.hasD[1-side] && l.delta[1-side] == 0 {
				l.hasD[side] = true
			}
		}
		links = append(links, l)
	}
	slices.SortFunc(links, func(a, b link) int { return cmp.Compare(a.fx, b.fx) })
	refineDeltas(x, y, links, mid, tol, hasMid)
	return links
}

// refineDeltas settles a link's sequence offset for a side when the
// anchors suggested several and none is sure (identical payloads at other
// offsets of the same connection vote too): the offset under which most
// segments of that side find a copy with the same sequence number, length
// and flags, at a time that fits the captures' time difference, wins.
func refineDeltas(x, y *Capture, links []link, mid, tol int64, hasMid bool) {
	type skey struct {
		seq   uint32
		plen  uint16
		flags uint8
	}
	for li := range links {
		l := &links[li]
		for side := range 2 {
			cands := append([]uint32{l.delta[side], 0}, l.alt[side]...)
			l.alt[side] = nil
			if !l.hasD[side] || l.sure[side] {
				continue
			}
			slices.Sort(cands)
			cands = slices.Compact(cands)
			if len(cands) == 1 {
				continue
			}
			ys := side ^ l.swapBit()
			have := map[skey][]int64{}
			for _, k := range y.connPackets(l.fy) {
				if s := &y.sigs[k]; s.fromB() == ys && s.kind <= KindRST && s.bits&bitQuoted == 0 {
					key := skey{s.seq, s.plen, s.flags & flagsMask}
					have[key] = append(have[key], s.t)
				}
			}
			best, bestN := l.delta[side], -1
			for _, d := range cands {
				n := 0
				for _, k := range x.connPackets(l.fx) {
					s := &x.sigs[k]
					if s.fromB() != side || s.kind > KindRST || s.bits&bitQuoted != 0 {
						continue
					}
					for _, ty := range have[skey{s.seq + d, s.plen, s.flags & flagsMask}] {
						if dt := ty - s.t - mid; !hasMid || dt <= tol && dt >= -tol {
							n++
							break
						}
					}
				}
				if n > bestN || n == bestN && d == l.delta[side] {
					best, bestN = d, n
				}
			}
			l.delta[side] = best
		}
	}
}
