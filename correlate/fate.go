package correlate

import (
	"cmp"
	"math"
	"slices"

	"github.com/wiresleuth/wiresleuth/header"
)

// fate flags.
const (
	fLost        = 1 << iota // never reached the next capture along its way
	fInjected                // never seen at the previous capture along its way
	fOutsideNext             // the next capture was not running when it would have passed
	fOutsidePrev             // the previous capture was not running when it would have passed
	fCopy                    // an extra copy of a packet captured twice here
	fFirst                   // no capture before this one on its way
	fLast                    // no capture after this one on its way
	fOffPath                 // the neighbouring capture sees nothing of these hosts
)

type fate struct {
	flags uint8
	next  int8 // the capture where a lost packet never arrived
	prev  int8 // the capture where an injected packet was never seen
}

// guard is added to every time window.
const guard = 1e3

// maxDelay returns the largest delay matched between two captures.
func (p *Path) maxDelay(a, b int) float64 {
	i, j := min(a, b), max(a, b)
	ps := p.pairs[[2]int{i, j}]
	if ps == nil {
		return 0
	}
	return max(ps.maxD[0], ps.maxD[1], 0)
}

// inWindow reports whether capture w was running when a packet seen at v
// at time t would have passed it: after (forward) or before.
func (p *Path) inWindow(v *vstate, t int64, w int, forward bool) bool {
	vw := p.vs[w]
	if !v.clockOK || !vw.clockOK || vw.c.Frames == 0 {
		return false
	}
	tw := p.fromRef(vw, p.toRef(v, t))
	e := math.Hypot(v.err, vw.err) + guard
	if v.one || vw.one {
		e *= 2
	}
	d := p.maxDelay(p.index(v), w)
	lo, hi := tw-e, tw+e
	if forward {
		hi += d
	} else {
		lo -= d
	}
	return lo >= float64(vw.c.Start) && hi <= float64(vw.c.End)
}

func (p *Path) index(v *vstate) int { return slices.Index(p.vs, v) }

// other returns the capture at the other end of a link from v.
func (r linkRef) other(v int) int {
	if r.ps.i == v {
		return r.ps.j
	}
	return r.ps.i
}

// covers reports whether capture w carries traffic between the hosts of
// connection f at v (through NAT, using the address translations seen on
// other connections).
func (p *Path) covers(vi, f int, w int) bool {
	v, vw := p.vs[vi], p.vs[w]
	a, b := v.c.conns[f].ends()
	if vw.hosts[hostPair(a.Addr, b.Addr)] {
		return true
	}
	for _, m := range p.addrMap(vi, w) {
		for _, n := range p.addrMap(vi, w) {
			if m[0] == a.Addr && n[0] == b.Addr && vw.hosts[hostPair(m[1], n[1])] {
				return true
			}
		}
		if m[0] == a.Addr && vw.hosts[hostPair(m[1], b.Addr)] || m[0] == b.Addr && vw.hosts[hostPair(a.Addr, m[1])] {
			return true
		}
	}
	return false
}

// fates gives every packet its fate and lists lost and injected packets.
func (p *Path) fates() {
	for vi, v := range p.vs {
		c := v.c
		for f := range c.conns {
			pk := c.connPackets(uint32(f))
			for pos, k := range pk {
				s := &c.sigs[k]
				dn := p.travelsDown(v, s)
				next, prev := v.down[f][s.fromB()], v.up[f][s.fromB()]
				cn, cp := v.cd[k], v.cu[k]
				nb, pb := vi+1, vi-1
				if !dn {
					next, prev = prev, next
					cn, cp = cp, cn
					nb, pb = pb, nb
				}
				ft := &v.fate[k]
				ft.next, ft.prev = -1, -1
				if cn < 0 {
					switch {
					case next.ok():
						w := next.other(vi)
						if p.inWindow(v, s.t, w, true) {
							ft.flags |= fLost
							ft.next = int8(w)
						} else {
							ft.flags |= fOutsideNext
						}
					case nb < 0 || nb >= len(p.vs):
						ft.flags |= fLast
					case !p.covers(vi, f, nb):
						ft.flags |= fOffPath
					case p.inWindow(v, s.t, nb, true):
						ft.flags |= fLost
						ft.next = int8(nb)
					default:
						ft.flags |= fOutsideNext
					}
				}
				if cp < 0 {
					switch {
					case prev.ok():
						w := prev.other(vi)
						if p.inWindow(v, s.t, w, false) {
							ft.flags |= fInjected
							ft.prev = int8(w)
						} else {
							ft.flags |= fOutsidePrev
						}
					case pb < 0 || pb >= len(p.vs):
						ft.flags |= fFirst
					case !p.covers(vi, f, pb):
						ft.flags |= fOffPath
					case p.inWindow(v, s.t, pb, false):
						ft.flags |= fInjected
						ft.prev = int8(pb)
					default:
						ft.flags |= fOutsidePrev
					}
				}
				if ft.flags&(fLost|fInjected) != 0 && p.isCopy(v, pk, pos, dn) {
					ft.flags = ft.flags&^(fLost|fInjected) | fCopy
				}
			}
		}
	}
	p.bridge()
	p.events()
}

