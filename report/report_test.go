package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/detect"
)

// hostile is a report whose packet-derived strings try to break out of
// every output format.
func hostile() *Report {
	evil := "GET /\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script>\"'&\xff\n"
	f := detect.Finding{ID: "app.error-reply", Severity: detect.Error, Title: "reply " + evil, Explanation: "server said " + evil,
		Affected: 1, OutOf: 2, NextSteps: []string{"look at " + evil}}
	f.AddEvidence(detect.Evidence{Capture: "c" + evil, Frame: 3, Line: "IP x > y " + evil, Note: evil})
	f.AddFact("request", evil)
	r := &Report{Schema: SchemaVersion, Tool: "test", Captures: []Capture{{Name: "n" + evil, File: "f.pcap", Complete: true}},
		Findings: []detect.Finding{f}, Warnings: []string{evil}}
	r.Sort()
	return r
}

func TestTextEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, hostile(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07\xff") {
		t.Fatalf("control bytes reached the terminal:\n%q", out)
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Fatalf("escaped form missing:\n%s", out)
	}
}

func TestHTMLEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := HTML(&b, hostile()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>") || strings.Contains(out, "\x1b") {
		t.Fatalf("unescaped markup:\n%s", out)
	}
	if !strings.Contains(out, "&lt;script&gt;") {
		t.Fatal("escaped form missing")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, hostile()); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if back.Schema != SchemaVersion || len(back.Findings) != 1 || back.Findings[0].Severity != detect.Error ||
		!strings.Contains(back.Findings[0].Title, "<script>") {
		t.Fatalf("round trip: %+v", back.Findings)
	}
	if back.Summary.Errors != 1 {
		t.Fatal("summary")
	}
}

func TestSortOrder(t *testing.T) {
	r := &Report{Findings: []detect.Finding{{ID: "b", Severity: detect.Info, Score: 9}, {ID: "z", Severity: detect.Error, Score: 1},
		{ID: "a", Severity: detect.Error, Score: 1}, {ID: "c", Severity: detect.Error, Score: 5}, {ID: "w", Severity: detect.Warning}}}
	r.Sort()
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, ",") != "c,a,z,w,b" {
		t.Fatalf("order %v", ids)
	}
	if r.Summary.Errors != 3 || r.Summary.Warnings != 1 || r.Summary.Infos != 1 {
		t.Fatalf("counts %+v", r.Summary)
	}
}
