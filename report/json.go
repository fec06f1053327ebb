package report

import (
	"encoding/json"
	"io"
	"slices"
)

// JSON writes the report as indented JSON.
func JSON(w io.Writer, r *Report) error {
	out := *r
	out.Findings = slices.Clone(r.Findings)
	if out.Findings == nil {
		out.Findings = []detectFinding{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	if out.Captures == nil {
		out.Captures = []Capture{}
	}
	for i := range out.Findings {
		f := &out.Findings[i]
		if f.Connections == nil {
			f.Connections = []detectConn{}
		}
		if f.Evidence == nil {
			f.Evidence = []detectEvidence{}
		}
		if f.NextSteps == nil {
			f.NextSteps = []string{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
