package diagnose

import (
	"strings"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// mergeVantages folds findings that several captures of one path report
// about the same connections into one: the view of the most upstream
// capture (path order, client side first), with a line saying at which
// vantage points the fault shows, and at which the connections do not
// appear or look healthy. Findings with different keys (Finding.Key) stay
// apart. Connections are matched by their endpoints; a
// translated address (NAT) keeps findings apart.
func mergeVantages(findings []detect.Finding, datasets []*detect.Dataset) []detect.Finding {
	if len(datasets) < 2 {
		return findings
	}
	rank := map[string]int{}
	for i, ds := range datasets {
		rank[ds.Name] = i
	}
	pairs := func(f *detect.Finding) map[connPair]bool {
		m := map[connPair]bool{}
		for _, c := range f.Connections {
			m[connPair{c.Client, c.Server}] = true
		}
		return m
	}
	capOf := func(f *detect.Finding) string {
		if len(f.Connections) > 0 {
			return f.Connections[0].Capture
		}
		if len(f.Evidence) > 0 {
			return f.Evidence[0].Capture
		}
		return ""
	}
	used := make([]bool, len(findings))
	var out []detect.Finding
	for i := range findings {
		if used[i] {
			continue
		}
		used[i] = true
		group := []int{i}
		mine := pairs(&findings[i])
		for j := i + 1; j < len(findings); j++ {
			if used[j] || findings[j].ID != findings[i].ID || findings[j].Key != findings[i].Key ||
				capOf(&findings[j]) == capOf(&findings[i]) || len(mine) == 0 {
				continue
			}
			for p := range pairs(&findings[j]) {
				if mine[p] {
					used[j] = true
					group = append(group, j)
					break
				}
			}
		}
		best := group[0]
		for _, g := range group {
			if rank[capOf(&findings[g])] < rank[capOf(&findings[best])] {
				best = g
			}
		}
		f := findings[best]
		if len(mine) > 0 {
			seen := map[string]bool{}
			for _, g := range group {
				seen[capOf(&findings[g])] = true
			}
			var at, absent, healthy []string
			for _, ds := range datasets {
				switch {
				case seen[ds.Name]:
					at = append(at, ds.Name)
				case hasAny(ds, mine):
					healthy = append(healthy, ds.Name)
				default:
					absent = append(absent, ds.Name)
				}
			}
			line := "shows at " + strings.Join(at, ", ")
			if len(healthy) > 0 {
				line += "; the same connections show no such fault at " + strings.Join(healthy, ", ")
			}
			if len(absent) > 0 {
				line += "; the connections never appear at " + strings.Join(absent, ", ")
			}
			f.Vantages = append(f.Vantages, line)
		}
		out = append(out, f)
	}
	return out
}

// connPair is a connection's client and server endpoints.
type connPair struct{ c, s flow.Endpoint }

// hasAny reports whether any of the connections appears in a dataset.
func hasAny(ds *detect.Dataset, pairs map[connPair]bool) bool {
	for i := range ds.Briefs {
		if b := &ds.Briefs[i]; pairs[connPair{b.Orig, b.Resp}] {
			return true
		}
	}
	return false
}
