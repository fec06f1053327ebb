package correlate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
)

// Segment is the stretch of path between two captures that see the same
// connections with no capture in between seeing them (usually neighbours
// in path order).
type Segment struct {
	From, To int // capture indexes, From < To
	Conns    int // connections matched
	Matched  int // packets matched
	// Overlap is the time both captures ran, in From's clock.
	OverlapStart, OverlapEnd capture.Time
	// Clock is To's clock minus From's, with its uncertainty and drift.
	Offset   time.Duration
	Err      time.Duration
	DriftPPM float64
	OneSided bool
	// Dir[0] is traffic travelling From→To, Dir[1] To→From.
	Dir [2]SegmentDir
	// Translations are the NAT mappings between the two captures.
	Translations []Translation
}

// SegmentDir is one direction of a segment.
type SegmentDir struct {
	Matched  int
	Lost     int
	Injected int
	Delay    Delay
	// Outliers counts packets delayed far beyond the usual.
	Outliers int
	Episodes []Episode
	// TTLDecrement is the usual TTL decrement across the segment (-1:
	// not known).
	TTLDecrement int
}

// Delay summarises one-way delays.
type Delay struct {
	N                        int
	Min, P50, P90, P99, Max  time.Duration
	worstFrame, worstCapture int
}

// Episode is a stretch of time where the delay stayed well above its
// baseline: a queue filling somewhere in the segment.
type Episode struct {
	Start, End capture.Time // in the segment's From clock
	Packets    int
	Baseline   time.Duration // usual delay
	Peak       time.Duration // highest delay in the episode
}

// Translation is a NAT mapping seen between two captures.
type Translation struct {
	From, To int
	Proto    uint8
	// Before and After are the connection's opener and responder at From
	// and at To.
	Before, After [2]flow.Endpoint
	// SeqShift is the sequence-number offset added between From and To
	// for the opener's and the responder's segments (0: unchanged).
	SeqShift [2]uint32
	Conns    int
}

// Mod is one kind of change made to packets between two captures.
type Mod struct {
	From, To int  // capture indexes along the packets' way: the value was Before at From, After at To
	Down     bool // the packets travelled toward later captures
	What     string
	Before   string
	After    string
	Packets  int
	Conns    int
	// Example is a packet as From saw it and as To saw it.
	Example [2]PacketInfo
	roots   map[int32]bool
}

// Segments returns the segments of the path, in path order.
func (p *Path) Segments() []*Segment { return p.segs }

// Mods returns the changes made to packets on the way, most packets first.
func (p *Path) Mods() []*Mod { return p.mods }

type modKey struct {
	i, j          int
	down          bool
	what, bef, af string
}

