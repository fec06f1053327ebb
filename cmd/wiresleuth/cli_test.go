package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

func runCapture(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// TestUnusableInput: a file that is not a capture ends the run with exit
// status 2 and one line naming the file, what was expected and what was
// found.
func TestUnusableInput(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("not a capture\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	for _, cmd := range []string{"conv", "flags", "packets"} {
		for _, f := range []string{txt, empty, filepath.Join(dir, "missing.pcap")} {
			code, out, errs := runCapture(cmd, f)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if code != 2 || out != "" || len(lines) != 1 || !strings.Contains(errs, f) {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q", cmd, f, code, out, errs)
			}
		}
	}
	if code, _, errs := runCapture("conv", txt); !strings.Contains(errs, "expected pcap or pcapng") || !strings.Contains(errs, "text") {
		t.Errorf("exit %d: %q does not say what was expected and found", code, errs)
	}
}

// TestTruncatedCapture: a capture cut in the middle is analysed up to the
// damage, the damage is reported (stderr and JSON warnings), exit 0.
func TestTruncatedCapture(t *testing.T) {
	data, err := os.ReadFile(corpus.Path(t, "testdata", "http-veth.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)*2/3], 0o644)
	code, out, errs := runCapture("conv", "--format", "json", cut)
	if code != 0 || !strings.Contains(errs, "warning") || !strings.Contains(errs, "truncated") {
		t.Fatalf("exit %d stderr %q", code, errs)
	}
	var got struct {
		Captures      []captureJSON
		Conversations []json.RawMessage
		Warnings      []string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "byte") || len(got.Conversations) == 0 || got.Captures[0].Complete {
		t.Fatalf("json %s", out)
	}
}

// TestDirectoryArgument: a directory stands for the captures in it, sorted
// by name; other files are skipped with a warning.
func TestDirectoryArgument(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile(corpus.Path(t, "testdata", "icmp.pcap"))
	os.WriteFile(filepath.Join(dir, "b.pcap"), data, 0o644)
	data, _ = os.ReadFile(corpus.Path(t, "testdata", "http-veth.pcap"))
	os.WriteFile(filepath.Join(dir, "a.pcap"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "truth.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, "lab.log"), []byte("notes"), 0o644)
	code, out, errs := runCapture("conv", dir)
	if want := "wiresleuth: " + dir + ": skipping lab.log, truth.json (not capture files)\n"; code != 0 || errs != want {
		t.Fatalf("exit %d stderr %q, want %q", code, errs, want)
	}
	if a, b := strings.Index(out, "a.pcap"), strings.Index(out, "b.pcap"); a < 0 || b < 0 || a > b {
		t.Fatalf("captures not in name order:\n%s", out)
	}
}

// TestStdin reads a capture from standard input.
func TestStdin(t *testing.T) {
	f, err := os.Open(corpus.Path(t, "testdata", "http-veth.pcap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	code, out, errs := runCapture("packets", "-T", "fields", "-e", "tcp.stream", "-")
	if code != 0 || strings.Count(out, "\n") != 72 {
		t.Fatalf("exit %d, %d lines, stderr %q", code, strings.Count(out, "\n"), errs)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"nope"}, {"conv", "--format", "xml", "x"}, {"packets", "-Y", "tcp.port ==", "x"},
		{"packets", "-T", "fields", "-e", "no.such.field", "x"}, {"conv"}} {
		if code, _, errs := runCapture(args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d stderr %q", args, code, errs)
		}
	}
	if code, out, _ := runCapture("--help"); code != 0 || !strings.Contains(out, "conv") {
		t.Errorf("help: %d %q", code, out)
	}
}
