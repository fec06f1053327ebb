package correlate

import (
	"net/netip"
	"slices"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
)

// Len returns the number of captures.
func (p *Path) Len() int { return len(p.vs) }

// Name returns a capture's vantage point name.
func (p *Path) Name(v int) string { return p.vs[v].name }

// Clock is a capture's clock relative to the first capture's.
type Clock struct {
	// Known is false when no packet links this capture to the others.
	Known bool
	// Offset is this capture's clock minus the first capture's, at the
	// start of the first capture.
	Offset time.Duration
	// Err is the uncertainty of Offset: half the width of the bracket
	// that packets travelling both ways put around it.
	Err time.Duration
	// DriftPPM is how much faster this clock runs, in parts per million.
	DriftPPM float64
	// OneSided: somewhere on the chain to the first capture, packets were
	// matched in one direction only, so Offset includes an unknown
	// one-way delay (Err is then the spread of the delays, not a bound).
	OneSided bool
}

// Clock returns capture v's clock relative to the first capture.
func (p *Path) Clock(v int) Clock {
	x := p.vs[v]
	return Clock{Known: x.clockOK, Offset: ns(x.off), Err: ns(x.err), DriftPPM: x.drift * 1e6, OneSided: x.one}
}

// ToFirst converts a time of capture v to the first capture's clock.
func (p *Path) ToFirst(v int, t capture.Time) capture.Time {
	return capture.Time(int64(p.toRef(p.vs[v], int64(t))))
}

// PacketInfo describes one recorded packet as its capture saw it.
type PacketInfo struct {
	Frame    int64
	Time     capture.Time
	Kind     Kind
	Src, Dst flow.Endpoint
	Proto    uint8
	Seq, Ack uint32 // raw TCP numbers
	Flags    uint8  // TCP flags
	Len      int    // transport payload length
	IPLen    int
	TTL      uint8
	TOS      uint8 // DSCP<<2 | ECN
	IPID     uint16
	DF       bool
	Padding  int // Ethernet padding bytes
	Window   uint16
	MSS      uint16 // 0: no MSS option
	Options  string // the options present: "mss,sackOK,TS,wscale", "" for none
	Encap    bool   // VLAN-tagged or tunnelled here
}

