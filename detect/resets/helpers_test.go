package resets_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/handshake"
	"github.com/wiresleuth/wiresleuth/detect/resets"
	"github.com/wiresleuth/wiresleuth/diagnose"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/report"
)

// detectors are this package's, with the handshake family they must not
// contradict.
func detectors() []*detect.Detector {
	return []*detect.Detector{handshake.Unanswered, handshake.ICMPUnreachable, handshake.Refused,
		resets.StaleACK, resets.SpuriousSYNACK, resets.Forged, resets.IdleTimeout, resets.Summary}
}

// run diagnoses captures (name=FILE or a directory) with the detectors.
func run(t *testing.T, args ...string) *report.Report {
	t.Helper()
	in, _, err := diagnose.Inputs(args)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := diagnose.Run(in, diagnose.Options{Detectors: detectors(), Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		t.Logf("%s %s: %s\n  %s\n  facts %v\n  vantages %v", f.Severity, f.ID, f.Title, f.Explanation, f.Facts, f.Vantages)
	}
	return rep
}

// example returns the path of a committed lab scenario.
func example(t *testing.T, name string) string {
	return filepath.Join(corpus.Path(t, "examples"), name)
}

// only returns the findings with an id.
func only(rep *report.Report, id string) []detect.Finding {
	var out []detect.Finding
	for _, f := range rep.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// one returns the single finding with an id.
func one(t *testing.T, rep *report.Report, id string) detect.Finding {
	t.Helper()
	fs := only(rep, id)
	if len(fs) != 1 {
		t.Fatalf("%d %s findings, want 1", len(fs), id)
	}
	return fs[0]
}

// quiet fails if any finding above info was reported.
func quiet(t *testing.T, rep *report.Report) {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Severity > detect.Info {
			t.Errorf("unexpected %s %s: %s", f.Severity, f.ID, f.Title)
		}
	}
}

// none fails if any of ids was reported.
func none(t *testing.T, rep *report.Report, ids ...string) {
	t.Helper()
	for _, f := range rep.Findings {
		if slices.Contains(ids, f.ID) {
			t.Errorf("unexpected %s %s: %s", f.Severity, f.ID, f.Title)
		}
	}
}

// facts checks facts exactly.
func facts(t *testing.T, f detect.Finding, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := f.Fact(k); got != v {
			t.Errorf("%s: fact %s = %q, want %q", f.ID, k, got, v)
		}
	}
}

// factNear checks a numeric fact within a tolerance.
func factNear(t *testing.T, f detect.Finding, key string, want, tol float64) {
	t.Helper()
	got, err := strconv.ParseFloat(f.Fact(key), 64)
	if err != nil || got < want-tol || got > want+tol {
		t.Errorf("%s: fact %s = %q, want %g±%g", f.ID, key, f.Fact(key), want, tol)
	}
}

// says checks that an explanation mentions each phrase.
func says(t *testing.T, f detect.Finding, phrases ...string) {
	t.Helper()
	text := f.Title + " " + f.Explanation + " " + strings.Join(f.NextSteps, " ") + " " + strings.Join(f.Vantages, " ")
	for _, p := range phrases {
		if !strings.Contains(text, p) {
			t.Errorf("%s does not say %q:\n%s", f.ID, p, text)
		}
	}
}

// Synthetic captures.

var t0 = time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC)

func ep(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// capture collects frames of several connections at one vantage point.
type capture struct {
	v      synth.Vantage
	frames []synth.Frame
}

func (c *capture) add(conns ...*synth.Conn) {
	for _, x := range conns {
		c.frames = append(c.frames, x.Capture(c.v)...)
	}
}

// write writes vantage points' captures as NN-name.pcap in a directory
// and returns it.
func write(t *testing.T, caps map[string]*capture, order ...string) string {
	t.Helper()
	dir := t.TempDir()
	for i, name := range order {
		c := caps[name]
		slices.SortStableFunc(c.frames, func(a, b synth.Frame) int { return a.Time.Compare(b.Time) })
		if err := synth.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s.pcap", i+1, name)), synth.LinkEthernet, c.frames); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeOne writes one vantage point's capture.
func writeOne(t *testing.T, at float64, conns ...*synth.Conn) string {
	t.Helper()
	c := &capture{v: synth.Vantage{At: at}}
	c.add(conns...)
	return write(t, map[string]*capture{"cap": c}, "cap")
}
