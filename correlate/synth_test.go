package correlate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// Generated multi-vantage captures with ground truth: every frame knows
// which packet (connection, packet index) it shows, so matching, loss and
// injection can be scored exactly.

// The path of a generated case: client — fw-in | middlebox | fw-out —
// server. Faults at 0.5 happen inside the middlebox; NAT and other edits
// apply beyond it.
var (
	vantageAt    = []float64{0, 0.4, 0.6, 1}
	vantageNames = []string{"client", "fw-in", "fw-out", "server"}
	synthStart   = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clientIP     = netip.MustParseAddr("10.1.0.1")
	serverIP     = netip.MustParseAddr("10.2.0.2")
	natIP        = netip.MustParseAddr("192.0.2.7")
	clientIP6    = netip.MustParseAddr("2001:db8:1::1")
	serverIP6    = netip.MustParseAddr("2001:db8:2::2")
	natIP6       = netip.MustParseAddr("2001:db8:ffff::7")
)

type synthCase struct {
	name    string
	conns   int
	seed    uint64
	spacing time.Duration // between connection starts
	rounds  int           // request/response rounds per connection
	hops    int           // routers (TTL decrements): 1 puts one in the middlebox
	clock   [4]time.Duration
	drift   [4]float64
	idMode  synth.IDMode
	// Edits beyond the middlebox.
	nat, seqShift, stripTS, clamp bool
	// Link layer per vantage.
	vlan, sll2, pad int // vantage index, -1 none
	snap            [4]int
	// Capture windows: a vantage starts late or stops early (true time
	// from the first packet / before the last).
	late, early [4]time.Duration
	// Loss: each connection loses, with probability lossRate, one data
	// packet at each of these positions.
	lossAt   []float64
	lossRate float64
	// inject: a forged RST from the middlebox toward the client on every
	// fifth connection.
	inject bool
	// v6: IPv6 addresses (NAT66 beyond the middlebox when nat is set).
	v6 bool
	// partial: packets that pass a point while its capture is stopped
	// are not followed to the next running one (not done), so recall of
	// matching and loss is judged against a lower bar.
	partial bool
}

func (sc synthCase) defaults() synthCase {
	if sc.conns == 0 {
		sc.conns = 40
	}
	if sc.spacing == 0 {
		sc.spacing = 50 * time.Millisecond
	}
	if sc.rounds == 0 {
		sc.rounds = 3
	}
	return sc
}

// gframe is one generated frame with its truth.
type gframe struct {
	f    synth.Frame
	id   [2]int // connection, packet index
	from synth.Side
	tt   time.Time // true time (without the vantage's clock error)
}

type generated struct {
	sc     synthCase
	frames [4][]gframe
	files  [4]string
}

// trueTime undoes a vantage's clock. synth.Vantage applies the drift
// after the offset: t = (T+clock) + drift·(T+clock−start).
func (sc synthCase) trueTime(v int, t time.Time) time.Time {
	d := float64(t.Sub(synthStart)) / (1 + sc.drift[v])
	return synthStart.Add(time.Duration(d) - sc.clock[v])
}

// offsetAt is vantage v's clock minus the true time at true time T.
func (sc synthCase) offsetAt(v int, T time.Time) time.Duration {
	return sc.clock[v] + time.Duration(sc.drift[v]*float64(T.Add(sc.clock[v]).Sub(synthStart)))
}

