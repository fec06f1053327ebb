package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got  %q\n want %q\n(run go test -update if the change is intended)", name, i+1, g, w)
			}
		}
	}
}

// TestGoldenOutputs pins the text renderings of packets, conv and flags.
func TestGoldenOutputs(t *testing.T) {
	peers := corpus.Peers(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"packets-anomalies.golden.txt", []string{"packets", "--time", "relative", filepath.Join(peers, "wireshark", "vectors", "anomalies.pcap")}},
		{"packets-icmp.golden.txt", []string{"packets", "--time", "relative", corpus.Path(t, "testdata", "icmp.pcap")}},
		{"packets-tunnels.golden.txt", []string{"packets", "--time", "relative", "-Y", "tcp", corpus.Path(t, "testdata", "vxlan.pcap"), corpus.Path(t, "testdata", "gre.pcap")}},
		{"conv-http.golden.txt", []string{"conv", corpus.Path(t, "testdata", "http-veth.pcap")}},
		{"flags-http.golden.txt", []string{"flags", "--port", "8080", corpus.Path(t, "testdata", "http-veth.pcap")}},
	} {
		out := wsRun(t, tc.args...)
		// File paths differ between machines.
		out = strings.ReplaceAll(out, corpus.Root(t)+"/", "")
		golden(t, tc.name, out)
	}
}
