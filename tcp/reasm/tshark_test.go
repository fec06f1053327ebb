package reasm

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/tshark"
)

// A reason explains one kind of disagreement with tshark's "Follow TCP
// Stream". It applies only where our own statistics for that direction show
// its cause, so it cannot hide an unrelated difference.
type reason struct {
	name    string
	applies func(ours, theirs pieces, st Stats) bool
}

var reasons = []reason{
	// Segments cut by the snap length. tshark shows the bytes captured and
	// silently moves on past the rest; we report the cut part as a gap.
	// The bytes themselves agree.
	{"snap length", func(ours, theirs pieces, st Stats) bool {
		return st.TruncatedBytes > 0 && bytes.Equal(ours.dataOnly(), theirs.dataOnly())
	}},
	// A hole at the end that no later captured data bounds. tshark's
	// follow marks a hole only once data captured beyond it is
	// acknowledged, and never shows out-of-order data still waiting when
	// the capture ends. We declare such a hole when the other side
	// acknowledges past it, at the FIN, at a RST or at End, as Zeek does
	// (its content_gap of 2902 bytes in tcp-miss-end-data.pcap is ours).
	{"trailing hole", func(ours, theirs pieces, st Stats) bool {
		rest, ok := theirs.isPrefixOf(ours)
		return ok && len(rest) > 0 && rest[0].data == nil && st.GapBytes > 0
	}},
	// Data its sender sent after its own RST (modbus-nonmodbus-502.pcap:
	// a GET 16 s after the client's RST, no new SYN). tshark's follow
	// ignores flags; for us the direction ended at the RST, as it did for
	// the receiver.
	{"data after RST", func(ours, theirs pieces, st Stats) bool {
		_, ok := ours.isPrefixOf(theirs)
		return ok && st.Reset && st.OutOfWindow > 0
	}},
	// Overlapping copies with different bytes. We keep the first copy
	// captured, as most stacks do; tshark's follow keeps, among buffered
	// copies, the one that starts exactly at the next expected byte,
	// whichever came first. The lengths agree; the bytes need not.
	{"inconsistent copies", func(ours, theirs pieces, st Stats) bool {
		return st.Inconsistencies > 0 && len(ours.dataOnly()) == len(theirs.dataOnly())
	}},
}

// agreement tallies a comparison.
type agreement struct {
	dirs, same   int
	bytes, sameB int64
	explained    map[string]int
	list         []string // each explained disagreement, for the log
	unexplained  []string
}

func (a *agreement) String() string {
	var parts []string
	for _, r := range reasons {
		if n := a.explained[r.name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r.name, n))
		}
	}
	return fmt.Sprintf("%d of %d directions identical (%.1f%%), %d of %d bytes in identical directions (%.2f%%); explained: %s; unexplained %d",
		a.same, a.dirs, 100*float64(a.same)/float64(max(a.dirs, 1)),
		a.sameB, a.bytes, 100*float64(a.sameB)/float64(max(a.bytes, 1)),
		strings.Join(parts, ", "), len(a.unexplained))
}

// compare compares our reassembly of every stream of one capture with
// tshark's and adds to a.
func (a *agreement) compare(name string, ours, theirs map[int]*followed) {
	ids := make([]int, 0, len(theirs))
	for s := range theirs {
		ids = append(ids, s)
	}
	for s := range ours {
		if theirs[s] == nil {
			ids = append(ids, s)
		}
	}
	sort.Ints(ids)
	for _, s := range ids {
		o, th := ours[s], theirs[s]
		if o == nil {
			o = &followed{}
		}
		if th == nil {
			th = &followed{}
		}
		for side := range 2 {
			// tshark's node 0 is the stream's first sender; ours is the
			// originator: match them by address.
			j := side
			if th.node[0].IsValid() && th.node[0] != o.node[0] {
				j = 1 - side
			}
			mine, their := o.dir[side], th.dir[j]
			if len(mine) == 0 && len(their) == 0 {
				continue
			}
			a.dirs++
			n := int64(len(their.dataOnly()))
			a.bytes += n
			if mine.equal(their) {
				a.same++
				a.sameB += n
				continue
			}
			why := ""
			for _, r := range reasons {
				if r.applies(mine, their, o.stats[side]) {
					why = r.name
					break
				}
			}
			if why == "" {
				a.unexplained = append(a.unexplained, fmt.Sprintf("%s stream %d %s: %s\n  ours   %s\n  tshark %s\n  stats  %+v",
					name, s, []string{"client", "server"}[side], firstDifference(mine, their), mine, their, o.stats[side]))
				continue
			}
			if a.explained == nil {
				a.explained = map[string]int{}
			}
			a.explained[why]++
			a.list = append(a.list, fmt.Sprintf("%s stream %d %s: %s (%s)", name, s, []string{"client", "server"}[side], why, firstDifference(mine, their)))
		}
	}
}