func (p *Path) stats() {
	mods := map[modKey]*Mod{}
	for _, ps := range p.sortedPairs() {
		if len(ps.adj) == 0 {
			continue
		}
		vx, vy := p.vs[ps.i], p.vs[ps.j]
		seg := &Segment{From: ps.i, To: ps.j, Conns: len(ps.adj), Matched: ps.matched,
			Offset: ns(ps.clock.off), Err: ns(ps.clock.err), DriftPPM: ps.clock.drift * 1e6, OneSided: ps.clock.oneSided}
		// Overlap in X's clock.
		st, en := float64(vx.c.Start), float64(vx.c.End)
		if ps.clock.ok {
			st = max(st, float64(vy.c.Start)-ps.clock.at(vy.c.Start))
			en = min(en, float64(vy.c.End)-ps.clock.at(vy.c.End))
		}
		// Nanoseconds since 1970 do not fit a float64 exactly: round to
		// the microsecond, well within the offset's uncertainty, so that
		// reports do not show digits the arithmetic made up.
		seg.OverlapStart, seg.OverlapEnd = toMicros(st), toMicros(en)
		down := p.downFn(ps)
		type dsample struct {
			t int64
			d float64
		}
		var ds [2][]dsample
		ttl := [2]map[int]int{{}, {}}
		type rootDec struct {
			root int32
			dec  int
		}
		connTTL := [2]map[rootDec]int{{}, {}}
		for _, m := range ps.m {
			a, b := &vx.c.sigs[m.x], &vy.c.sigs[m.y]
			dn := down(m.li, a.fromB())
			k := 0
			if !dn {
				k = 1
			}
			seg.Dir[k].Matched++
			d, _ := ps.delayRaw(a.t, b.t, dn)
			ds[k] = append(ds[k], dsample{a.t, d})
			bef, af := a, b
			fi, ti := ps.i, ps.j
			if !dn {
				bef, af = b, a
				fi, ti = ps.j, ps.i
			}
			root := vx.root[a.flow]
			if a.kind != KindICMP {
				ttl[k][int(bef.ttl)-int(af.ttl)]++
				connTTL[k][rootDec{root, int(bef.ttl) - int(af.ttl)}]++
			}
			add := func(what, b0, a0 string) {
				key := modKey{fi, ti, dn, what, b0, a0}
				md := mods[key]
				if md == nil {
					xi, yi := p.info(ps.i, m.x), p.info(ps.j, m.y)
					ex := [2]PacketInfo{xi, yi}
					if !dn {
						ex = [2]PacketInfo{yi, xi}
					}
					md = &Mod{From: fi, To: ti, Down: dn, What: what, Before: b0, After: a0, Example: ex, roots: map[int32]bool{}}
					mods[key] = md
				}
				md.Packets++
				if len(md.roots) < 100000 {
					md.roots[root] = true
				}
			}
			diffPacket(bef, af, add)
		}
		for k := range 2 {
			sd := &seg.Dir[k]
			sd.TTLDecrement = -1
			best := 0
			for dec, n := range ttl[k] {
				if n > best || n == best && dec < sd.TTLDecrement {
					best, sd.TTLDecrement = n, dec
				}
			}
			// Report what routing does not explain: a TTL that grows,
			// and connections whose TTL drops by another amount than
			// the segment's usual (another route, a TTL rewriter).
			fi, ti := ps.i, ps.j
			if k == 1 {
				fi, ti = ps.j, ps.i
			}
			odd := map[int]*Mod{}
			dominant := map[int32][2]int{} // root → dec, count
			for rd, n := range connTTL[k] {
				d, ok := dominant[rd.root]
				if !ok || n > d[1] || n == d[1] && rd.dec < d[0] {
					dominant[rd.root] = [2]int{rd.dec, n}
				}
			}
			for rd, n := range connTTL[k] {
				if rd.dec == sd.TTLDecrement || rd.dec >= 0 && dominant[rd.root][0] != rd.dec {
					continue
				}
				md := odd[rd.dec]
				if md == nil {
					md = &Mod{From: fi, To: ti, Down: k == 0, What: "ttl", Before: fmt.Sprintf("decrement %d", sd.TTLDecrement), After: fmt.Sprintf("decrement %d", rd.dec), roots: map[int32]bool{}}
					odd[rd.dec] = md
					mods[modKey{fi, ti, k == 0, "ttl", md.Before, md.After}] = md
				}
				md.Packets += n
				md.roots[rd.root] = true
			}
			samples := ds[k]
			if len(samples) == 0 {
				continue
			}
			vals := make([]float64, len(samples))
			for i, s := range samples {
				vals[i] = s.d
			}
			slices.Sort(vals)
			sd.Delay = Delay{N: len(vals), Min: ns(vals[0]), P50: ns(quantile(vals, 0.5)), P90: ns(quantile(vals, 0.9)),
				P99: ns(quantile(vals, 0.99)), Max: ns(vals[len(vals)-1])}
			// The baseline and its jitter come from the fastest quarter,
			// so that a long episode does not raise them.
			base := quantile(vals, 0.05)
			jitter := quantile(vals, 0.25) - base
			limit := quantile(vals, 0.5) + max(5*(quantile(vals, 0.9)-quantile(vals, 0.1)), 10e6)
			for _, v := range vals {
				if v > limit {
					sd.Outliers++
				}
			}
			slices.SortFunc(samples, func(a, b dsample) int { return cmp.Compare(a.t, b.t) })
			sd.Episodes = episodes(samples, base, max(10*jitter, 10e6), func(s dsample) (int64, float64) { return s.t, s.d })
		}
		seg.Translations = p.translations(ps)
		p.segs = append(p.segs, seg)
	}
	for _, e := range p.lost {
		p.countEvent(e, true)
	}
	for _, e := range p.injected {
		p.countEvent(e, false)
	}
	for _, md := range mods {
		md.Conns = len(md.roots)
		md.roots = nil
		p.mods = append(p.mods, md)
	}
	slices.SortFunc(p.mods, func(a, b *Mod) int {
		if c := cmp.Compare(b.Packets, a.Packets); c != 0 {
			return c
		}
		if c := cmp.Compare(a.From, b.From); c != 0 {
			return c
		}
		if c := cmp.Compare(a.What, b.What); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Before, b.Before); c != 0 {
			return c
		}
		return cmp.Compare(a.After, b.After)
	})
}