func generate(t testing.TB, sc synthCase) *generated {
	t.Helper()
	sc = sc.defaults()
	rng := rand.New(rand.NewPCG(sc.seed, 7))
	g := &generated{sc: sc}
	for i := range sc.conns {
		cport := uint16(20000 + i)
		cIP, sIP := clientIP, serverIP
		if sc.v6 {
			cIP, sIP = clientIP6, serverIP6
		}
		cfg := synth.Config{
			Client: synth.Endpoint{Addr: netip.AddrPortFrom(cIP, cport), IDMode: sc.idMode, MAC: synth.MAC{2, 0, 0, 0, 0, 1}},
			Server: synth.Endpoint{Addr: netip.AddrPortFrom(sIP, 443), IDMode: sc.idMode, MAC: synth.MAC{2, 0, 0, 0, 0, 2}},
			Start:  synthStart,
			RTT:    2 * time.Millisecond,
			Hops:   sc.hops,
			Seed:   sc.seed*1000 + uint64(i),
		}
		c := synth.NewConn(cfg)
		c.Wait(time.Duration(i) * sc.spacing)
		for _, at := range sc.lossAt {
			if rng.Float64() < sc.lossRate {
				side := synth.Client
				if rng.IntN(2) == 1 {
					side = synth.Server
				}
				c.Fault(synth.Match{From: side, Data: 1, Nth: 1 + rng.IntN(4)}, synth.Fate{Lost: true, At: at})
			}
		}
		c.Handshake()
		for r := range sc.rounds {
			c.Send(synth.Client, 100+rng.IntN(700))
			c.Send(synth.Server, 500+rng.IntN(12000))
			if sc.inject && i%5 == 0 && r == sc.rounds-1 {
				rst := c.Template(synth.Server)
				rst.Flags, rst.TTL, rst.Origin, rst.Options = synth.RST|synth.ACK, 250, 0.5, nil
				c.Inject(rst)
				c.Wait(10 * time.Millisecond)
			}
		}
		c.Close(synth.Client)
		c.Wait(time.Second)
		natPort := uint16(61000 + i)
		shift := uint32(0x12345678 + i*7919)
		for v, at := range vantageAt {
			vp := synth.Vantage{At: at, Clock: sc.clock[v], Drift: sc.drift[v], Pad: sc.pad == v}
			if sc.vlan == v {
				vp.VLANs = []uint16{100}
			}
			if sc.sll2 == v {
				vp.Link = synth.LinkLinuxSLL2
			}
			if at > 0.5 {
				vp.Edit = func(p *synth.Packet) { sc.edit(p, natPort, shift) }
			}
			frames, idx := c.CaptureIndexed(vp)
			pk := c.Packets()
			for k, f := range frames {
				g.frames[v] = append(g.frames[v], gframe{f: f, id: [2]int{i, idx[k]}, from: pk[idx[k]].From, tt: sc.trueTime(v, f.Time)})
			}
		}
	}
	// Order each vantage's frames in time and apply the capture windows.
	var first, last time.Time
	for v := range g.frames {
		slices.SortStableFunc(g.frames[v], func(a, b gframe) int { return a.f.Time.Compare(b.f.Time) })
		for _, f := range g.frames[v] {
			if first.IsZero() || f.tt.Before(first) {
				first = f.tt
			}
			if f.tt.After(last) {
				last = f.tt
			}
		}
	}
	for v := range g.frames {
		g.frames[v] = slices.DeleteFunc(g.frames[v], func(f gframe) bool {
			return f.tt.Before(first.Add(sc.late[v])) || f.tt.After(last.Add(-sc.early[v]))
		})
	}
	dir := t.TempDir()
	for v := range g.frames {
		lt := synth.LinkEthernet
		if sc.sll2 == v {
			lt = synth.LinkLinuxSLL2
		}
		name := filepath.Join(dir, fmt.Sprintf("%02d-%s.pcap", v+1, vantageNames[v]))
		fh, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w, err := synth.NewPcapWriter(fh, synth.PcapOptions{LinkType: lt, Nanosecond: true, SnapLen: sc.snap[v]})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range g.frames[v] {
			if err := w.WriteFrame(f.f); err != nil {
				t.Fatal(err)
			}
		}
		if err := fh.Close(); err != nil {
			t.Fatal(err)
		}
		g.files[v] = name
	}
	return g
}

