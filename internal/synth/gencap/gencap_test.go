package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func tshark(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v (scripts/test.sh installs tshark)", args, err)
	}
	return string(out)
}

// TestSmallCaptureTshark generates a few MB and checks tshark finds exactly
// the connections and exchanges the generator made, and nothing malformed.
func TestSmallCaptureTshark(t *testing.T) {
	p := filepath.Join(t.TempDir(), "small.pcapng")
	st, err := writeFile(p, 6e6, 7)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes < 6e6 || st.TCP < 100 || st.DNS < 10 || st.Bulk < 1 {
		t.Fatalf("generated too little: %+v", st)
	}
	conv := func(kind string) int {
		return strings.Count(tshark(t, "-n", "-r", p, "-q", "-z", "conv,"+kind), "<->")
	}
	if n := conv("tcp"); n != st.TCP {
		t.Errorf("tshark counts %d TCP conversations, generator made %d", n, st.TCP)
	}
	if n := conv("udp"); n != st.DNS {
		t.Errorf("tshark counts %d UDP conversations, generator made %d", n, st.DNS)
	}
	frames := strings.Count(tshark(t, "-n", "-r", p, "-T", "fields", "-e", "frame.number"), "\n")
	if int64(frames) != st.Frames {
		t.Errorf("tshark reads %d frames, generator wrote %d", frames, st.Frames)
	}
	ex := tshark(t, "-n", "-r", p, "-q", "-z", "expert",
		"-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE")
	if strings.Contains(ex, "Errors (") || strings.Contains(ex, "Malformed") {
		t.Errorf("tshark reports errors:\n%s", ex)
	}
	// Loss and reordering are there on purpose, and nothing else warns.
	sec := ""
	for _, line := range strings.Split(ex, "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasSuffix(line, ")") && strings.Contains(line, " (") && !strings.HasPrefix(line, " ") {
			sec = f[0]
			continue
		}
		if sec == "Warns" && strings.Contains(line, "TCP") &&
			!strings.Contains(line, "Previous segment(s) not captured") && !strings.Contains(line, "out-of-order") {
			t.Errorf("unexpected warning: %s", strings.TrimSpace(line))
		}
	}
	if !strings.Contains(ex, "retransmission") {
		t.Errorf("no retransmissions in the capture:\n%s", ex)
	}
	// Real-world option sets: timestamps on most SYNs, not all; WS 7 and 8.
	syns := tshark(t, "-n", "-r", p, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields",
		"-e", "tcp.options.mss_val", "-e", "tcp.options.wscale.shift", "-e", "tcp.options.timestamp.tsval")
	lines := strings.Split(strings.TrimRight(syns, "\n"), "\n")
	var ts, ws8 int
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if f[0] != "1460" {
			t.Fatalf("SYN with MSS %q", f[0])
		}
		if f[2] != "" {
			ts++
		}
		if f[1] == "8" {
			ws8++
		}
	}
	if ts < len(lines)*6/10 || ts == len(lines) || ws8 == 0 {
		t.Errorf("of %d SYNs, %d with timestamps and %d with window scale 8", len(lines), ts, ws8)
	}
}

// TestDeterministic: the same seed gives the same bytes; another seed not.
func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	var files [3][]byte
	for i, seed := range []uint64{3, 3, 4} {
		p := filepath.Join(dir, "d.pcap")
		if _, err := writeFile(p, 1e6, seed); err != nil {
			t.Fatal(err)
		}
		files[i], _ = os.ReadFile(p)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("two runs with seed 3 differ")
	}
	if bytes.Equal(files[0], files[2]) {
		t.Error("seeds 3 and 4 give the same file")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"400MB": 400e6, "1.5GB": 15e8, "10kb": 1e4, "123": 123} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1MB", "x"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}
