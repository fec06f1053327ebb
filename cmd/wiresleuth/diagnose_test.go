package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// TestDiagnoseExitStatus: 1 with error findings, 0 without, 2 for unusable
// input; JSON carries captures, summary, findings and warnings.
func TestDiagnoseExitStatus(t *testing.T) {
	code, out, _ := runCapture("diagnose", "--format", "json", corpus.Path(t, "examples", "syn-drop"))
	if code != 1 {
		t.Fatalf("syn-drop: exit %d", code)
	}
	var rep map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "captures", "summary", "findings", "warnings"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("JSON report has no %q", k)
		}
	}
	if code, _, errs := runCapture("diagnose", corpus.Path(t, "examples", "http-keepalive")); code != 0 {
		t.Errorf("http-keepalive: exit %d %s", code, errs)
	}
	junk := filepath.Join(t.TempDir(), "junk.pcap")
	os.WriteFile(junk, []byte("GET / HTTP/1.1\r\n"), 0o644)
	if code, _, errs := runCapture("diagnose", junk); code != 2 || !strings.Contains(errs, junk) {
		t.Errorf("junk: exit %d %q", code, errs)
	}
}

// TestDiagnoseStdin: a capture on standard input is diagnosed, evidence
// lines included (it is read twice, so it is spooled).
func TestDiagnoseStdin(t *testing.T) {
	f, err := os.Open(corpus.Path(t, "examples", "syn-drop", "01-client.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	code, out, errs := runCapture("diagnose", "-")
	if code != 1 || !strings.Contains(out, "handshake.unanswered") || !strings.Contains(out, "Flags [S]") {
		t.Fatalf("exit %d, stderr %q\n%s", code, errs, out)
	}
}

// TestDiagnoseNames: name=FILE names a vantage point, --path orders them.
func TestDiagnoseNames(t *testing.T) {
	dir := corpus.Path(t, "examples", "syn-drop")
	code, out, errs := runCapture("diagnose", "--format", "json", "--path", "cli,srv",
		"srv="+filepath.Join(dir, "04-server.pcap"), "cli="+filepath.Join(dir, "01-client.pcap"))
	if code != 1 {
		t.Fatalf("exit %d %s", code, errs)
	}
	var rep struct {
		Captures []struct{ Name string }
	}
	json.Unmarshal([]byte(out), &rep)
	if len(rep.Captures) != 2 || rep.Captures[0].Name != "cli" || rep.Captures[1].Name != "srv" {
		t.Fatalf("captures %+v", rep.Captures)
	}
	if code, _, _ := runCapture("diagnose", "--path", "x,y", filepath.Join(dir, "04-server.pcap")); code != 2 {
		t.Fatal("--path with the wrong names accepted")
	}
}

// TestDiagnoseDeterministic: the same capture gives the same report, byte
// for byte. A generated capture with thousands of connections and DNS
// exchanges, some unanswered, makes streams end together in bulk (idle
// sweeps, end of capture), where map order must not leak into the report.
func TestDiagnoseDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 40 MB capture")
	}
	file := filepath.Join(t.TempDir(), "gen.pcap")
	cmd := exec.Command("go", "run", "./internal/synth/gencap", "-o", file, "-size", "40MB", "-seed", "5")
	cmd.Dir = corpus.Path(t, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gencap: %v\n%s", err, out)
	}
	var first string
	for i := range 3 {
		_, out, errs := runCapture("diagnose", "--format", "json", file)
		if !strings.Contains(out, `"app.no-reply"`) {
			t.Fatalf("no app.no-reply finding to order (stderr %q)", errs)
		}
		if i == 0 {
			first = out
		} else if out != first {
			t.Fatalf("run %d differs from the first", i+1)
		}
	}
}
