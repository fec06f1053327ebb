package correlate

import (
	"cmp"
	"math"
	"slices"

	"github.com/wiresleuth/wiresleuth/header"
)

// Packet matching between two captures, within the connection pairs that
// are adjacent along the path (no capture in between sees them).

// kent is a packet's key in a pair's join.
type kent struct {
	key uint64
	t   int64 // time, in the capture's own clock
	idx uint32
	li  uint32 // link index in the pair
}

// taken marks a join entry already matched.
const taken = ^uint64(0)

// group is a run of equal keys that did not match one to one.
type group struct {
	x0, x1, y0, y1 int32
}

// mpair is one matched packet pair.
type mpair struct {
	x, y uint32
	li   uint32
}

// pktKey is a packet's identity within a link, in Y's numbering.
func pktKey(s *sig, li uint32, l *link, atX bool, h16ok bool) uint64 {
	side := s.fromB()
	ys := side
	var dSeq, dAck uint32
	if atX {
		if l.swap {
			ys = 1 - side
		}
		dSeq, dAck = l.delta[side], l.delta[1-side]
	}
	switch s.kind {
	case KindICMP:
		if s.bits&bitQuoted != 0 {
			// The quoted segment was sent by the other side.
			return key64(uint64(li), uint64(ys), 0x100, uint64(s.ack), uint64(s.seq+dAck), uint64(s.tsval))
		}
		return key64(uint64(li), uint64(ys), 0x101, uint64(s.ack), uint64(s.seq), uint64(s.plen))
	case KindUDP, KindOther:
		h := uint64(0)
		if h16ok {
			h = uint64(s.h16)
		}
		return key64(uint64(li), uint64(ys), 0x102, uint64(s.plen), h)
	}
	ack := uint64(0)
	if s.flags&header.FlagACK != 0 {
		ack = uint64(s.ack + dAck)
	}
	return key64(uint64(li), uint64(ys), uint64(s.flags&flagsMask), uint64(s.seq+dSeq), ack, uint64(s.plen))
}

