package correlate

import (
	"encoding/binary"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// Lab captures (the real Linux stack, tcpdump on every interface of the
// path) judged against an independent oracle: on a path without NAT a
// packet is the same packet at two points when its IP bytes are the same
// but for the TTL and the header checksum. The oracle counts, for each
// pair of neighbouring captures, the copies of each packet at both and
// calls the surplus upstream lost (or injected, for the other direction).

var (
	clientLAN = netip.MustParsePrefix("10.99.0.0/24")
	serverLAN = netip.MustParsePrefix("10.99.1.0/24")
)

type oraclePkt struct {
	id    uint64
	frame int64
	t     int64
	down  bool
}

type oracleCap struct {
	pkts       []oraclePkt
	start, end int64
}

func readOracle(t testing.TB, file string) oracleCap {
	t.Helper()
	var oc oracleCap
	first := true
	_, err := pipeline.Run(file, pipeline.Options{NewDecoder: conn.NewDecoder}, func(p *pipeline.Packet) error {
		tt := int64(p.Time)
		if first || tt < oc.start {
			oc.start = tt
		}
		if first || tt > oc.end {
			oc.end = tt
		}
		first = false
		if p.IPVersion != 4 || len(p.IP) < 20 {
			return nil
		}
		var down bool
		switch {
		case serverLAN.Contains(p.Dst):
			down = true
		case clientLAN.Contains(p.Dst):
		default:
			return nil
		}
		b := slices.Clone(p.IP[:min(len(p.IP), p.IPLen)])
		b[8] = 0                              // TTL
		binary.BigEndian.PutUint16(b[10:], 0) // header checksum
		h := fnv.New64a()
		h.Write(b)
		oc.pkts = append(oc.pkts, oraclePkt{h.Sum64(), p.Frame, tt, down})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

// oracleEvents returns "lost"/"injected" events per capture and frame:
// for each pair of neighbours, packets at the one they pass first with no
// copy left at the other, while the other was capturing.
func oracleEvents(caps []oracleCap) (lost, injected map[[3]int64]bool, pairs map[[3]int64]int64) {
	lost, injected, pairs = map[[3]int64]bool{}, map[[3]int64]bool{}, map[[3]int64]int64{}
	for a := 0; a+1 < len(caps); a++ {
		b := a + 1
		for _, dir := range []bool{true, false} {
			from, to := a, b
			if !dir {
				from, to = b, a
			}
			// Copies at "to", by identity, consumed in time order.
			avail := map[uint64][]int64{}
			for _, p := range caps[to].pkts {
				if p.down == dir {
					avail[p.id] = append(avail[p.id], p.frame)
				}
			}
			for _, p := range caps[from].pkts {
				if p.down != dir {
					continue
				}
				if fs := avail[p.id]; len(fs) > 0 {
					pairs[[3]int64{int64(from), int64(to), p.frame}] = fs[0]
					avail[p.id] = fs[1:]
					continue
				}
				if p.t >= caps[to].start && p.t <= caps[to].end {
					lost[[3]int64{int64(from), int64(to), p.frame}] = true
				}
			}
			// Copies at "to" never seen at "from": injected in between.
			availFrom := map[uint64]int{}
			for _, p := range caps[from].pkts {
				if p.down == dir {
					availFrom[p.id]++
				}
			}
			for _, p := range caps[to].pkts {
				if p.down != dir {
					continue
				}
				if availFrom[p.id] > 0 {
					availFrom[p.id]--
					continue
				}
				if p.t >= caps[from].start && p.t <= caps[from].end {
					injected[[3]int64{int64(to), int64(from), p.frame}] = true
				}
			}
		}
	}
	return lost, injected, pairs
}

// TestLabExamplesOracle: on every lab example with a linear path and no
// NAT, the packets correlate calls lost and injected are exactly those the
// oracle finds, in the same segment.
func TestLabExamplesOracle(t *testing.T) {
	root := corpus.Path(t, "examples")
	dirs, _ := filepath.Glob(filepath.Join(root, "*"))
	n := 0
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		switch name {
		case "snat-mss-clamp", "duplicate-forwarding", "path-drops":
			continue // NAT (TestLabPathDrops); a branch off the path
		}
		n++
		t.Run(name, func(t *testing.T) {
			in := recordDir(t, dir)
			p := correlate(in)
			var caps []oracleCap
			files, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.pcap*"))
			slices.Sort(files)
			for _, f := range files {
				caps = append(caps, readOracle(t, f))
			}
			wantLost, wantInj, pairs := oracleEvents(caps)
			good, pred := 0, 0
			for k, fb := range pairs {
				tr, ok := p.Trace(int(k[0]), k[2])
				if ok && tr.At[k[1]].Status == Seen {
					pred++
					if tr.At[k[1]].Frame == fb {
						good++
					}
				}
			}
			if good != len(pairs) || pred != len(pairs) {
				t.Errorf("matching: %d of %d oracle pairs found, %d predicted", good, len(pairs), pred)
			}
			gotLost, gotInj := map[[3]int64]bool{}, map[[3]int64]bool{}
			for _, e := range p.Lost() {
				gotLost[[3]int64{int64(e.Vantage), int64(e.Other), e.Packet.Frame}] = true
			}
			for _, e := range p.Injected() {
				gotInj[[3]int64{int64(e.Vantage), int64(e.Other), e.Packet.Frame}] = true
			}
			compareEvents(t, "lost", p, wantLost, gotLost)
			compareEvents(t, "injected", p, wantInj, gotInj)
			t.Logf("%d lost, %d injected, as the oracle says", len(gotLost), len(gotInj))
		})
	}
	if n < 10 {
		t.Fatalf("only %d examples", n)
	}
}

func compareEvents(t *testing.T, what string, p *Path, want, got map[[3]int64]bool) {
	t.Helper()
	var bad []string
	for k := range want {
		if !got[k] {
			bad = append(bad, "missed: "+p.Name(int(k[0]))+"→"+p.Name(int(k[1]))+" frame "+itoa(k[2]))
		}
	}
	for k := range got {
		if !want[k] {
			bad = append(bad, "wrong: "+p.Name(int(k[0]))+"→"+p.Name(int(k[1]))+" frame "+itoa(k[2]))
		}
	}
	slices.Sort(bad)
	if len(bad) > 0 {
		t.Errorf("%s packets differ from the oracle:\n%s", what, strings.Join(bad, "\n"))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// natID is a packet's identity that source NAT keeps: IP ID, TCP
// sequence and acknowledgment numbers, flags and payload.
func natID(t testing.TB, file string) oracleCap {
	t.Helper()
	var oc oracleCap
	first := true
	_, err := pipeline.Run(file, pipeline.Options{NewDecoder: conn.NewDecoder}, func(p *pipeline.Packet) error {
		tt := int64(p.Time)
		if first || tt < oc.start {
			oc.start = tt
		}
		if first || tt > oc.end {
			oc.end = tt
		}
		first = false
		if p.Packet.TCP == nil {
			return nil
		}
		h := fnv.New64a()
		var b [16]byte
		binary.BigEndian.PutUint32(b[0:], p.IPID)
		binary.BigEndian.PutUint32(b[4:], p.Packet.TCP.Seq())
		binary.BigEndian.PutUint32(b[8:], p.Packet.TCP.Ack())
		b[12] = p.Packet.TCP.Flags()
		h.Write(b[:])
		h.Write(p.Payload)
		oc.pkts = append(oc.pkts, oraclePkt{h.Sum64(), p.Frame, tt, p.DstPort == 80})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

// TestLabPathDrops: r1 drops client requests, r2 (which also source-NATs
// the client) drops server segments, r1-out's capture starts late and
// r2-in's stops early. Every dropped packet must be claimed lost at its
// router: seen last at r1-in (r2-out) and never at the next capture along
// its way that was running; nothing else may be claimed.
func TestLabPathDrops(t *testing.T) {
	checkPathDrops(t, filepath.Join(corpus.Path(t, "examples"), "path-drops"))
}

func checkPathDrops(t *testing.T, dir string) {
	t.Helper()
	in := recordDir(t, dir)
	p := correlate(in)
	files, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.pcap*"))
	slices.Sort(files)
	var caps []oracleCap
	for _, f := range files {
		caps = append(caps, natID(t, f))
	}
	const client, r1in, r1out, r2in, r2out, server = 0, 1, 2, 3, 4, 5
	present := func(v int, id uint64) bool {
		return slices.ContainsFunc(caps[v].pkts, func(q oraclePkt) bool { return q.id == id })
	}
	running := func(v int, tt int64) bool { return tt >= caps[v].start && tt <= caps[v].end }
	want := map[[3]int64]bool{}
	// Requests r1 dropped: at r1-in, never at the server (nothing else
	// drops that way). The claim names the next running capture after r1-in.
	for _, q := range caps[r1in].pkts {
		if q.down && !present(server, q.id) {
			next := r1out
			for next < server && !running(next, q.t) {
				next++
			}
			want[[3]int64{r1in, int64(next), q.frame}] = true
		}
	}
	for _, q := range caps[r2out].pkts {
		if !q.down && !present(client, q.id) {
			next := r2in
			for next > client && !running(next, q.t) {
				next--
			}
			want[[3]int64{r2out, int64(next), q.frame}] = true
		}
	}
	got := map[[3]int64]bool{}
	for _, e := range p.Lost() {
		got[[3]int64{int64(e.Vantage), int64(e.Other), e.Packet.Frame}] = true
		if !running(e.Other, int64(e.Packet.Time)) {
			t.Errorf("claimed lost toward %s while it was not capturing: %+v", p.Name(e.Other), e.Packet)
		}
	}
	compareEvents(t, "lost", p, want, got)
	if n := len(p.Injected()); n > 0 {
		t.Errorf("%d packets called injected", n)
	}
	bySeg := map[string]int{}
	for k := range want {
		bySeg[p.Name(int(k[0]))+"→"+p.Name(int(k[1]))]++
	}
	if len(want) < 10 || bySeg["r1-in→r1-out"] == 0 || bySeg["r2-out→r2-in"] == 0 {
		t.Errorf("the example does not exercise every segment: %v", bySeg)
	}
	t.Logf("drops placed: %v", bySeg)
	// The NAT mapping is reported between r2-in and r2-out.
	found := false
	for _, s := range p.Segments() {
		for _, tr := range s.Translations {
			if p.Name(s.From) == "r2-in" && p.Name(s.To) == "r2-out" && tr.Before[0].Addr.String() == "10.99.0.2" && tr.After[0].Addr.String() == "10.99.1.1" {
				found = true
			}
		}
	}
	if !found {
		t.Error("no SNAT 10.99.0.2 → 10.99.1.1 between r2-in and r2-out")
	}
}