// OptionNames words an option set.
func optionNames(o uint8) string {
	var names []string
	for _, x := range []struct {
		bit  uint8
		name string
	}{{optMSS, "mss"}, {optSACKOK, "sackOK"}, {optTS, "TS"}, {optWS, "wscale"}, {optSACK, "sack"}, {optMD5, "md5"}, {optOther, "other"}} {
		if o&x.bit != 0 {
			names = append(names, x.name)
		}
	}
	return joinComma(names)
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func (p *Path) info(vi int, k uint32) PacketInfo {
	v := p.vs[vi]
	s := &v.c.sigs[k]
	cr := &v.c.conns[s.flow]
	a, b := cr.ends()
	src, dst := a, b
	if s.fromB() == 1 {
		src, dst = b, a
	}
	if s.kind == KindICMP {
		src.Port, dst.Port = 0, 0
	}
	return PacketInfo{Frame: int64(s.frame), Time: capture.Time(s.t), Kind: s.kind, Src: src, Dst: dst, Proto: cr.proto,
		Seq: s.seq, Ack: s.ack, Flags: s.flags, Len: int(s.plen), IPLen: int(s.iplen), TTL: s.ttl, TOS: s.tos, IPID: s.ipid,
		DF: s.bits&bitDF != 0, Padding: int(s.pad), Window: s.win, MSS: s.mss, Options: optionNames(s.opts), Encap: s.bits&bitEncap != 0}
}

// Lost returns the packets lost between captures, in time order: each
// seen at Vantage and never at Other, the next capture along its way,
// although that capture was running.
func (p *Path) Lost() []Event { return p.lost }

// Injected returns the packets that appeared between captures: seen at
// Vantage and never at Other, the previous capture along their way,
// although it was running.
func (p *Path) Injected() []Event { return p.injected }

// ConnRef names a connection in one capture.
type ConnRef struct {
	V int
	f uint32
}

// Conn finds the connection of capture v between endpoints a and b (in
// either order) that was active at time t (or the nearest one).
func (p *Path) Conn(v int, a, b flow.Endpoint, proto uint8, t capture.Time) (ConnRef, bool) {
	if v < 0 || v >= len(p.vs) {
		return ConnRef{}, false
	}
	c := p.vs[v].c
	key, _ := flow.New(proto, a.Addr, a.Port, b.Addr, b.Port)
	best, bestD := -1, int64(-1)
	for f := range c.conns {
		cr := &c.conns[f]
		if !cr.key.Equal(key) {
			continue
		}
		d := int64(0)
		switch {
		case int64(t) < cr.start:
			d = cr.start - int64(t)
		case int64(t) > cr.end:
			d = int64(t) - cr.end
		}
		if best < 0 || d < bestD {
			best, bestD = f, d
		}
	}
	if best < 0 {
		return ConnRef{}, false
	}
	return ConnRef{v, uint32(best)}, true
}

// Same reports whether two connections (in any captures) are the same
// connection seen at different points.
func (p *Path) Same(x, y ConnRef) bool {
	return p.vs[x.V].root[x.f] == p.vs[y.V].root[y.f]
}

// View is how one capture saw a connection.
type View struct {
	V      int
	A, B   flow.Endpoint // A opened the connection (as this capture saw it)
	Proto  uint8
	Start  capture.Time
	End    capture.Time
	Pkts   [2]int // from A, from B
	Client bool   // A is the same host side as the first view's A
}

// Views returns every capture's view of a connection, in path order.
func (p *Path) Views(c ConnRef) []View {
	r := p.vs[c.V].root[c.f]
	var out []View
	var par0 uint8
	first := true
	for vi, v := range p.vs {
		for f := range v.c.conns {
			if v.root[f] != r {
				continue
			}
			cr := &v.c.conns[f]
			a, b := cr.ends()
			if first {
				par0, first = v.parity[f], false
			}
			out = append(out, View{V: vi, A: a, B: b, Proto: cr.proto, Start: capture.Time(cr.start), End: capture.Time(cr.end),
				Pkts: [2]int{int(cr.n[0]), int(cr.n[1])}, Client: v.parity[f] == par0})
		}
	}
	return out
}

// Status is what a capture knows of one packet.
type Status uint8

const (
	Unknown     Status = iota // no judgment: the capture is off this connection's path, or no clock links it
	Seen                      // the capture has a copy (Frame)
	NotSeen                   // it was running and the packet did not pass: lost before it, or injected after it
	NotCaptured               // it was not running when the packet would have passed
)

var statusNames = [...]string{"unknown", "seen", "not seen", "not captured"}

func (s Status) String() string { return statusNames[s] }

// Sighting is one capture's view of one packet.
type Sighting struct {
	Status Status
	Frame  int64
	Time   capture.Time
}

// Trace is where one packet was seen along the path.
type Trace struct {
	Packet PacketInfo
	Down   bool       // travelled toward later captures
	At     []Sighting // per capture, in path order
	// Origin and Last are the first and last captures along its way
	// that saw it.
	Origin, Last int
}

// index returns the recorded packet of a frame (signatures are kept in
// frame order).
func (v *vstate) index(frame int64) (uint32, bool) {
	sigs := v.c.sigs
	i, ok := slices.BinarySearchFunc(sigs, frame, func(s sig, f int64) int {
		return compareI64(int64(s.frame), f)
	})
	if !ok {
		// Out-of-order frame numbers: fall back to a scan.
		for j := range sigs {
			if int64(sigs[j].frame) == frame {
				return uint32(j), true
			}
		}
		return 0, false
	}
	return uint32(i), true
}

func compareI64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Trace follows the packet of capture v's frame along the path.
func (p *Path) Trace(v int, frame int64) (Trace, bool) {
	if v < 0 || v >= len(p.vs) {
		return Trace{}, false
	}
	k, ok := p.vs[v].index(frame)
	if !ok {
		return Trace{}, false
	}
	return p.trace(v, k), true
}

func (p *Path) trace(v int, k uint32) Trace {
	s := &p.vs[v].c.sigs[k]
	tr := Trace{Packet: p.info(v, k), Down: p.travelsDown(p.vs[v], s), At: make([]Sighting, len(p.vs)), Origin: v, Last: v}
	tr.At[v] = Sighting{Seen, int64(s.frame), capture.Time(s.t)}
	for _, down := range []bool{true, false} {
		cur, ck := v, k
		for steps := 0; steps <= len(p.vs); steps++ {
			x := p.vs[cur]
			cs := &x.c.sigs[ck]
			var l linkRef
			var cp int32
			if down {
				l, cp = x.down[cs.flow][cs.fromB()], x.cd[ck]
			} else {
				l, cp = x.up[cs.flow][cs.fromB()], x.cu[ck]
			}
			ft := x.fate[ck]
			along := down == tr.Down
			if cp < 0 {
				bm := x.bridgePrev
				if along {
					bm = x.bridgeNext
				}
				if b, ok := bm[ck]; ok {
					// Across a capture that was not running.
					if b.v > cur != down || b.v == cur {
						break
					}
					step := 1
					if b.v < cur {
						step = -1
					}
					for z := cur + step; z != b.v; z += step {
						if tr.At[z].Status == Unknown {
							tr.At[z].Status = NotCaptured
						}
					}
					cur, ck = b.v, b.idx
					ns := &p.vs[cur].c.sigs[ck]
					tr.At[cur] = Sighting{Seen, int64(ns.frame), capture.Time(ns.t)}
					continue
				}
				// Mark the captures beyond as not seen or not captured.
				var st Status
				switch {
				case along && ft.flags&fLost != 0, !along && ft.flags&fInjected != 0:
					st = NotSeen
				case along && ft.flags&fOutsideNext != 0, !along && ft.flags&fOutsidePrev != 0:
					st = NotCaptured
				}
				if st != Unknown {
					w := cur + 1
					if !down {
						w = cur - 1
					}
					if l.ok() {
						w = l.other(cur)
					}
					tr.At[w].Status = st
					// Later captures on the connection's path cannot
					// have it either (unless injected there): those
					// running at the time did not see it.
					if st == NotSeen {
						for z := w; z >= 0 && z < len(p.vs); {
							if tr.At[z].Status == Unknown {
								tr.At[z].Status = NotCaptured
								if p.inWindow(x, cs.t, z, along) {
									tr.At[z].Status = NotSeen
								}
							}
							if down {
								z++
							} else {
								z--
							}
						}
					}
				}
				break
			}
			nxt := l.other(cur)
			ck = uint32(cp)
			cur = nxt
			ns := &p.vs[cur].c.sigs[ck]
			tr.At[cur] = Sighting{Seen, int64(ns.frame), capture.Time(ns.t)}
		}
	}
	for i, a := range tr.At {
		if a.Status != Seen {
			continue
		}
		if tr.Down {
			tr.Origin, tr.Last = min(tr.Origin, i), max(tr.Last, i)
		} else {
			tr.Origin, tr.Last = max(tr.Origin, i), min(tr.Last, i)
		}
	}
	return tr
}

// KindFate counts what became of one kind of packet one side of a
// connection sent.
type KindFate struct {
	// Sender is the sending side as the first capture on its way saw it.
	Sender flow.Endpoint
	Down   bool // sent toward later captures
	Kind   Kind
	// Sent counts distinct packets (transmissions).
	Sent int
	// Reached counts, per capture in path order, how many of them it
	// saw; Judged how many it could have seen (it was running and is on
	// the connection's path).
	Reached []int
	Judged  []int
	// Examples are traces of up to three of them, the first lost one
	// first.
	Examples []Trace
}

// Fates returns, for a connection, what became of each kind of packet
// each side sent, for the kinds where some packet did not pass every
// capture that was running on its way. Kinds that went everywhere are
// left out unless all is set.
func (p *Path) Fates(c ConnRef, all bool) []KindFate {
	r := p.vs[c.V].root[c.f]
	type gk struct {
		side int
		kind Kind
	}
	groups := map[gk]*KindFate{}
	var order []gk
	for vi, v := range p.vs {
		for f := range v.c.conns {
			if v.root[f] != r {
				continue
			}
			for _, k := range v.c.connPackets(uint32(f)) {
				s := &v.c.sigs[k]
				dn := p.travelsDown(v, s)
				// Start chains at the first capture along the way.
				prevCopy := v.cu[k]
				if !dn {
					prevCopy = v.cd[k]
				}
				if prevCopy >= 0 {
					continue
				}
				if _, ok := v.bridgePrev[k]; ok {
					continue
				}
				tr := p.trace(vi, k)
				key := gk{v.side(s), s.kind}
				g := groups[key]
				if g == nil {
					g = &KindFate{Sender: tr.Packet.Src, Down: dn, Kind: s.kind, Reached: make([]int, len(p.vs)), Judged: make([]int, len(p.vs))}
					groups[key] = g
					order = append(order, key)
				}
				g.Sent++
				lost := false
				for i, a := range tr.At {
					switch a.Status {
					case Seen:
						g.Reached[i]++
						g.Judged[i]++
					case NotSeen:
						g.Judged[i]++
						lost = true
					}
				}
				if lost {
					if len(g.Examples) == 0 || !hasLoss(g.Examples[0]) {
						g.Examples = append([]Trace{tr}, g.Examples...)
					} else {
						g.Examples = append(g.Examples, tr)
					}
				} else {
					g.Examples = append(g.Examples, tr)
				}
				if len(g.Examples) > 3 {
					g.Examples = g.Examples[:3]
				}
			}
		}
	}
	var out []KindFate
	for _, key := range order {
		g := groups[key]
		whole := true
		for i := range g.Reached {
			if g.Reached[i] != g.Judged[i] {
				whole = false
			}
		}
		if all || !whole {
			out = append(out, *g)
		}
	}
	slices.SortStableFunc(out, func(a, b KindFate) int {
		if a.Down != b.Down {
			if a.Down {
				return -1
			}
			return 1
		}
		return int(a.Kind) - int(b.Kind)
	})
	return out
}

func hasLoss(t Trace) bool {
	for _, a := range t.At {
		if a.Status == NotSeen {
			return true
		}
	}
	return false
}

// addrMap returns the address translations between captures a and b
// seen on linked connections: pairs (address at a, address at b) that
// differ.
func (p *Path) addrMap(a, b int) [][2]netip.Addr {
	i, j := min(a, b), max(a, b)
	ps := p.pairs[[2]int{i, j}]
	if ps == nil {
		return nil
	}
	seen := map[[2]netip.Addr]bool{}
	var out [][2]netip.Addr
	for _, l := range ps.links {
		xa, xb := p.vs[i].c.conns[l.fx].ends()
		ya, yb := p.vs[j].c.conns[l.fy].ends()
		if l.swap {
			ya, yb = yb, ya
		}
		for _, m := range [][2]netip.Addr{{xa.Addr, ya.Addr}, {xb.Addr, yb.Addr}} {
			if m[0] == m[1] {
				continue
			}
			if a > b {
				m[0], m[1] = m[1], m[0]
			}
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// flagString writes TCP flags as tcpdump does ("S.", "F.", "R").
func flagString(f uint8) string {
	var b []byte
	for _, x := range []struct {
		bit uint8
		c   byte
	}{{header.FlagSYN, 'S'}, {header.FlagFIN, 'F'}, {header.FlagPSH, 'P'}, {header.FlagRST, 'R'}, {header.FlagURG, 'U'}, {header.FlagECE, 'E'}, {header.FlagCWR, 'W'}} {
		if f&x.bit != 0 {
			b = append(b, x.c)
		}
	}
	if f&header.FlagACK != 0 {
		b = append(b, '.')
	}
	if len(b) == 0 {
		return "none"
	}
	return string(b)
}

// View returns how capture c.V saw connection c.
func (p *Path) View(c ConnRef) View {
	v := p.vs[c.V]
	cr := &v.c.conns[c.f]
	a, b := cr.ends()
	return View{V: c.V, A: a, B: b, Proto: cr.proto, Start: capture.Time(cr.start), End: capture.Time(cr.end),
		Pkts: [2]int{int(cr.n[0]), int(cr.n[1])}, Client: true}
}

// Conns returns the number of connections capture v recorded.
func (p *Path) Conns(v int) int { return len(p.vs[v].c.conns) }

// Crossing calls fn for every packet of capture v that travels toward
// capture w (w after v in path order if down, before it otherwise) and
// whose fate there was judged: delivered (a copy is at w, or at a
// capture beyond w) or lost on the way to w.
func (p *Path) Crossing(v, w int, fn func(e PacketInfo, c ConnRef, delivered bool)) {
	x := p.vs[v]
	down := w > v
	for k := range x.c.sigs {
		s := &x.c.sigs[k]
		if p.travelsDown(x, s) != down {
			continue
		}
		ft := x.fate[k]
		cp := x.cd[k]
		l := x.down[s.flow][s.fromB()]
		if !down {
			cp, l = x.cu[k], x.up[s.flow][s.fromB()]
		}
		switch {
		case ft.flags&fLost != 0 && int(ft.next) == w:
			fn(p.info(v, uint32(k)), ConnRef{v, s.flow}, false)
		case cp >= 0 && l.ok() && (down && l.other(v) <= w || !down && l.other(v) >= w):
			fn(p.info(v, uint32(k)), ConnRef{v, s.flow}, true)
		}
	}
}

// Packets calls fn for every packet recorded at capture v, saying whether
// it was injected before v.
func (p *Path) Packets(v int, fn func(pk PacketInfo, c ConnRef, injected bool)) {
	x := p.vs[v]
	for k := range x.c.sigs {
		fn(p.info(v, uint32(k)), ConnRef{v, x.c.sigs[k].flow}, x.fate[k].flags&fInjected != 0)
	}
}