// isCopy reports whether the packet at pk[pos] is a second copy, captured
// within a few milliseconds, of a packet of this capture that did pass.
func (p *Path) isCopy(v *vstate, pk []uint32, pos int, dn bool) bool {
	c := v.c
	s := &c.sigs[pk[pos]]
	same := func(o *sig) bool {
		return o.kind == s.kind && o.seq == s.seq && o.ack == s.ack && o.flags == s.flags && o.plen == s.plen &&
			o.ipid == s.ipid && o.tsval == s.tsval && o.h16 == s.h16 && o.fromB() == s.fromB()
	}
	passed := func(k uint32) bool {
		if dn {
			return v.cd[k] >= 0 || v.cu[k] >= 0
		}
		return v.cu[k] >= 0 || v.cd[k] >= 0
	}
	// Copies carry the same IP ID (retransmissions get a new one), or
	// differ by one in TTL (captured on the way in and out of a router);
	// without either, only copies a fraction of a millisecond apart count
	// (a fast retransmission comes an RTT after the original).
	close := func(o *sig) bool {
		d := max(s.t-o.t, o.t-s.t)
		switch {
		case d > 5e6:
			return false
		case s.ipid != 0 || s.ttl != o.ttl && (s.ttl-o.ttl == 1 || o.ttl-s.ttl == 1):
			return true
		}
		return d <= 200e3
	}
	const window = 5e6
	for q := pos - 1; q >= 0 && s.t-c.sigs[pk[q]].t <= window; q-- {
		if o := &c.sigs[pk[q]]; same(o) && close(o) && passed(pk[q]) {
			return true
		}
	}
	for q := pos + 1; q < len(pk) && c.sigs[pk[q]].t-s.t <= window; q++ {
		if o := &c.sigs[pk[q]]; same(o) && close(o) && passed(pk[q]) {
			return true
		}
	}
	return false
}

// Event is a packet lost or injected between two captures.
type Event struct {
	// Vantage is where the packet was seen: the last capture before it
	// was lost, the first after it was injected.
	Vantage int
	// Other is the capture where it never arrived (lost) or where it was
	// never seen although it should have passed it (injected).
	Other int
	// Down says the packet travelled toward later captures (client to
	// server in the usual path order).
	Down bool
	// Recovered (lost packets): what it carried got through later — a
	// retransmission of its data, a later SYN, FIN or RST, a later ACK.
	Recovered bool
	// Settled (lost packets): Other ran long enough after the loss
	// (RecoveryWindow) for a retransmission to show, so an unrecovered
	// loss is final.
	Settled bool
	// ConnSeen says the connection appears at Other at all.
	ConnSeen bool
	Packet   PacketInfo
	// Conn is the packet's connection at Vantage.
	Conn ConnRef
	idx  uint32
}

// RecoveryWindow is how long a capture must go on after a loss for the
// loss to count as unrecovered when nothing made up for it.
const RecoveryWindow = 3e9

