// Package dtest helps detector tests: it writes generated captures and
// runs detectors over captures the way a diagnosis does (one dataset per
// capture, in path order).
package dtest

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// Capture is one capture file and the name of its vantage point.
type Capture struct {
	Name, File string
}

// Run builds a dataset from each capture with what the detectors need and
// runs them, returning their findings.
func Run(t testing.TB, dets []*detect.Detector, caps ...Capture) []detect.Finding {
	t.Helper()
	var dss []*detect.Dataset
	for _, c := range caps {
		ds, err := detect.Build(detect.BuildOptions{Name: c.Name, File: c.File, Detectors: dets})
		if err != nil {
			t.Fatal(err)
		}
		dss = append(dss, ds)
	}
	fs, err := detect.Run(dets, dss)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// Dir returns the captures of a lab scenario folder, named as diagnose
// names them ("02-router-in.pcap" → "router-in"), in path order.
func Dir(t testing.TB, dir string) []Capture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s: %v", dir, err)
	}
	slices.Sort(files)
	var out []Capture
	for _, f := range files {
		base := filepath.Base(f)
		base = strings.TrimSuffix(strings.TrimSuffix(base, ".gz"), ".pcap")
		if i := strings.IndexByte(base, '-'); i > 0 {
			base = base[i+1:]
		}
		out = append(out, Capture{Name: base, File: f})
	}
	return out
}

// Write writes the frames of several generated connections, merged in
// time order, as one Ethernet pcap in a temporary directory.
func Write(t testing.TB, name string, frames ...[]synth.Frame) string {
	t.Helper()
	var all []synth.Frame
	for _, fs := range frames {
		all = append(all, fs...)
	}
	slices.SortStableFunc(all, func(a, b synth.Frame) int { return a.Time.Compare(b.Time) })
	file := filepath.Join(t.TempDir(), name)
	if err := synth.WriteFile(file, synth.LinkEthernet, all); err != nil {
		t.Fatal(err)
	}
	return file
}

// With returns the findings with id.
func With(fs []detect.Finding, id string) []detect.Finding {
	var out []detect.Finding
	for _, f := range fs {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// IDs lists the ids and severities of findings, for failure messages.
func IDs(fs []detect.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+"("+f.Severity.String()+")")
	}
	return out
}

// PacketAllocs feeds an observer every packet of file, serially, and
// returns the heap allocations made inside packet after the first warmup
// packets, and how many packets followed the warmup. Mallocs is
// process-wide: under load a few allocations have landed in the window
// (6 in 1 run of 6; none in 70 quiet runs), from amortised map growth or
// the runtime, so callers bound the count rather than demand zero; one
// allocation per packet cannot hide under a small bound.
func PacketAllocs(t testing.TB, file string, warmup int, packet func(*pipeline.Packet)) (mallocs uint64, packets int) {
	t.Helper()
	var ms runtime.MemStats
	n := 0
	_, err := pipeline.Run(file, pipeline.Options{NewDecoder: conn.NewDecoder, Serial: true}, func(p *pipeline.Packet) error {
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		packet(p)
		runtime.ReadMemStats(&ms)
		if n >= warmup {
			mallocs += ms.Mallocs - before
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mallocs, n - warmup
}
