package correlate

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
)

// Input is one vantage point: a name and its recorded capture.
type Input struct {
	Name    string
	Capture *Capture
}

// pairState is the correlation of two captures i < j.
type pairState struct {
	i, j  int
	links []link // connection pairs
	adj   []int  // links adjacent along the path (no capture between sees them)

	xs, ys  []kent  // the join, sorted by key (freed after matching)
	amb     []group // ambiguous key groups
	m       []mpair // round 1 matches
	m2      []mpair // round 2 matches
	keepsID bool
	keepsTS bool

	clock   clockFit
	typ     [2]float64 // typical delay: [0] travelling i→j, [1] j→i
	maxD    [2]float64 // largest delay of round 1
	hasTyp  [2]bool
	matched int
}

// delayRaw is the one-way delay of a packet seen at X at tx and at Y at
// ty, given its direction of travel (X→Y if dn), in ns.
func (ps *pairState) delayRaw(tx, ty int64, dn bool) (float64, bool) {
	r := float64(ty-tx) - ps.clock.at(tx)
	if dn {
		return r, true
	}
	return -r, true
}

func (ps *pairState) typical(dn bool) float64 {
	if dn {
		return ps.typ[0]
	}
	return ps.typ[1]
}

func (ps *pairState) tolerance() float64 {
	return max(1e6, 2*ps.clock.err, 3*math.Abs(ps.typ[0]-ps.typ[1])/2)
}

// delay returns a candidate pair's delay and whether it is plausible.
func (ps *pairState) delay(tx, ty int64, dn bool) (float64, bool) {
	d, _ := ps.delayRaw(tx, ty, dn)
	k := 0
	if !dn {
		k = 1
	}
	tol := ps.tolerance()
	if d < -(2*ps.clock.err + tol) {
		return d, false
	}
	hi := ps.typ[k] + max(10*tol, 50e6)
	if ps.hasTyp[k] {
		hi = max(hi, ps.maxD[k]+tol)
	}
	return d, d <= hi
}

// node is a connection at one vantage point.
type node struct {
	v int
	f uint32
}

// vstate is the correlation state of one vantage point.
type vstate struct {
	name string
	c    *Capture
	// Per connection: the link to the nearest capture after this one
	// (higher index) and before it that sees the same connection.
	down, up [][2]linkRef // by connection and side
	// Per connection: root of its path connection and the parity of its
	// sides relative to the root; whether side A travels toward later
	// captures.
	root   []int32
	parity []uint8
	downA  []bool
	// Per packet: the index of its copy at the down and up link's
	// capture, or -1.
	cd, cu []int32
	fate   []fate
	// bridgeNext and bridgePrev hold copies matched across a capture that
	// was not running: further along the packet's way, and further back.
	bridgeNext, bridgePrev map[uint32]bridgeRef
	// clock: this capture's time = reference time + off + drift·(ref − refT).
	clockOK bool
	off     float64
	drift   float64
	err     float64
	one     bool
	// hosts are the address pairs this capture saw, for coverage.
	hosts map[[2]netip.Addr]bool
}

type linkRef struct {
	ps *pairState // nil: none
	li int32
}

func (r linkRef) ok() bool { return r.ps != nil }

// Path is the correlation of captures taken along one path.
type Path struct {
	vs    []*vstate
	pairs map[[2]int]*pairState
	// per path connection root (global node index): orientation of the
	// root's side A: +1 travels toward later captures, -1 earlier.
	orient map[int32]int8
	base   []int32 // global node index of each vantage's first connection
	nodes  []node
	refT   int64

	lost     []Event
	injected []Event
	mods     []*Mod
	segs     []*Segment
}

var (
	memoMu sync.Mutex
	memo   struct {
		key []*Capture
		p   *Path
	}
)

// Correlate correlates captures given in path order (client side first).
// It remembers its last result: called again with the same captures, it
// returns it without recomputing, so that several detectors and the
// report can share one correlation.
func Correlate(in []Input) *Path {
	memoMu.Lock()
	defer memoMu.Unlock()
	key := make([]*Capture, len(in))
	for i := range in {
		key[i] = in[i].Capture
	}
	if memo.p != nil && slices.Equal(memo.key, key) {
		return memo.p
	}
	p := correlate(in)
	memo.key, memo.p = key, p
	return p
}

