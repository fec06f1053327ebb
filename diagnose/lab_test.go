package diagnose_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/detect/all"
	"github.com/wiresleuth/wiresleuth/diagnose"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/lab"
	"github.com/wiresleuth/wiresleuth/report"
)

// implemented is the set of finding ids some detector reports.
func implemented() map[string]bool {
	ids := map[string]bool{}
	for _, d := range all.Detectors() {
		ids[d.ID] = true
		for _, id := range familyIDs[d.ID] {
			ids[id] = true
		}
	}
	return ids
}

// familyIDs lists the finding ids of detectors that report several.
var familyIDs = map[string][]string{}

// judge diagnoses a scenario folder and compares with its truth: every
// expected finding with its facts, and no unexpected warning or error.
func judge(t *testing.T, dir string) {
	t.Helper()
	res, err := lab.ReadResult(dir)
	if err != nil {
		t.Fatal(err)
	}
	in, _, err := diagnose.Inputs([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := diagnose.Run(in, diagnose.Options{Detectors: all.Detectors(), Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var got []lab.Reported
	var ids []string
	for _, f := range rep.Findings {
		b, _ := json.Marshal(f)
		got = append(got, lab.Reported{ID: f.ID, Severity: f.Severity.String(), JSON: b})
		ids = append(ids, f.ID+"("+f.Severity.String()+")")
	}
	impl := implemented()
	for _, id := range res.Truth.Expect {
		if !impl[id] {
			t.Errorf("%s: expects %s, which no detector reports", filepath.Base(dir), id)
		}
	}
	if bad := res.Truth.Judge(got); len(bad) > 0 {
		t.Errorf("%s: reported %v\n%s", filepath.Base(dir), ids, strings.Join(bad, "\n"))
	}
	checkReport(t, rep)
}

// checkReport renders every format, so a scenario's report cannot break a
// renderer.
func checkReport(t *testing.T, rep *report.Report) {
	t.Helper()
	if err := report.Text(&strings.Builder{}, rep, report.TextOptions{}); err != nil {
		t.Error(err)
	}
	if err := report.JSON(&strings.Builder{}, rep); err != nil {
		t.Error(err)
	}
	if err := report.HTML(&strings.Builder{}, rep); err != nil {
		t.Error(err)
	}
}

// TestExamples diagnoses every committed lab scenario (made on the real
// Linux stack) and judges the diagnosis against the scenario's truth.
func TestExamples(t *testing.T) {
	root := corpus.Path(t, "examples")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			judge(t, filepath.Join(root, e.Name()))
		})
	}
	if n < 15 {
		t.Fatalf("only %d example scenarios", n)
	}
}

// TestOutcomes: the summary counts connections by how they ended, with
// what the detectors found out beyond the connection state (a stall, a
// wait for a FIN that never came).
func TestOutcomes(t *testing.T) {
	for dir, want := range map[string]string{
		"burst-drop":       "completed 4, stalled 3",
		"fin-lost":         "timed out 2",
		"syn-drop":         "completed 1, unanswered 1",
		"reject-tcp-reset": "completed 1, refused 1",
		"pmtu-blackhole":   "stalled 1",
		"healthy":          "completed 3",
	} {
		in, _, err := diagnose.Inputs([]string{corpus.Path(t, "examples", dir)})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := diagnose.Run(in, diagnose.Options{Detectors: all.Detectors(), Tool: "test"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range rep.Summary.Outcomes {
			got = append(got, fmt.Sprintf("%s %d", o.Name, o.Count))
		}
		if g := strings.Join(got, ", "); g != want {
			t.Errorf("%s: outcomes %q, want %q", dir, g, want)
		}
	}
}

// TestUnrelatedCaptures: two captures of different traffic share no
// packets; the report says so instead of describing a path between them,
// and the lab scenarios, whose captures all share packets, get no such
// warning.
func TestUnrelatedCaptures(t *testing.T) {
	run := func(args ...string) *report.Report {
		in, _, err := diagnose.Inputs(args)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := diagnose.Run(in, diagnose.Options{Detectors: all.Detectors(), Tool: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := run("a="+corpus.Path(t, "examples", "fin-lost", "01-client.pcap"), "b="+corpus.Path(t, "testdata", "http-veth.pcap"))
	if !slices.ContainsFunc(rep.Warnings, func(w string) bool {
		return strings.HasPrefix(w, "b (") && strings.Contains(w, "shares no packets with a")
	}) {
		t.Errorf("warnings: %q", rep.Warnings)
	}
	for _, dir := range []string{"fin-lost", "path-drops", "snat-mss-clamp"} {
		for _, w := range run(corpus.Path(t, "examples", dir)).Warnings {
			if strings.Contains(w, "shares no packets") {
				t.Errorf("%s: %s", dir, w)
			}
		}
	}
}