func (p *Path) events() {
	for vi, v := range p.vs {
		for k := range v.fate {
			ft := &v.fate[k]
			s := &v.c.sigs[k]
			if ft.flags&fLost != 0 {
				e := p.event(vi, uint32(k), int(ft.next))
				e.Recovered = p.recovered(vi, s, int(ft.next))
				w := p.vs[ft.next]
				e.Settled = e.Recovered || float64(w.c.End)-p.fromRef(w, p.toRef(v, s.t)) >= RecoveryWindow
				p.lost = append(p.lost, e)
			}
			if ft.flags&fInjected != 0 {
				p.injected = append(p.injected, p.event(vi, uint32(k), int(ft.prev)))
			}
		}
	}
	byTime := func(a, b Event) int {
		if c := cmp.Compare(p.toRef(p.vs[a.Vantage], int64(a.Packet.Time)), p.toRef(p.vs[b.Vantage], int64(b.Packet.Time))); c != 0 {
			return c
		}
		return cmp.Compare(a.Vantage, b.Vantage)
	}
	slices.SortStableFunc(p.lost, byTime)
	slices.SortStableFunc(p.injected, byTime)
}

func (p *Path) event(vi int, k uint32, other int) Event {
	v := p.vs[vi]
	s := &v.c.sigs[k]
	e := Event{Vantage: vi, Other: other, Down: p.travelsDown(v, s), Packet: p.info(vi, k), Conn: ConnRef{vi, s.flow}, idx: k}
	_, e.ConnSeen = p.counterpart(vi, s.flow, s.fromB(), other)
	return e
}

// counterpart returns the connection at capture w that is the same path
// connection as connection f at vi, following the links of one side.
func (p *Path) counterpart(vi int, f uint32, side int, w int) (uint32, bool) {
	if _, _, cf, ok := p.walk(vi, f, side, 0, w); ok {
		return cf, true
	}
	_, _, cf, ok := p.walk(vi, f, 1-side, 0, w)
	return cf, ok
}

// mapSeq translates a sequence number of connection side `side` (of
// connection f at vi) into capture w's numbering, following the links.
func (p *Path) mapSeq(vi int, f uint32, side int, seq uint32, w int) (uint32, int, bool) {
	seq, cs, _, ok := p.walk(vi, f, side, seq, w)
	return seq, cs, ok
}

// walk follows the links of one side of a connection from capture vi to
// capture w, translating a sequence number of that side; it returns the
// number, the side and the connection at w.
func (p *Path) walk(vi int, f uint32, side int, seq uint32, w int) (uint32, int, uint32, bool) {
	cur, cf, cs := vi, f, side
	for cur != w {
		var l linkRef
		if w > cur {
			l = p.vs[cur].down[cf][cs]
		} else {
			l = p.vs[cur].up[cf][cs]
		}
		if !l.ok() {
			return 0, 0, 0, false
		}
		lk := &l.ps.links[l.li]
		if l.ps.i == cur {
			seq += lk.delta[cs]
			cs ^= lk.swapBit()
			cf, cur = lk.fy, l.ps.j
		} else {
			cs ^= lk.swapBit()
			seq -= lk.delta[cs]
			cf, cur = lk.fx, l.ps.i
		}
		if w > vi && cur > w || w < vi && cur < w {
			return 0, 0, 0, false
		}
	}
	return seq, cs, cf, true
}

// recovered reports whether what a lost packet carried reached capture w
// later in another packet.
func (p *Path) recovered(vi int, s *sig, w int) bool {
	if s.kind > KindRST {
		return false
	}
	side := s.fromB()
	seq, ws, f, ok := p.walk(vi, s.flow, side, s.seq, w)
	if !ok {
		return false
	}
	ack, _, okAck := p.mapSeq(vi, s.flow, 1-side, s.ack, w)
	vw := p.vs[w]
	tref := p.toRef(p.vs[vi], s.t)
	for _, k := range vw.c.connPackets(f) {
		o := &vw.c.sigs[k]
		if o.fromB() != ws || p.toRef(vw, o.t) < tref {
			continue
		}
		oend := o.seq + uint32(o.plen)
		if o.flags&(header.FlagSYN|header.FlagFIN) != 0 {
			oend++
		}
		switch s.kind {
		case KindSYN, KindSYNACK:
			if o.kind == s.kind || o.kind != KindSYN && s.kind == KindSYN {
				return true
			}
		case KindRST:
			if o.kind == KindRST {
				return true
			}
		case KindACK:
			if okAck && o.flags&header.FlagACK != 0 && int32(o.ack-ack) >= 0 || o.kind == KindRST {
				return true
			}
		case KindFIN:
			if o.flags&header.FlagFIN != 0 || o.kind == KindRST {
				return true
			}
		default:
			if int32(o.seq-seq) <= 0 && int32(oend-seq) > 0 || o.kind == KindRST {
				return true
			}
		}
	}
	return false
}