func correlate(in []Input) *Path {
	p := &Path{pairs: map[[2]int]*pairState{}, orient: map[int32]int8{}}
	var total int32
	for _, x := range in {
		c := x.Capture
		if c == nil {
			c = &Capture{}
		}
		v := &vstate{name: x.Name, c: c, hosts: map[[2]netip.Addr]bool{}}
		v.down = make([][2]linkRef, len(c.conns))
		v.up = make([][2]linkRef, len(c.conns))
		v.root = make([]int32, len(c.conns))
		v.parity = make([]uint8, len(c.conns))
		v.cd = make([]int32, len(c.sigs))
		v.cu = make([]int32, len(c.sigs))
		v.fate = make([]fate, len(c.sigs))
		for i := range v.cd {
			v.cd[i], v.cu[i] = -1, -1
		}
		for f := range c.conns {
			a, b := c.conns[f].ends()
			v.hosts[hostPair(a.Addr, b.Addr)] = true
			v.root[f] = total + int32(f)
		}
		p.base = append(p.base, total)
		for f := range c.conns {
			p.nodes = append(p.nodes, node{len(p.vs), uint32(f)})
		}
		total += int32(len(c.conns))
		p.vs = append(p.vs, v)
	}
	if len(p.vs) > 0 {
		p.refT = p.vs[0].c.Start
	}
	if len(p.vs) < 2 {
		return p
	}
	// Connections, for every pair of captures.
	anchors := make([][]anchor, len(p.vs))
	for i, v := range p.vs {
		anchors[i] = anchorsOf(v.c)
	}
	for i := range p.vs {
		for j := i + 1; j < len(p.vs); j++ {
			ps := &pairState{i: i, j: j}
			ps.links = matchConns(p.vs[i].c, p.vs[j].c, anchors[i], anchors[j])
			p.pairs[[2]int{i, j}] = ps
		}
	}
	anchors = nil
	p.adjacency()
	p.unite()
	// Packets: round 1 (unique keys), orientation, clocks, round 2.
	for _, ps := range p.sortedPairs() {
		if len(ps.adj) > 0 {
			ps.joinRound1(p.vs[ps.i].c, p.vs[ps.j].c)
		}
	}
	p.orientation()
	p.settleOrientation()
	for _, ps := range p.sortedPairs() {
		if len(ps.adj) == 0 {
			continue
		}
		x, y := p.vs[ps.i].c, p.vs[ps.j].c
		// Walk matches in capture order: signatures are read in sequence.
		slices.SortFunc(ps.m, func(a, b mpair) int { return cmp.Compare(a.x, b.x) })
		ps.fit(x, y, ps.m, p.downFn(ps))
		ps.validate(x, y, p.downFn(ps))
		ps.resolve(x, y, p.downFn(ps))
		all := append(slices.Clip(ps.m), ps.m2...)
		slices.SortFunc(all, func(a, b mpair) int { return cmp.Compare(a.x, b.x) })
		ps.fit(x, y, all, p.downFn(ps))
		ps.xs, ps.ys, ps.amb = nil, nil, nil
		for _, m := range all {
			l := &ps.links[m.li]
			_ = l
			p.vs[ps.i].cd[m.x] = int32(m.y)
			p.vs[ps.j].cu[m.y] = int32(m.x)
		}
		ps.matched = len(all)
		ps.m, ps.m2 = all, nil
	}
	p.chainClocks()
	p.fates()
	p.stats()
	return p
}

func hostPair(a, b netip.Addr) [2]netip.Addr {
	if b.Less(a) {
		a, b = b, a
	}
	return [2]netip.Addr{a, b}
}

func (p *Path) sortedPairs() []*pairState {
	var out []*pairState
	for i := range p.vs {
		for j := i + 1; j < len(p.vs); j++ {
			out = append(out, p.pairs[[2]int{i, j}])
		}
	}
	return out
}