// countEvent adds a lost or injected packet to its segment's counts.
func (p *Path) countEvent(e Event, lost bool) {
	i, j := min(e.Vantage, e.Other), max(e.Vantage, e.Other)
	for _, s := range p.segs {
		if s.From == i && s.To == j || s.From <= i && s.To >= j && s.To-s.From == 1 && j-i == 1 {
			k := 0
			if !e.Down {
				k = 1
			}
			if lost {
				s.Dir[k].Lost++
			} else {
				s.Dir[k].Injected++
			}
			return
		}
	}
	// A segment with no matched connection (everything was lost).
	s := &Segment{From: i, To: j}
	s.Dir[0].TTLDecrement, s.Dir[1].TTLDecrement = -1, -1
	p.segs = append(p.segs, s)
	slices.SortFunc(p.segs, func(a, b *Segment) int {
		if c := cmp.Compare(a.From, b.From); c != 0 {
			return c
		}
		return cmp.Compare(a.To, b.To)
	})
	p.countEvent(e, lost)
}

// diffPacket reports what changed between the copy before and after.
func diffPacket(b, a *sig, add func(what, before, after string)) {
	if b.bits&bitV6 == 0 && a.bits&bitV6 == 0 && b.ipid != a.ipid {
		add("ip-id", "kept", "rewritten")
	}
	if b.tos>>2 != a.tos>>2 {
		add("dscp", dscpName(b.tos>>2), dscpName(a.tos>>2))
	}
	if b.tos&3 != a.tos&3 {
		add("ecn", ecnName(b.tos&3), ecnName(a.tos&3))
	}
	if b.bits&bitDF != a.bits&bitDF {
		add("df", onOff(b.bits&bitDF != 0), onOff(a.bits&bitDF != 0))
	}
	if b.kind == KindICMP || b.kind == KindUDP || b.kind == KindOther {
		if b.bits&a.bits&bitH16 != 0 && b.h16 != a.h16 || b.bits&a.bits&bitH64 != 0 && b.h64 != a.h64 {
			add("payload", "as sent", "rewritten")
		}
		return
	}
	if b.win != a.win {
		add("window", "as sent", "rewritten")
	}
	if b.opts&optMSS != 0 && a.opts&optMSS != 0 && b.mss != a.mss {
		add("mss", fmt.Sprint(b.mss), fmt.Sprint(a.mss))
	}
	if b.opts&optWS != 0 && a.opts&optWS != 0 && b.wscale != a.wscale {
		add("wscale", fmt.Sprint(b.wscale), fmt.Sprint(a.wscale))
	}
	if rm := b.opts &^ a.opts &^ optMalformed; rm != 0 {
		add("options-removed", optionNames(rm), "")
	}
	if ad := a.opts &^ b.opts &^ optMalformed; ad != 0 {
		add("options-added", "", optionNames(ad))
	}
	if b.opts&a.opts&optTS != 0 && b.tsval != a.tsval {
		add("timestamp", "as sent", "rewritten")
	}
	if b.bits&a.bits&bitH16 != 0 && b.h16 != a.h16 || b.bits&a.bits&bitH64 != 0 && b.h64 != a.h64 {
		add("payload", "as sent", "rewritten")
	}
}

