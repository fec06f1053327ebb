package lab

import (
	"slices"
	"strings"
	"testing"
)

// TestScenarioTable checks what the scenario list promises without running
// anything: unique names, truths that use only known finding ids and
// severities, commands and captures on nodes that exist.
func TestScenarioTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Scenarios() {
		if s.Name == "" || seen[s.Name] || strings.ToLower(s.Name) != s.Name {
			t.Errorf("bad or duplicate name %q", s.Name)
		}
		seen[s.Name] = true
		if s.Doc == "" || s.run == nil || s.check == nil || s.topo == nil || s.limit <= 0 {
			t.Errorf("%s: incomplete", s.Name)
		}
		tr := s.Truth
		for _, id := range slices.Concat(tr.Expect, tr.Allow) {
			if !slices.Contains(FindingIDs, id) {
				t.Errorf("%s: unknown finding id %q", s.Name, id)
			}
		}
		for _, f := range tr.Facts {
			if !slices.Contains(tr.Expect, f.Finding) && !slices.Contains(tr.Allow, f.Finding) {
				t.Errorf("%s: fact about %s, which is neither expected nor allowed", s.Name, f.Finding)
			}
			if f.Text == "" {
				t.Errorf("%s: fact without text", s.Name)
			}
		}
		if _, ok := severityRank[tr.Worst]; !ok && tr.Worst != "" {
			t.Errorf("%s: worst severity %q", s.Name, tr.Worst)
		}
		if len(tr.Expect) == 0 && tr.Worst != "info" {
			t.Errorf("%s: expects no finding but allows warnings", s.Name)
		}
		topo := s.topo()
		for _, st := range s.setup {
			if !slices.Contains(topo.nodes, st.node) {
				t.Errorf("%s: setup on unknown node %s", s.Name, st.node)
			}
		}
		for _, v := range topo.vantages {
			if !slices.Contains(topo.devs(v.node), v.dev) {
				t.Errorf("%s: capture on %s %s, which does not exist", s.Name, v.node, v.dev)
			}
		}
		if topo.vantages[0].node != client || topo.vantages[len(topo.vantages)-1].node != server {
			t.Errorf("%s: path does not run from client to server", s.Name)
		}
	}
}

func TestJudge(t *testing.T) {
	tr := Truth{
		Expect: []string{"handshake.unanswered"},
		Allow:  []string{"path.lost"},
		Facts:  []Fact{{Finding: "handshake.unanswered", Text: "t", Values: []string{"10.99.1.2"}}},
	}
	good := Reported{ID: "handshake.unanswered", Severity: "error", JSON: []byte(`{"explanation":"SYNs to 10.99.1.2:8080"}`)}
	for _, tc := range []struct {
		name  string
		worst string
		got   []Reported
		want  []string // substrings, one per problem
	}{
		{"perfect", "", []Reported{good}, nil},
		{"allowed extra", "", []Reported{good, {ID: "path.lost", Severity: "warning"}}, nil},
		{"info extra", "", []Reported{good, {ID: "resets.summary", Severity: "info"}}, nil},
		{"missing", "", nil, []string{"missing finding handshake.unanswered"}},
		{"unexpected", "", []Reported{good, {ID: "reset.forged", Severity: "warning"}}, []string{"unexpected warning finding reset.forged"}},
		{"fact absent", "", []Reported{{ID: "handshake.unanswered", Severity: "error", JSON: []byte(`{}`)}}, []string{`does not mention "10.99.1.2"`}},
		{"too severe", "warning", []Reported{good}, []string{"worse than warning"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := tr
			tr.Worst = tc.worst
			got := tr.Judge(tc.got)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d", got, len(tc.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("problem %q, want %q", got[i], tc.want[i])
				}
			}
		})
	}
}