// adjacency picks, for each connection and side, the link to the nearest
// capture on either side that sees packets of that side; links that are
// nearest from both ends carry packet matching for that side. A capture
// that sees one direction of a connection only (a branch that carries
// copies one way) is skipped for the other.
func (p *Path) adjacency() {
	has := func(v int, f uint32, side int) bool { return p.vs[v].c.conns[f].n[side] > 0 }
	for i := range p.vs {
		for j := i + 1; j < len(p.vs); j++ {
			ps := p.pairs[[2]int{i, j}]
			for li, l := range ps.links {
				for s := range 2 {
					if d := &p.vs[i].down[l.fx][s]; !d.ok() && has(i, l.fx, s) && has(j, l.fy, s^l.swapBit()) {
						*d = linkRef{ps, int32(li)}
					}
				}
			}
		}
	}
	for j := len(p.vs) - 1; j >= 0; j-- {
		for i := j - 1; i >= 0; i-- {
			ps := p.pairs[[2]int{i, j}]
			for li, l := range ps.links {
				for s := range 2 {
					ys := s ^ l.swapBit()
					if u := &p.vs[j].up[l.fy][ys]; !u.ok() && has(i, l.fx, s) && has(j, l.fy, ys) {
						*u = linkRef{ps, int32(li)}
					}
				}
			}
		}
	}
	for _, ps := range p.pairs {
		for li := range ps.links {
			l := &ps.links[li]
			for s := range 2 {
				d := p.vs[ps.i].down[l.fx][s]
				u := p.vs[ps.j].up[l.fy][s^l.swapBit()]
				if d.ps == ps && int(d.li) == li && u.ps == ps && int(u.li) == li {
					l.adjX[s] = true
				}
			}
			if l.adjX[0] || l.adjX[1] {
				ps.adj = append(ps.adj, li)
			}
		}
	}
	// Links that are not adjacent from both ends are dropped from the
	// pointers, so that a packet's copies are always at the captures its
	// pointers name.
	for vi, v := range p.vs {
		for f := range v.down {
			for s := range 2 {
				if d := v.down[f][s]; d.ok() && !d.ps.links[d.li].adjX[s] {
					v.down[f][s] = linkRef{}
				}
				if u := v.up[f][s]; u.ok() {
					l := &u.ps.links[u.li]
					if !l.adjX[s^l.swapBit()] {
						v.up[f][s] = linkRef{}
					}
				}
			}
		}
		_ = vi
	}
	for _, ps := range p.pairs {
		slices.Sort(ps.adj)
	}
}

// unite joins linked connections into path connections, keeping track of
// which side of each is which (union-find with parity).
func (p *Path) unite() {
	parent := make([]int32, len(p.nodes))
	par := make([]uint8, len(p.nodes))
	for i := range parent {
		parent[i] = int32(i)
	}
	var find func(int32) (int32, uint8)
	find = func(a int32) (int32, uint8) {
		if parent[a] == a {
			return a, 0
		}
		r, pa := find(parent[a])
		par[a] ^= pa
		parent[a] = r
		return r, par[a]
	}
	for _, ps := range p.sortedPairs() {
		for _, li := range ps.adj {
			l := &ps.links[li]
			a := p.base[ps.i] + int32(l.fx)
			b := p.base[ps.j] + int32(l.fy)
			ra, pa := find(a)
			rb, pb := find(b)
			if ra == rb {
				continue
			}
			s := uint8(0)
			if l.swap {
				s = 1
			}
			parent[rb] = ra
			par[rb] = pa ^ pb ^ s
		}
	}
	for n := range p.nodes {
		r, pa := find(int32(n))
		v := p.vs[p.nodes[n].v]
		v.root[p.nodes[n].f] = r
		v.parity[p.nodes[n].f] = pa
	}
}

// side returns a packet's side relative to its path connection's root.
func (v *vstate) side(s *sig) int { return s.fromB() ^ int(v.parity[s.flow]) }

