package correlate

import (
	"cmp"
	"math"
	"slices"
)

// Bridging across a capture that was not running. A packet whose next
// capture along its way was stopped (or not yet started) when it passed
// is matched with the capture after that one, if that was running: then
// a packet lost while the middle capture was off is still placed, in the
// wider segment, and one delivered is not left unjudged.

// bridgeRef is a packet's copy at a capture two links away.
type bridgeRef struct {
	v   int
	idx uint32
}

// through translates a sequence number of one side of a connection across
// a link, from capture `from` to the other end; it returns the number, the
// side and the connection there.
func through(l linkRef, from int, side int, seq uint32) (uint32, int, uint32) {
	lk := &l.ps.links[l.li]
	if l.ps.i == from {
		return seq + lk.delta[side], side ^ lk.swapBit(), lk.fy
	}
	s := side ^ lk.swapBit()
	return seq - lk.delta[s], s, lk.fx
}

// bridgeKey identifies a packet of a bridged connection pair in the far
// capture's numbering.
type bridgeKey struct {
	pair int32
	side int8
	key  uint64
}

func (p *Path) bridge() {
	type span struct {
		i, k   int
		f, h   uint32
		sideX  int // side at i
		sideK  int // the same side at k
		link   link
		travel bool // travelling toward later captures
		xs, ys []uint32
	}
	var spans []*span
	for vi, v := range p.vs {
		for f := range v.c.conns {
			for s := range 2 {
				for _, dn := range []bool{true, false} {
					next := func(x *vstate, g uint32, side int) linkRef {
						if dn {
							return x.down[g][side]
						}
						return x.up[g][side]
					}
					l1 := next(v, uint32(f), s)
					if !l1.ok() {
						continue
					}
					j := l1.other(vi)
					_, sj, g := through(l1, vi, s, 0)
					l2 := next(p.vs[j], g, sj)
					if !l2.ok() {
						continue
					}
					k := l2.other(j)
					// Composite offsets for both sides.
					var lk link
					d0, sk, h := through(l2, j, sj, func() uint32 { d, _, _ := through(l1, vi, s, 0); return d }())
					o1, so, _ := through(l1, vi, 1-s, 0)
					o1, _, _ = through(l2, j, so, o1)
					lk.delta[s], lk.delta[1-s] = d0, o1
					lk.hasD = [2]bool{true, true}
					lk.swap = sk != s
					spans = append(spans, &span{i: vi, k: k, f: uint32(f), h: h, sideX: s, sideK: sk, link: lk, travel: dn})
				}
			}
		}
	}
	if len(spans) == 0 {
		return
	}
	// Collect the packets waiting on both ends.
	for _, sp := range spans {
		v, w := p.vs[sp.i], p.vs[sp.k]
		for _, x := range v.c.connPackets(sp.f) {
			s := &v.c.sigs[x]
			if s.fromB() == sp.sideX && p.travelsDown(v, s) == sp.travel && v.fate[x].flags&fOutsideNext != 0 {
				sp.xs = append(sp.xs, x)
			}
		}
		for _, y := range w.c.connPackets(sp.h) {
			s := &w.c.sigs[y]
			if s.fromB() == sp.sideK && p.travelsDown(w, s) == sp.travel && w.fate[y].flags&fOutsidePrev != 0 {
				sp.ys = append(sp.ys, y)
			}
		}
	}
	for n, sp := range spans {
		if len(sp.xs) == 0 && len(sp.ys) == 0 {
			continue
		}
		p.bridgeSpan(int32(n), sp.i, sp.k, &sp.link, sp.travel, sp.xs, sp.ys)
	}
	// Judge the packets that found no copy against the far capture.
	for _, sp := range spans {
		v, w := p.vs[sp.i], p.vs[sp.k]
		for _, x := range sp.xs {
			if _, ok := v.bridgeNext[x]; ok {
				continue
			}
			if p.inWindow(v, v.c.sigs[x].t, sp.k, true) {
				ft := &v.fate[x]
				ft.flags = ft.flags&^fOutsideNext | fLost
				ft.next = int8(sp.k)
			}
		}
		for _, y := range sp.ys {
			if _, ok := w.bridgePrev[y]; ok {
				continue
			}
			if p.inWindow(w, w.c.sigs[y].t, sp.i, false) {
				ft := &w.fate[y]
				ft.flags = ft.flags&^fOutsidePrev | fInjected
				ft.prev = int8(sp.i)
			}
		}
	}
}

// bridgeSpan matches packets of one connection side between captures i
// and k by key, pairs of equal keys by time.
func (p *Path) bridgeSpan(n int32, i, k int, lk *link, travel bool, xs, ys []uint32) {
	v, w := p.vs[i], p.vs[k]
	type ent struct {
		key uint64
		t   float64 // reference clock
		idx uint32
	}
	var ex, ey []ent
	for _, x := range xs {
		s := &v.c.sigs[x]
		ex = append(ex, ent{pktKey(s, uint32(n), lk, true, true), p.toRef(v, s.t), x})
	}
	for _, y := range ys {
		s := &w.c.sigs[y]
		ey = append(ey, ent{pktKey(s, uint32(n), lk, false, true), p.toRef(w, s.t), y})
	}
	// Typical delay from i to k: the sum over the links in between, from
	// the pairs' matches; the reference clock is aligned already.
	typ, tol := 0.0, 1e6+2*math.Hypot(v.err, w.err)
	lo, hi := min(i, k), max(i, k)
	for a := lo; a < hi; a++ {
		if ps := p.pairs[[2]int{a, a + 1}]; ps != nil && ps.clock.ok {
			d := ps.typ[0]
			if !travel {
				d = ps.typ[1]
			}
			typ += d
		}
	}
	type cand struct {
		a, b int
		cost float64
	}
	var cands []cand
	for a := range ex {
		for b := range ey {
			if ex[a].key != ey[b].key {
				continue
			}
			d := ey[b].t - ex[a].t
			if d < -tol || d > typ+max(50e6, 10*tol) {
				continue
			}
			cands = append(cands, cand{a, b, math.Abs(d - typ)})
		}
		if len(cands) > 1<<16 {
			break
		}
	}
	slices.SortFunc(cands, func(x, y cand) int {
		if c := cmp.Compare(x.cost, y.cost); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	usedA := make([]bool, len(ex))
	usedB := make([]bool, len(ey))
	for _, c := range cands {
		if usedA[c.a] || usedB[c.b] {
			continue
		}
		usedA[c.a], usedB[c.b] = true, true
		if v.bridgeNext == nil {
			v.bridgeNext = map[uint32]bridgeRef{}
		}
		if w.bridgePrev == nil {
			w.bridgePrev = map[uint32]bridgeRef{}
		}
		v.bridgeNext[ex[c.a].idx] = bridgeRef{k, ey[c.b].idx}
		w.bridgePrev[ey[c.b].idx] = bridgeRef{i, ex[c.a].idx}
	}
}
