// Package corpus locates the captures that tests run on: the repository's
// own (testdata/, examples/) and the peers' reference traces in
// ../shared/peers (Zeek's and Wireshark's), which CI provides at the same
// place.
package corpus

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Root returns the repository root (the directory holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("corpus: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path joins elem to the repository root.
func Path(t testing.TB, elem ...string) string {
	return filepath.Join(append([]string{Root(t)}, elem...)...)
}

// Peers returns the directory of the shared peer traces. Tests that compare
// with the peers fail (not skip) when it is missing: CI has it.
func Peers(t testing.TB) string {
	t.Helper()
	p := filepath.Join(Root(t), "..", "shared", "peers")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus: peer traces not found at %s: %v", p, err)
	}
	return p
}

// IsCaptureName reports whether a file name looks like a capture.
func IsCaptureName(name string) bool {
	for _, ext := range []string{".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".pcap.zst", ".pcapng.zst"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// Glob returns the capture files directly in dir, sorted.
func Glob(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && IsCaptureName(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// Repo returns the repository's own real captures (testdata/).
func Repo(t testing.TB) []string { return Glob(t, Path(t, "testdata")) }

// PeerCaptures returns every capture in ../shared/peers (Zeek traces,
// Wireshark test captures and vectors).
func PeerCaptures(t testing.TB) []string {
	p := Peers(t)
	var out []string
	for _, d := range []string{"zeek", "wireshark/captures", "wireshark/vectors"} {
		out = append(out, Glob(t, filepath.Join(p, d))...)
	}
	return out
}

// All returns Repo and PeerCaptures together.
func All(t testing.TB) []string { return append(Repo(t), PeerCaptures(t)...) }

// Lab returns the captures made on this machine's Linux stack by the lab
// and by packages' capture scripts: every lab scenario in examples/ (all
// vantage points) and the loss/reordering captures of tcp/reasm.
func Lab(t testing.TB) []string {
	var out []string
	root := Path(t, "examples")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, Glob(t, filepath.Join(root, e.Name()))...)
		}
	}
	return append(out, Glob(t, Path(t, "tcp", "reasm", "testdata"))...)
}