// orientation decides, for each path connection, which way each side's
// packets travel: from TTLs of matched packets (they only decrease), else
// from other connections of the same hosts, else from who opened it.
func (p *Path) orientation() {
	votes := make([]int, len(p.nodes))
	for _, ps := range p.pairs {
		vx, vy := p.vs[ps.i], p.vs[ps.j]
		for _, m := range ps.m {
			a, b := &vx.c.sigs[m.x], &vy.c.sigs[m.y]
			if a.kind == KindICMP {
				continue
			}
			d := int(a.ttl) - int(b.ttl)
			if d == 0 || d > 32 || d < -32 {
				continue
			}
			sgn := 1
			if d < 0 {
				sgn = -1
			}
			if vx.side(a) == 1 {
				sgn = -sgn
			}
			votes[vx.root[a.flow]] += sgn
		}
	}
	// Host evidence: which addresses send downstream, per capture.
	hostVote := make([]map[netip.Addr]int, len(p.vs))
	for i := range hostVote {
		hostVote[i] = map[netip.Addr]int{}
	}
	for n, nd := range p.nodes {
		v := p.vs[nd.v]
		r := v.root[nd.f]
		if int32(n) != r {
			// Every node votes through its root below.
		}
		s := votes[r]
		if s == 0 {
			continue
		}
		a, b := v.c.conns[nd.f].ends()
		// Side A of this connection relative to the root:
		if v.parity[nd.f] == 1 {
			s = -s
		}
		if s > 0 {
			hostVote[nd.v][a.Addr]++
			hostVote[nd.v][b.Addr]--
		} else {
			hostVote[nd.v][a.Addr]--
			hostVote[nd.v][b.Addr]++
		}
	}
	for n, nd := range p.nodes {
		v := p.vs[nd.v]
		r := v.root[nd.f]
		if int32(n) != r {
			continue
		}
		if s := votes[r]; s != 0 {
			p.orient[r] = sign8(s)
		}
	}
	// Undecided path connections: hosts, then the opener.
	for n, nd := range p.nodes {
		v := p.vs[nd.v]
		r := v.root[nd.f]
		if _, done := p.orient[r]; done {
			continue
		}
		_ = n
		cr := &v.c.conns[nd.f]
		a, b := cr.ends()
		s := hostVote[nd.v][a.Addr] - hostVote[nd.v][b.Addr]
		if s == 0 {
			s = 1 // side A opened the connection: the client side is upstream
			if !cr.hasISN[0] && a.Port < 1024 && b.Port >= 1024 {
				s = -1
			}
		}
		if v.parity[nd.f] == 1 {
			s = -s
		}
		p.orient[r] = sign8(s)
	}
}

func sign8(s int) int8 {
	if s > 0 {
		return 1
	}
	return -1
}

// settleOrientation turns the path connections' orientation into a flag
// per connection and capture.
func (p *Path) settleOrientation() {
	for _, v := range p.vs {
		v.downA = make([]bool, len(v.root))
		for f := range v.root {
			o := p.orient[v.root[f]]
			if v.parity[f] == 1 {
				o = -o
			}
			v.downA[f] = o > 0
		}
	}
}

// travelsDown reports whether a packet at vantage v travels toward later
// captures (higher index).
func (p *Path) travelsDown(v *vstate, s *sig) bool {
	return v.downA[s.flow] != (s.bits&bitFromB != 0)
}

// downFn returns, for a pair, whether a link's X-side packets travel i→j.
func (p *Path) downFn(ps *pairState) func(li uint32, side int) bool {
	vx := p.vs[ps.i]
	return func(li uint32, side int) bool {
		return vx.downA[ps.links[li].fx] != (side == 1)
	}
}

// fit estimates the pair's clock and typical delays from matches.
func (ps *pairState) fit(x, y *Capture, ms []mpair, down func(li uint32, side int) bool) {
	ss := make([]sample, 0, len(ms))
	for _, m := range ms {
		a, b := &x.sigs[m.x], &y.sigs[m.y]
		ss = append(ss, sample{a.t, float64(b.t - a.t), down(m.li, a.fromB())})
	}
	ps.clock = fitClock(ss)
	var d [2][]float64
	for _, s := range ss {
		r := s.r - ps.clock.at(s.tx)
		if s.down {
			d[0] = append(d[0], r)
		} else {
			d[1] = append(d[1], -r)
		}
	}
	for k := range 2 {
		ps.hasTyp[k] = len(d[k]) > 0
		if len(d[k]) > 0 {
			slices.Sort(d[k])
			ps.typ[k] = quantile(d[k], 0.5)
			ps.maxD[k] = d[k][len(d[k])-1]
		}
	}
}