// edit is what the middlebox does to packets beyond it.
func (sc synthCase) edit(p *synth.Packet, natPort uint16, shift uint32) {
	if p.Custom != nil {
		return
	}
	if sc.nat {
		nip := natIP
		if sc.v6 {
			nip = natIP6
		}
		if p.From == synth.Client {
			p.Src = netip.AddrPortFrom(nip, natPort)
		} else {
			p.Dst = netip.AddrPortFrom(nip, natPort)
		}
	}
	if sc.seqShift {
		if p.From == synth.Client {
			p.Seq += shift
		} else if p.Flags&synth.ACK != 0 {
			p.Ack += shift
		}
	}
	if sc.stripTS || sc.clamp {
		var opts []synth.TCPOption
		for _, o := range p.Options {
			switch {
			case sc.stripTS && o.Kind == synth.OptKindTimestamps:
				opts = append(opts, synth.OptNOP(), synth.OptNOP(), synth.OptNOP(), synth.OptNOP(), synth.OptNOP(), synth.OptNOP(), synth.OptNOP(), synth.OptNOP(), synth.OptNOP(), synth.OptNOP())
			case sc.clamp && o.Kind == synth.OptKindMSS:
				opts = append(opts, synth.OptMSS(1200))
			default:
				opts = append(opts, o)
			}
		}
		p.Options = opts
	}
}

// correlateGenerated records the generated files and correlates them.
func correlateGenerated(t testing.TB, g *generated) *Path {
	t.Helper()
	var in []Input
	for v, f := range g.files {
		in = append(in, Input{Name: vantageNames[v], Capture: record(t, f)})
	}
	return correlate(in)
}

// score compares a correlation with the truth.
type score struct {
	truePairs, predPairs, goodPairs int
	trueLost, predLost, goodLost    int
	trueInj, predInj, goodInj       int
	clockErr                        time.Duration // worst |offset error|
	clockBound                      bool          // every error within the reported uncertainty (+50 µs)
}