// tsharkJobs is how many tshark processes run at once: each spends most of
// its second starting up.
const tsharkJobs = 4

// TestFollowAgreement compares, on every capture of the corpus (the
// repository's, Wireshark's and Zeek's, and this package's), our
// reassembled streams with tshark's follow,tcp,raw, connection by
// connection and direction by direction. Every disagreement must be
// explained by one of the reasons above.
//
// tshark's tcp.reassemble_out_of_order preference is the fair setting
// where segments arrive out of order, so those captures (where we buffered
// anything) are compared a second time with it on. In tshark 4.0 it changes
// nothing that follow shows; the test says so if that changes.
func TestFollowAgreement(t *testing.T) {
	t.Parallel()
	tshark.Run(t, "-v") // fails the test if tshark is missing, saying how to install it
	files := append(corpus.All(t), corpus.Glob(t, "testdata")...)
	// The lab's example captures: the real stack under the faults the
	// users met (loss bursts, random loss, lost FINs, resets, clamped MSS,
	// duplicated forwarding), seen from every point of the path.
	examples, _ := filepath.Glob(corpus.Path(t, "examples", "*", "*.pcap*"))
	files = append(files, examples...)
	ooo := []string{"-o", "tcp.reassemble_out_of_order:TRUE"}

	def := tsharkAll(t, files)
	var a agreement
	var reordered []string
	for i, f := range files {
		ours := oursFollow(t, f, def[i].streamOf, Options{})
		a.compare(shortName(f), ours, def[i].follow)
		for _, c := range ours {
			if c.stats[0].PeakBuffered > 0 || c.stats[1].PeakBuffered > 0 {
				reordered = append(reordered, f)
				break
			}
		}
	}
	t.Logf("%d captures: %s", len(files), &a)
	for _, e := range a.list {
		t.Logf("  %s", e)
	}
	for _, u := range a.unexplained {
		t.Errorf("unexplained disagreement: %s", u)
	}
	if a.dirs < 300 {
		t.Errorf("only %d directions compared: corpus missing?", a.dirs)
	}

	alt := tsharkAll(t, reordered, ooo...)
	var b agreement
	differs := 0
	for i, f := range reordered {
		j := slices.Index(files, f)
		if !sameFollow(alt[i].follow, def[j].follow) {
			differs++
		}
		b.compare(shortName(f), oursFollow(t, f, alt[i].streamOf, Options{}), alt[i].follow)
	}
	t.Logf("with reassemble_out_of_order, %d captures with reordering: %s; tshark's output differs from its default on %d", len(reordered), &b, differs)
	for _, u := range b.unexplained {
		t.Errorf("reassemble_out_of_order: unexplained disagreement: %s", u)
	}
	if len(reordered) < 5 {
		t.Errorf("only %d captures with reordering", len(reordered))
	}
}

// shortName names a capture by its file, and its directory for the lab's
// examples (whose files are named by vantage point).
func shortName(f string) string {
	if dir := filepath.Base(filepath.Dir(f)); filepath.Base(filepath.Dir(filepath.Dir(f))) == "examples" {
		return dir + "/" + filepath.Base(f)
	}
	return filepath.Base(f)
}

type tsharkResult struct {
	streamOf map[int64]int
	follow   map[int]*followed
}

// tsharkAll runs tsharkFollow on files, tsharkJobs at a time.
func tsharkAll(t *testing.T, files []string, extra ...string) []tsharkResult {
	t.Helper()
	res := make([]tsharkResult, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, tsharkJobs)
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res[i].streamOf, res[i].follow, errs[i] = tsharkFollow(f, extra...)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// sameFollow reports whether two tshark follow results are the same.
func sameFollow(a, b map[int]*followed) bool {
	if len(a) != len(b) {
		return false
	}
	for s, x := range a {
		y := b[s]
		if y == nil || x.node != y.node || !x.dir[0].equal(y.dir[0]) || !x.dir[1].equal(y.dir[1]) {
			return false
		}
	}
	return true
}