func sortKents(es []kent) {
	slices.SortFunc(es, func(a, b kent) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
}

// allHashed reports whether every packet with payload of a connection has
// its first 16 payload bytes captured.
func allHashed(c *Capture, f uint32) bool {
	for _, i := range c.connPackets(f) {
		if s := &c.sigs[i]; s.plen > 0 && s.bits&bitH16 == 0 {
			return false
		}
	}
	return true
}

// joinRound1 keys the packets of the pair's adjacent links, matches keys
// that occur once on each side, splits shared keys by IP ID or TSval where
// the path keeps them, and returns the rest as ambiguous groups.
func (ps *pairState) joinRound1(x, y *Capture) {
	var nx, ny int
	for _, li := range ps.adj {
		l := &ps.links[li]
		nx += int(x.conns[l.fx].count)
		ny += int(y.conns[l.fy].count)
	}
	xs := make([]kent, 0, nx)
	ys := make([]kent, 0, ny)
	for _, li := range ps.adj {
		l := &ps.links[li]
		h := true
		if x.conns[l.fx].proto != 6 {
			h = allHashed(x, l.fx) && allHashed(y, l.fy)
		}
		for _, i := range x.connPackets(l.fx) {
			if !l.adjX[x.sigs[i].fromB()] {
				continue
			}
			xs = append(xs, kent{pktKey(&x.sigs[i], uint32(li), l, true, h), x.sigs[i].t, i, uint32(li)})
		}
		for _, i := range y.connPackets(l.fy) {
			if !l.adjX[y.sigs[i].fromB()^l.swapBit()] {
				continue
			}
			ys = append(ys, kent{pktKey(&y.sigs[i], uint32(li), l, false, h), y.sigs[i].t, i, uint32(li)})
		}
	}
	radixKents(xs)
	radixKents(ys)
	ps.xs, ps.ys = xs, ys
	i, j := 0, 0
	for i < len(xs) && j < len(ys) {
		switch {
		case xs[i].key < ys[j].key:
			i++
			continue
		case xs[i].key > ys[j].key:
			j++
			continue
		}
		k := xs[i].key
		i2, j2 := i, j
		for i2 < len(xs) && xs[i2].key == k {
			i2++
		}
		for j2 < len(ys) && ys[j2].key == k {
			j2++
		}
		if i2-i == 1 && j2-j == 1 {
			ps.m = append(ps.m, mpair{xs[i].idx, ys[j].idx, xs[i].li})
		} else {
			ps.amb = append(ps.amb, group{int32(i), int32(i2), int32(j), int32(j2)})
		}
		i, j = i2, j2
	}
	// Does the path keep IP IDs and timestamps? Judge on unique matches.
	var idEq, idN, tsEq, tsN int
	for _, m := range ps.m {
		a, b := &x.sigs[m.x], &y.sigs[m.y]
		if a.ipid != 0 && b.ipid != 0 {
			idN++
			if a.ipid == b.ipid {
				idEq++
			}
		}
		if a.opts&b.opts&optTS != 0 {
			tsN++
			if a.tsval == b.tsval {
				tsEq++
			}
		}
	}
	ps.keepsID = idN >= 3 && idEq*10 >= idN*9
	ps.keepsTS = tsN >= 3 && tsEq*10 >= tsN*9
	if !ps.keepsID && !ps.keepsTS {
		return
	}
	rest := ps.amb[:0]
	for _, g := range ps.amb {
		if !ps.splitExact(x, y, g) {
			rest = append(rest, g)
		}
	}
	ps.amb = rest
}

// splitExact matches the packets of an ambiguous group whose IP ID (or
// TSval) is unique within the group on both sides and equal. It reports
// whether the whole group was resolved.
func (ps *pairState) splitExact(x, y *Capture, g group) bool {
	xs, ys := ps.xs[g.x0:g.x1], ps.ys[g.y0:g.y1]
	if len(xs)*len(ys) > 4096 {
		return false
	}
	id := func(s *sig) (uint64, bool) {
		switch {
		case ps.keepsID && s.ipid != 0:
			return uint64(s.ipid), true
		case ps.keepsTS && s.opts&optTS != 0:
			return 1<<32 | uint64(s.tsval), true
		}
		return 0, false
	}
	all := true
	for a := range xs {
		if xs[a].key == taken {
			continue
		}
		ka, ok := id(&x.sigs[xs[a].idx])
		if !ok {
			all = false
			continue
		}
		hit, n := -1, 0
		for b := range ys {
			if ys[b].key == taken {
				continue
			}
			if kb, ok := id(&y.sigs[ys[b].idx]); ok && kb == ka {
				hit = b
				n++
			}
		}
		dup := 0
		for a2 := range xs {
			if xs[a2].key == taken {
				continue
			}
			if k2, ok := id(&x.sigs[xs[a2].idx]); ok && k2 == ka {
				dup++
			}
		}
		if n == 1 && dup == 1 {
			ps.m = append(ps.m, mpair{xs[a].idx, ys[hit].idx, xs[a].li})
			xs[a].key, ys[hit].key = taken, taken
		} else {
			all = false
		}
	}
	return all && ps.groupDone(g)
}

func (ps *pairState) groupDone(g group) bool {
	for _, e := range ps.ys[g.y0:g.y1] {
		if e.key != taken {
			return false
		}
	}
	return true
}

// resolve assigns the packets of ambiguous groups by time: the pair whose
// delay is closest to the typical delay for its direction first, one to
// one, within a tolerance.
func (ps *pairState) resolve(x, y *Capture, down func(li uint32, side int) bool) {
	type cand struct {
		a, b int32
		cost float64
	}
	// The usual TTL decrement each way, from the unique matches: among
	// identical copies (a packet forwarded twice) prefer the pairing
	// that decrements as usual.
	var decs [2]map[int]int
	decs[0], decs[1] = map[int]int{}, map[int]int{}
	for _, m := range ps.m {
		a, b := &x.sigs[m.x], &y.sigs[m.y]
		if down(m.li, a.fromB()) {
			decs[0][int(a.ttl)-int(b.ttl)]++
		} else {
			decs[1][int(b.ttl)-int(a.ttl)]++
		}
	}
	var usual [2]int
	for k := range 2 {
		best := 0
		for d, n := range decs[k] {
			if n > best || n == best && d < usual[k] {
				usual[k], best = d, n
			}
		}
	}
	var cands []cand
	for _, g := range ps.amb {
		xs, ys := ps.xs[g.x0:g.x1], ps.ys[g.y0:g.y1]
		cands = cands[:0]
		if len(xs)*len(ys) > 1<<14 {
			ps.resolveLong(x, y, g, down)
			continue
		}
		for a := range xs {
			if xs[a].key == taken {
				continue
			}
			sx := &x.sigs[xs[a].idx]
			dn := down(xs[a].li, sx.fromB())
			for b := range ys {
				if ys[b].key == taken {
					continue
				}
				sy := &y.sigs[ys[b].idx]
				d, ok := ps.delay(sx.t, sy.t, dn)
				if !ok {
					continue
				}
				cost := math.Abs(d - ps.typical(dn))
				if ps.keepsID && sx.ipid != 0 && sy.ipid != 0 && sx.ipid != sy.ipid {
					cost += 1e12
				}
				if ps.keepsTS && sx.opts&sy.opts&optTS != 0 && sx.tsval != sy.tsval {
					cost += 1e12
				}
				if sx.bits&sy.bits&bitH16 != 0 && sx.h16 != sy.h16 {
					cost += 1e11
				}
				dec, k := int(sx.ttl)-int(sy.ttl), 0
				if !dn {
					dec, k = -dec, 1
				}
				if dec < 0 {
					cost += 1e7
				}
				cost += 1e5 * math.Abs(float64(dec-usual[k]))
				cands = append(cands, cand{int32(a), int32(b), cost})
			}
		}
		slices.SortFunc(cands, func(p, q cand) int {
			if c := cmp.Compare(p.cost, q.cost); c != 0 {
				return c
			}
			if c := cmp.Compare(p.a, q.a); c != 0 {
				return c
			}
			return cmp.Compare(p.b, q.b)
		})
		var ca, cb []int32
		for _, c := range cands {
			if xs[c.a].key == taken || ys[c.b].key == taken {
				continue
			}
			ca, cb = append(ca, c.a), append(cb, c.b)
			xs[c.a].key, ys[c.b].key = taken, taken
		}
		// Which copies pair up is settled; identical packets pass a path
		// in order, so pair the chosen ones in time order (entries are
		// time-ordered within a group).
		slices.Sort(ca)
		slices.Sort(cb)
		for i := range ca {
			ps.m2 = append(ps.m2, mpair{xs[ca[i]].idx, ys[cb[i]].idx, xs[ca[i]].li})
		}
	}
}

// resolveLong assigns a large group (thousands of identical packets) in
// time order: the path keeps order, so a two-pointer walk suffices.
func (ps *pairState) resolveLong(x, y *Capture, g group, down func(li uint32, side int) bool) {
	xs, ys := ps.xs[g.x0:g.x1], ps.ys[g.y0:g.y1]
	a, b := 0, 0
	for a < len(xs) && b < len(ys) {
		if xs[a].key == taken {
			a++
			continue
		}
		if ys[b].key == taken {
			b++
			continue
		}
		sx, sy := &x.sigs[xs[a].idx], &y.sigs[ys[b].idx]
		dn := down(xs[a].li, sx.fromB())
		d, _ := ps.delayRaw(sx.t, sy.t, dn)
		typ := ps.typical(dn)
		tol := ps.tolerance()
		switch {
		case d < typ-tol:
			// y is too early for x: y belongs to an earlier, unseen x.
			if dn {
				b++
			} else {
				a++
			}
		case d > typ+tol:
			if dn {
				a++
			} else {
				b++
			}
		default:
			ps.m2 = append(ps.m2, mpair{xs[a].idx, ys[b].idx, xs[a].li})
			xs[a].key, ys[b].key = taken, taken
			a++
			b++
		}
	}
}
