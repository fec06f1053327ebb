package lab

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Truth is what a perfect diagnosis of all of a scenario's captures says.
// It is data so that a test can hold a diagnosis against it (see Judge).
type Truth struct {
	// Expect lists the finding ids a perfect diagnosis names.
	Expect []string `json:"expect"`
	// Allow lists ids that are true of the captures but secondary (for
	// example path.injected for a RST forged by a firewall that
	// reset.forged already explains); they may appear at any severity.
	Allow []string `json:"allow,omitempty"`
	// Worst is the most severe level any finding may have: "info" for
	// healthy traffic, "" for no limit.
	Worst string `json:"worst,omitempty"`
	// Facts are what the findings must say.
	Facts []Fact `json:"facts"`
}

// Fact is one statement a finding must make.
type Fact struct {
	// Finding is the id of the finding that carries the fact.
	Finding string `json:"finding"`
	// Text is the fact in words, with this scenario's numbers.
	Text string `json:"text"`
	// Values are strings (addresses, protocol texts) that must appear in
	// that finding's JSON: a check that needs no knowledge of its schema.
	Values []string `json:"values,omitempty"`
}

// Reported is one finding of a diagnosis, as Judge needs it.
type Reported struct {
	ID       string
	Severity string          // "error", "warning" or "info"
	JSON     json.RawMessage // the finding as the JSON report renders it
}

var severityRank = map[string]int{"info": 1, "warning": 2, "error": 3}

// Judge holds a diagnosis against the truth and returns what is wrong:
// an expected id missing, an error or warning finding that is neither
// expected nor allowed, a finding more severe than Worst, or a fact's value
// absent from its finding.
func (t Truth) Judge(got []Reported) []string {
	var bad []string
	byID := map[string][]Reported{}
	for _, f := range got {
		byID[f.ID] = append(byID[f.ID], f)
		known := slices.Contains(t.Expect, f.ID) || slices.Contains(t.Allow, f.ID)
		if !known && severityRank[f.Severity] >= severityRank["warning"] {
			bad = append(bad, fmt.Sprintf("unexpected %s finding %s", f.Severity, f.ID))
		}
		if t.Worst != "" && severityRank[f.Severity] > severityRank[t.Worst] {
			bad = append(bad, fmt.Sprintf("finding %s is %s; nothing here should be worse than %s", f.ID, f.Severity, t.Worst))
		}
	}
	for _, id := range t.Expect {
		if len(byID[id]) == 0 {
			bad = append(bad, "missing finding "+id)
		}
	}
	for _, fact := range t.Facts {
		fs := byID[fact.Finding]
		if len(fs) == 0 {
			continue // reported above if expected
		}
		for _, v := range fact.Values {
			found := false
			for _, f := range fs {
				found = found || strings.Contains(string(f.JSON), v)
			}
			if !found {
				bad = append(bad, fmt.Sprintf("%s does not mention %q (%s)", fact.Finding, v, fact.Text))
			}
		}
	}
	return bad
}

// FindingIDs are the finding ids the diagnosis issues define (issues 4 and
// 5, plus app.error-reply for application error replies). Truth may only
// name these; a test checks it.
var FindingIDs = []string{
	"handshake.unanswered", "handshake.icmp-unreachable", "handshake.refused",
	"handshake.stale-ack", "handshake.spurious-synack",
	"stall.after-handshake", "stall.data",
	"close.fin-missing",
	"reset.forged", "reset.idle-timeout", "resets.summary",
	"path.pmtu-blackhole", "path.lost", "path.injected", "path.modified", "path.latency",
	"tcp.bad-checksum", "tcp.duplicate-forwarding",
	"conn.no-reuse",
	"app.error-reply",
}