func (s score) matchP() float64 { return ratio(s.goodPairs, s.predPairs) }
func (s score) matchR() float64 { return ratio(s.goodPairs, s.truePairs) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (s *score) add(o score) {
	s.truePairs += o.truePairs
	s.predPairs += o.predPairs
	s.goodPairs += o.goodPairs
	s.trueLost += o.trueLost
	s.predLost += o.predLost
	s.goodLost += o.goodLost
	s.trueInj += o.trueInj
	s.predInj += o.predInj
	s.goodInj += o.goodInj
	s.clockErr = max(s.clockErr, o.clockErr)
	s.clockBound = s.clockBound && o.clockBound
}

var verbose = os.Getenv("SYNTHCASE") != ""

func evaluate(t testing.TB, g *generated, p *Path) score {
	t.Helper()
	sc := g.sc
	s := score{clockBound: true}
	// Frame numbers are positions in the written files.
	type key struct {
		v  int
		id [2]int
	}
	where := map[key]int64{}
	for v := range g.frames {
		for i, f := range g.frames[v] {
			where[key{v, f.id}] = int64(i + 1)
		}
	}
	window := func(v int) (time.Time, time.Time) {
		fs := g.frames[v]
		return fs[0].tt, fs[len(fs)-1].tt
	}
	lost := map[[3]int64]bool{}
	for _, e := range p.Lost() {
		lost[[3]int64{int64(e.Vantage), int64(e.Other), e.Packet.Frame}] = true
	}
	inj := map[[3]int64]bool{}
	for _, e := range p.Injected() {
		inj[[3]int64{int64(e.Vantage), int64(e.Other), e.Packet.Frame}] = true
	}
	s.predLost, s.predInj = len(lost), len(inj)
	// A packet is judged against the next capture along its way that was
	// running when it passed (and the previous one, for injection).
	// The packet passes vantage b at its true time plus the one-way delay
	// between the two points (RTT/2 for the whole path).
	running := func(a, b int, tt time.Time, forward bool) bool {
		st, en := window(b)
		owd := time.Duration(math.Abs(vantageAt[b]-vantageAt[a]) * float64(time.Millisecond))
		at := tt.Add(owd)
		if !forward {
			at = tt.Add(-owd)
		}
		return !at.Before(st) && !at.After(en)
	}
	nextRunning := func(a, dir int, tt time.Time) int {
		for b := a + dir; b >= 0 && b < len(g.frames); b += dir {
			if running(a, b, tt, true) {
				return b
			}
		}
		return -1
	}
	prevRunning := func(a, dir int, tt time.Time) int {
		for b := a - dir; b >= 0 && b < len(g.frames); b -= dir {
			if running(a, b, tt, false) {
				return b
			}
		}
		return -1
	}
	for a := range g.frames {
		for i, f := range g.frames[a] {
			fa := int64(i + 1)
			dir := 1
			if f.from == synth.Server {
				dir = -1
			}
			tr, ok := p.Trace(a, fa)
			if !ok {
				t.Fatalf("%s: frame %d of %s not recorded", sc.name, fa, vantageNames[a])
			}
			if b := nextRunning(a, dir, f.tt); b >= 0 {
				fb, atB := where[key{b, f.id}]
				if atB {
					s.truePairs++
				}
				if tr.At[b].Status == Seen {
					s.predPairs++
					if atB && tr.At[b].Frame == fb {
						s.goodPairs++
					}
				}
				if !atB {
					s.trueLost++
					if lost[[3]int64{int64(a), int64(b), fa}] {
						s.goodLost++
						delete(lost, [3]int64{int64(a), int64(b), fa})
					} else if verbose {
						t.Logf("missed loss: %s #%d %v %s toward %s at %v: trace %+v", vantageNames[a], fa, f.id, tr.Packet.Kind, vantageNames[b], f.tt.Format("15:04:05.000000"), tr.At)
					}
				}
			}
			if b := prevRunning(a, dir, f.tt); b >= 0 {
				if _, atB := where[key{b, f.id}]; !atB {
					s.trueInj++
					if inj[[3]int64{int64(a), int64(b), fa}] {
						s.goodInj++
						delete(inj, [3]int64{int64(a), int64(b), fa})
					} else if verbose {
						t.Logf("missed injection: %s #%d %v %s from %s", vantageNames[a], fa, f.id, tr.Packet.Kind, vantageNames[b])
					}
				}
			}
		}
	}
	if verbose {
		for k := range lost {
			t.Logf("false loss: %s #%d toward %s", vantageNames[k[0]], k[2], vantageNames[k[1]])
		}
		for k := range inj {
			t.Logf("false injection: %s #%d from %s", vantageNames[k[0]], k[2], vantageNames[k[1]])
		}
	}
	// Clocks: vantage v's offset from the client's at the client's first
	// frame.
	ref := g.frames[0][0].f.Time
	for v := 1; v < len(g.frames); v++ {
		c := p.Clock(v)
		if !c.Known {
			s.clockBound = false
			s.clockErr = time.Hour
			continue
		}
		want := sc.offsetAt(v, sc.trueTime(0, ref)) - sc.offsetAt(0, sc.trueTime(0, ref))
		e := (c.Offset - want).Abs()
		s.clockErr = max(s.clockErr, e)
		if e > c.Err+50*time.Microsecond {
			s.clockBound = false
		}
	}
	return s
}

func (s score) String() string {
	return fmt.Sprintf("match P %.4f R %.4f (%d/%d/%d); lost %d/%d/%d; injected %d/%d/%d; clock err %v bound %v",
		s.matchP(), s.matchR(), s.goodPairs, s.predPairs, s.truePairs, s.goodLost, s.predLost, s.trueLost, s.goodInj, s.predInj, s.trueInj, s.clockErr, s.clockBound)
}

// synthCases are the generated cases of the accuracy table.
func synthCases() []synthCase {
	noLink := synthCase{vlan: -1, sll2: -1, pad: -1}
	with := func(name string, f func(*synthCase)) synthCase {
		c := noLink
		c.name = name
		c.seed = uint64(len(name))
		f(&c)
		return c
	}
	return []synthCase{
		with("same clock, 2% loss in the middlebox", func(c *synthCase) { c.hops = 1; c.lossAt = []float64{0.5}; c.lossRate = 0.5 }),
		with("offsets 3 ms / 40 ms / 1.5 s", func(c *synthCase) {
			c.hops = 1
			c.clock = [4]time.Duration{0, 3 * time.Millisecond, 40 * time.Millisecond, 1500 * time.Millisecond}
			c.lossAt, c.lossRate = []float64{0.2, 0.5, 0.8}, 0.3
		}),
		with("offsets of minutes (-7 min, +3 min, +11 min)", func(c *synthCase) {
			c.hops = 1
			c.clock = [4]time.Duration{0, -7 * time.Minute, 3 * time.Minute, 11*time.Minute + 123456789}
			c.lossAt, c.lossRate = []float64{0.5}, 0.5
		}),
		with("drift 50 ppm and -30 ppm over 10 min", func(c *synthCase) {
			c.hops = 1
			c.conns, c.spacing = 60, 10*time.Second
			c.clock = [4]time.Duration{0, 20 * time.Millisecond, -2 * time.Second, 90 * time.Second}
			c.drift = [4]float64{0, 50e-6, -30e-6, 20e-6}
			c.lossAt, c.lossRate = []float64{0.5}, 0.3
		}),
		with("IP ID 0 everywhere", func(c *synthCase) {
			c.hops = 1
			c.idMode = synth.IDZero
			c.lossAt, c.lossRate = []float64{0.5}, 0.5
		}),
		with("NAT with port rewrite and sequence randomisation", func(c *synthCase) {
			c.hops = 1
			c.nat, c.seqShift = true, true
			c.clock = [4]time.Duration{0, 0, 2 * time.Minute, 2 * time.Minute}
			c.lossAt, c.lossRate = []float64{0.5}, 0.5
		}),
		with("NAT, sequence randomisation, timestamps stripped, MSS clamped, IP ID 0", func(c *synthCase) {
			c.hops = 1
			c.nat, c.seqShift, c.stripTS, c.clamp = true, true, true, true
			c.idMode = synth.IDZero
			c.lossAt, c.lossRate = []float64{0.5}, 0.5
		}),
		with("IPv6, NAT66 with port rewrite, offsets of seconds", func(c *synthCase) {
			c.hops = 1
			c.v6, c.nat = true, true
			c.clock = [4]time.Duration{0, 2 * time.Second, -3 * time.Second, 5 * time.Second}
			c.lossAt, c.lossRate = []float64{0.5}, 0.5
		}),
		with("VLAN at fw-in, SLL2 at fw-out, padding at the server, snap length 96 at the client", func(c *synthCase) {
			c.hops = 1
			c.vlan, c.sll2, c.pad = 1, 2, 3
			c.snap = [4]int{96, 0, 0, 0}
			c.lossAt, c.lossRate = []float64{0.5}, 0.5
		}),
		with("captures started 1 s late and stopped 1 s early", func(c *synthCase) {
			c.hops = 1
			c.late = [4]time.Duration{0, 0, time.Second, 0}
			c.early = [4]time.Duration{0, time.Second, 0, 0}
			c.partial = true
			c.lossAt, c.lossRate = []float64{0.5}, 0.5
		}),
		with("all at once: minutes and drift, NAT, sequence randomisation, stripped timestamps, IP ID 0, VLAN, partial overlap, loss in three segments, forged RSTs", func(c *synthCase) {
			c.hops = 1
			c.conns, c.spacing = 80, 2*time.Second
			c.clock = [4]time.Duration{0, -4 * time.Minute, 90 * time.Second, 13 * time.Minute}
			c.drift = [4]float64{0, 30e-6, -20e-6, 40e-6}
			c.nat, c.seqShift, c.stripTS, c.clamp = true, true, true, true
			c.idMode = synth.IDZero
			c.vlan = 1
			c.late = [4]time.Duration{0, 0, 20 * time.Second, 0}
			c.early = [4]time.Duration{0, 30 * time.Second, 0, 0}
			c.lossAt, c.lossRate = []float64{0.2, 0.5, 0.8}, 0.4
			c.inject = true
		}),
		with("no routers (no TTL clue), forged RSTs from the middlebox", func(c *synthCase) {
			c.inject = true
			c.lossAt, c.lossRate = []float64{0.5}, 0.3
		}),
	}
}

// TestAccuracy scores matching, loss and injection on the generated cases
// and logs the accuracy table (docs/correlate-accuracy.md).
func TestAccuracy(t *testing.T) {
	var table strings.Builder
	table.WriteString("| generated case | packet pairs | matching precision | matching recall | lost found / true (false) | injected found / true (false) | worst clock error |\n|---|---|---|---|---|---|---|\n")
	for _, sc := range synthCases() {
		g := generate(t, sc)
		p := correlateGenerated(t, g)
		s := evaluate(t, g, p)
		t.Logf("%s: %s", sc.name, s)
		fmt.Fprintf(&table, "| %s | %d | %.4f | %.4f | %d / %d (%d) | %d / %d (%d) | %s |\n", sc.name, s.truePairs, s.matchP(), s.matchR(),
			s.goodLost, s.trueLost, s.predLost-s.goodLost, s.goodInj, s.trueInj, s.predInj-s.goodInj, clockWords(s.clockErr))
		minR := 0.99
		if sc.partial {
			minR = 0.95
		}
		if s.matchP() < 0.999 || s.matchR() < minR {
			t.Errorf("%s: matching %s", sc.name, s)
		}
		if s.predLost != s.goodLost || s.goodLost != s.trueLost && (!sc.partial || float64(s.goodLost) < 0.9*float64(s.trueLost)) {
			t.Errorf("%s: loss %s", sc.name, s)
		}
		if s.goodInj != s.trueInj || s.predInj != s.goodInj {
			t.Errorf("%s: injection %s", sc.name, s)
		}
		if !s.clockBound {
			t.Errorf("%s: clock %s", sc.name, s)
		}
	}
	labRows(t, &table)
	t.Logf("accuracy table:\n%s", table.String())
}

// labRows adds the lab captures to the table: every example with a
// linear path and no NAT scored against the byte-level oracle, and the
// path-drops example (NAT, partial overlap) against its drop truth.
func labRows(t *testing.T, table *strings.Builder) {
	root := corpus.Path(t, "examples")
	dirs, _ := filepath.Glob(filepath.Join(root, "*"))
	var s score
	n := 0
	for _, dir := range dirs {
		switch filepath.Base(dir) {
		case "snat-mss-clamp", "duplicate-forwarding", "path-drops", "README.md":
			continue
		}
		n++
		p := correlate(recordDir(t, dir))
		files, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.pcap*"))
		slices.Sort(files)
		var caps []oracleCap
		for _, f := range files {
			caps = append(caps, readOracle(t, f))
		}
		wantLost, wantInj, pairs := oracleEvents(caps)
		for k, fb := range pairs {
			s.truePairs++
			if tr, ok := p.Trace(int(k[0]), k[2]); ok && tr.At[k[1]].Status == Seen {
				s.predPairs++
				if tr.At[k[1]].Frame == fb {
					s.goodPairs++
				}
			}
		}
		s.trueLost += len(wantLost)
		s.trueInj += len(wantInj)
		for _, e := range p.Lost() {
			s.predLost++
			if wantLost[[3]int64{int64(e.Vantage), int64(e.Other), e.Packet.Frame}] {
				s.goodLost++
			}
		}
		for _, e := range p.Injected() {
			s.predInj++
			if wantInj[[3]int64{int64(e.Vantage), int64(e.Other), e.Packet.Frame}] {
				s.goodInj++
			}
		}
	}
	fmt.Fprintf(table, "| lab: %d examples on the Linux stack (byte-level oracle) | %d | %.4f | %.4f | %d / %d (%d) | %d / %d (%d) | same clock |\n",
		n, s.truePairs, s.matchP(), s.matchR(), s.goodLost, s.trueLost, s.predLost-s.goodLost, s.goodInj, s.trueInj, s.predInj-s.goodInj)
}

func clockWords(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

// TestSynthDebug prints the disagreements of one generated case
// (SYNTHCASE=substring of its name).
func TestSynthDebug(t *testing.T) {
	name := os.Getenv("SYNTHCASE")
	if name == "" {
		t.Skip("SYNTHCASE=name")
	}
	for _, sc := range synthCases() {
		if !strings.Contains(sc.name, name) {
			continue
		}
		g := generate(t, sc)
		p := correlateGenerated(t, g)
		t.Log(evaluate(t, g, p))
		where := map[[3]int]int64{}
		for v := range g.frames {
			for i, f := range g.frames[v] {
				where[[3]int{v, f.id[0], f.id[1]}] = int64(i + 1)
			}
		}
		for a := 0; a+1 < 4; a++ {
			for i, f := range g.frames[a] {
				tr, _ := p.Trace(a, int64(i+1))
				fb, ok := where[[3]int{a + 1, f.id[0], f.id[1]}]
				got := tr.At[a+1]
				if ok != (got.Status == Seen) || ok && got.Frame != fb {
					t.Logf("%s #%d %v %s len %d t %v: truth at %s #%d (%v), got %v #%d", vantageNames[a], i+1, f.id, tr.Packet.Kind, tr.Packet.Len, f.tt.Format("15:04:05.000000"), vantageNames[a+1], fb, ok, got.Status, got.Frame)
				}
			}
		}
		for _, e := range p.Lost() {
			f := g.frames[e.Vantage][e.Packet.Frame-1]
			_, ok := where[[3]int{e.Other, f.id[0], f.id[1]}]
			t.Logf("lost at %s #%d %v %s → not %s; truth present there: %v; t %v", vantageNames[e.Vantage], e.Packet.Frame, f.id, e.Packet.Kind, vantageNames[e.Other], ok, f.tt.Format("15:04:05.000000"))
		}
		for v := range 4 {
			fs := g.frames[v]
			t.Logf("%s window %v – %v clock %+v", vantageNames[v], fs[0].tt.Format("15:04:05.000000"), fs[len(fs)-1].tt.Format("15:04:05.000000"), p.Clock(v))
		}
		t.Log(dump(p))
	}
}

func TestSynthLinks(t *testing.T) {
	name := os.Getenv("SYNTHLINKS")
	if name == "" {
		t.Skip()
	}
	var a, b, port int
	var sub string
	fmt.Sscanf(name, "%d %d %d %s", &a, &b, &port, &sub)
	for _, sc := range synthCases() {
		if !strings.Contains(sc.name, sub) {
			continue
		}
		g := generate(t, sc)
		x, y := record(t, g.files[a]), record(t, g.files[b])
		debugConn = func(cx, cy *connRec, v *vote) {
			ea, _ := cx.ends()
			if ya, _ := cy.ends(); int(ea.Port) == port || int(ya.Port) == port+41000 {
				t.Logf("votes %v → %v: w %v deltas %v ndt %d dts %v", ea, ya, v.w, v.deltas, v.ndt, v.dts[:v.ndt])
			}
		}
		defer func() { debugConn = nil }()
		links := matchConns(x, y, anchorsOf(x), anchorsOf(y))
		for _, l := range links {
			ea, _ := x.conns[l.fx].ends()
			if int(ea.Port) == port {
				ya, _ := y.conns[l.fy].ends()
				t.Logf("%v → %v: %+v", ea, ya, l)
			}
		}
	}
}