func onOff(b bool) string {
	if b {
		return "set"
	}
	return "clear"
}

func ecnName(e uint8) string { return [...]string{"not-ECT", "ECT(1)", "ECT(0)", "CE"}[e&3] }

func dscpName(d uint8) string {
	names := map[uint8]string{0: "CS0", 8: "CS1", 10: "AF11", 12: "AF12", 14: "AF13", 16: "CS2", 18: "AF21", 20: "AF22", 22: "AF23",
		24: "CS3", 26: "AF31", 28: "AF32", 30: "AF33", 32: "CS4", 34: "AF41", 36: "AF42", 38: "AF43", 40: "CS5", 46: "EF", 48: "CS6", 56: "CS7"}
	if n, ok := names[d]; ok {
		return fmt.Sprintf("%s (%d)", n, d)
	}
	return fmt.Sprint(d)
}

// translations lists the NAT mappings of a pair's adjacent links.
func (p *Path) translations(ps *pairState) []Translation {
	type tk struct {
		before, after [2]flow.Endpoint
	}
	idx := map[tk]int{}
	var out []Translation
	for _, li := range ps.adj {
		l := &ps.links[li]
		xa, xb := p.vs[ps.i].c.conns[l.fx].ends()
		ya, yb := p.vs[ps.j].c.conns[l.fy].ends()
		if l.swap {
			ya, yb = yb, ya
		}
		var shift [2]uint32
		for s := range 2 {
			if l.hasD[s] {
				shift[s] = l.delta[s]
			}
		}
		if xa == ya && xb == yb && shift == [2]uint32{} {
			continue
		}
		key := tk{[2]flow.Endpoint{xa, xb}, [2]flow.Endpoint{ya, yb}}
		if i, ok := idx[key]; ok {
			out[i].Conns++
			continue
		}
		idx[key] = len(out)
		out = append(out, Translation{From: ps.i, To: ps.j, Proto: p.vs[ps.i].c.conns[l.fx].proto,
			Before: key.before, After: key.after, SeqShift: shift, Conns: 1})
	}
	return out
}

// episodes finds stretches where the rolling median delay (8 packets)
// stays above base+excess.
func episodes[S any](ss []S, base, excess float64, get func(S) (int64, float64)) []Episode {
	const w = 8
	if len(ss) < w {
		return nil
	}
	var out []Episode
	win := make([]float64, w)
	in := false
	var cur Episode
	for i := w - 1; i < len(ss); i++ {
		for k := range w {
			_, win[k] = get(ss[i-w+1+k])
		}
		slices.Sort(win)
		med := win[w/2]
		t, d := get(ss[i])
		if med > base+excess {
			if !in {
				t0, _ := get(ss[i-w+1])
				cur = Episode{Start: capture.Time(t0), Baseline: ns(base)}
				in = true
			}
			cur.End = capture.Time(t)
			cur.Packets++
			if ns(d) > cur.Peak {
				cur.Peak = ns(d)
			}
		} else if in {
			cur.Packets += w - 1
			out = append(out, cur)
			in = false
		}
	}
	if in {
		cur.Packets += w - 1
		out = append(out, cur)
	}
	_ = math.Inf
	return out
}

// toMicros turns a float64 time in nanoseconds into a capture.Time rounded
// to the microsecond.
func toMicros(ns float64) capture.Time {
	return capture.Time(int64(math.Round(ns/1e3)) * 1e3)
}
