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
		case "snat-mss-clamp", "duplicate-forwarding":
			continue // NAT; a branch off the path (checked in TestLabExamples)
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
