package conn_test

import (
	"bytes"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// modelRows runs docs/zeek-conn-model/zeekconn.py (the Python model of
// docs/zeek-conn-rules.md) over a capture.
func modelRows(t *testing.T, path string, args ...string) []map[string]string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to run the Zeek model: %v", err)
	}
	script := corpus.Path(t, "docs", "zeek-conn-model", "zeekconn.py")
	var out, errb bytes.Buffer
	cmd := exec.Command(py, append([]string{script, path}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("zeekconn.py %s: %v\n%s", path, err, errb.String())
	}
	cols := []string{"proto", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "duration", "orig_bytes", "resp_bytes",
		"conn_state", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes"}
	var rows []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < len(cols) {
			t.Fatalf("zeekconn.py: short line %q", line)
		}
		row := map[string]string{}
		for i, c := range cols {
			row[c] = f[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// plainCopy returns path, or a decompressed copy of a .gz or .zst capture
// (the model reads plain files only).
func plainCopy(t *testing.T, path string) string {
	t.Helper()
	var r io.Reader
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch {
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case strings.HasSuffix(path, ".zst"):
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		return path
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".gz"), ".zst"))
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// modelDeviations are captures where the model, not wiresleuth, departs
// from Zeek; they are not compared.
var modelDeviations = map[string]string{
	"gre.pcap":    "the model logs GRE as an unknown_transport connection and never looks inside; Zeek's GRE packet analyzer (base/packet-protocols/gre) decapsulates it, as wiresleuth does",
	"gretap.pcap": "as gre.pcap: GRE carrying Ethernet",
}

// modelDiffs is diffs, except that durations may differ by a microsecond:
// the model keeps nanosecond timestamps where Zeek (and wiresleuth's Zeek
// columns) cut them to microseconds.
func modelDiffs(e, m map[string]string) []string {
	var out []string
	for _, d := range diffs(e, m) {
		if strings.HasPrefix(d, "duration:") {
			a, errA := strconv.ParseFloat(e["duration"], 64)
			b, errB := strconv.ParseFloat(m["duration"], 64)
			if errA == nil && errB == nil && math.Abs(a-b) < 1.5e-6 {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// compareWithModel joins our rows with the model's on the 5-tuple and order
// and reports every column that differs.
func compareWithModel(t *testing.T, name string, recs []*conn.Record, model []map[string]string) {
	t.Helper()
	got := make([]map[string]string, len(recs))
	for i, r := range recs {
		got[i] = zeekFields(r)
	}
	used := make([]bool, len(got))
	for _, e := range model {
		best := -1
		for j, m := range got {
			if used[j] || !sameTuple(e, m) {
				continue
			}
			if best < 0 {
				best = j
			}
			if len(modelDiffs(e, m)) == 0 {
				best = j
				break
			}
		}
		if best < 0 {
			t.Errorf("%s: model row %v has no wiresleuth row", name, e)
			continue
		}
		used[best] = true
		if d := modelDiffs(e, got[best]); len(d) > 0 {
			t.Errorf("%s: %s %s:%s > %s:%s: %s", name, e["proto"], e["id.orig_h"], e["id.orig_p"], e["id.resp_h"], e["id.resp_p"], strings.Join(d, "; "))
		}
	}
	for j, u := range used {
		if !u {
			t.Errorf("%s: wiresleuth row %v is not in the model", name, got[j])
		}
	}
}

// TestModelRepoCaptures runs the Python model over the repository's own
// captures (made with the Linux stack), with checksums verified as Zeek
// does by default and ignored (-C), and compares every conn.log column.
func TestModelRepoCaptures(t *testing.T) {
	for _, path := range corpus.Repo(t) {
		for _, noSums := range []bool{false, true} {
			name := filepath.Base(path)
			args := []string{"--ports=full"}
			opt := conn.DefaultOptions()
			if noSums {
				name += " -C"
				args = append(args, "-C")
				opt.IgnoreChecksums = true
			}
			if why, ok := modelDeviations[filepath.Base(path)]; ok {
				t.Logf("%s: not compared: %s", name, why)
				continue
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				model := modelRows(t, plainCopy(t, path), args...)
				recs := run(t, path, opt)
				if len(model) == 0 {
					t.Fatal("the model found no connections")
				}
				compareWithModel(t, name, recs, model)
			})
		}
	}
}

// TestModelScenarios does the same on the synthetic scenarios, in bare and
// full mode.
func TestModelScenarios(t *testing.T) {
	dir := t.TempDir()
	for _, s := range scenarios() {
		path := s.write(t, dir)
		for _, bare := range []bool{false, true} {
			name, args, opt := s.name, []string{"--ports=full"}, conn.DefaultOptions()
			if bare {
				name, args, opt = name+" -b", []string{"--bare"}, conn.BareOptions()
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				compareWithModel(t, name, run(t, path, opt), modelRows(t, path, args...))
			})
		}
	}
}