// validate drops round 1 matches whose delay is impossible (negative
// beyond the clock's uncertainty), and those whose delay is far beyond the
// usual when a retransmission explains them better: a unique key can pair
// a packet lost on the way with its retransmission when the capture
// upstream stopped before the retransmission passed it.
func (ps *pairState) validate(x, y *Capture, down func(li uint32, side int) bool) {
	if !ps.clock.ok {
		return
	}
	var spread [2]float64
	for k := range 2 {
		var ds []float64
		for _, m := range ps.m {
			a, b := &x.sigs[m.x], &y.sigs[m.y]
			dn := down(m.li, a.fromB())
			if dn == (k == 0) {
				d, _ := ps.delayRaw(a.t, b.t, dn)
				ds = append(ds, d)
			}
		}
		slices.Sort(ds)
		spread[k] = quantile(ds, 0.9) - quantile(ds, 0.1)
	}
	keep := ps.m[:0]
	dropped := false
	for _, m := range ps.m {
		a, b := &x.sigs[m.x], &y.sigs[m.y]
		dn := down(m.li, a.fromB())
		d, _ := ps.delayRaw(a.t, b.t, dn)
		k := 0
		if !dn {
			k = 1
		}
		bad := d < -(2*ps.clock.err + ps.tolerance())
		if typ := ps.typ[k]; d > typ+max(10*spread[k], 20e6) {
			// The later copy, had it travelled as fast as usual, passed
			// the earlier point after that capture ended.
			if dn {
				bad = float64(b.t)-ps.clock.at(a.t)-typ > float64(x.End)-ps.tolerance()
			} else {
				bad = float64(a.t)+ps.clock.at(a.t)-typ > float64(y.End)-ps.tolerance()
			}
		}
		if bad {
			dropped = true
			continue
		}
		keep = append(keep, m)
	}
	ps.m = keep
	if dropped {
		ps.fit(x, y, ps.m, down)
	}
}

// chainClocks expresses every capture's clock relative to the first one,
// through the pairs with the most matched packets (a maximum spanning
// tree grown from the first capture).
func (p *Path) chainClocks() {
	p.vs[0].clockOK = true
	for {
		var best *pairState
		for _, ps := range p.sortedPairs() {
			if !ps.clock.ok || ps.matched == 0 || p.vs[ps.i].clockOK == p.vs[ps.j].clockOK {
				continue
			}
			if best == nil || ps.matched > best.matched {
				best = ps
			}
		}
		if best == nil {
			return
		}
		a, b := p.vs[best.i], p.vs[best.j]
		c := &best.clock
		if a.clockOK {
			// tB = tA + θ(tA); tA = ref + offA + driftA·(ref−refT).
			b.off = a.off + c.at(p.refT+int64(a.off))
			b.drift = a.drift + c.drift
			b.err = math.Hypot(a.err, c.err)
			b.one = a.one || c.oneSided
			b.clockOK = true
		} else {
			a.off = b.off - c.at(p.refT+int64(b.off))
			a.drift = b.drift - c.drift
			a.err = math.Hypot(b.err, c.err)
			a.one = b.one || c.oneSided
			a.clockOK = true
		}
	}
}

// toRef converts a time of vantage v to the reference clock (the first
// capture's).
func (p *Path) toRef(v *vstate, t int64) float64 {
	return (float64(t) - v.off + v.drift*float64(p.refT)) / (1 + v.drift)
}

// fromRef converts a reference time to vantage v's clock.
func (p *Path) fromRef(v *vstate, t float64) float64 {
	return t + v.off + v.drift*(t-float64(p.refT))
}

// Duration helpers for the API.
func ns(f float64) time.Duration { return time.Duration(math.Round(f)) }

func tm(t int64) capture.Time { return capture.Time(t) }
