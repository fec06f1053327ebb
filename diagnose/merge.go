package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/correlate"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// mergeVantages folds findings that several captures of one path report
// about the same connections into one: the view of the most upstream
// capture (path order, client side first). With a correlation of the
// captures (path), connections are the same when their packets match, so
// translated addresses (NAT) do not keep findings apart, and each finding
// says where along the path the packets in question were seen and where
// not ("10.99.1.2:80 sent FIN 6 times: all reached router-out, none
// reached router-in"). Without one, connections are matched by their
// endpoints. Findings with different keys (Finding.Key) stay apart, and
// findings that compare vantage points themselves (path.*) are left as
// they are.
func mergeVantages(findings []detect.Finding, datasets []*detect.Dataset, path *correlate.Path) []detect.Finding {
	if len(datasets) < 2 {
		return findings
	}
	rank := map[string]int{}
	for i, ds := range datasets {
		rank[ds.Name] = i
	}
	m := &merger{datasets: datasets, path: path, rank: rank}
	used := make([]bool, len(findings))
	var out []detect.Finding
	for i := range findings {
		if used[i] {
			continue
		}
		used[i] = true
		if strings.HasPrefix(findings[i].ID, "path.") {
			out = append(out, findings[i])
			continue
		}
		group := []int{i}
		for j := i + 1; j < len(findings); j++ {
			if !used[j] && findings[j].ID == findings[i].ID && findings[j].Key == findings[i].Key &&
				capOf(&findings[j]) != capOf(&findings[i]) && m.same(&findings[i], &findings[j]) {
				used[j] = true
				group = append(group, j)
			}
		}
		best := group[0]
		for _, g := range group {
			if rank[capOf(&findings[g])] < rank[capOf(&findings[best])] {
				best = g
			}
		}
		f := findings[best]
		if len(f.Connections) > 0 {
			seen := map[string]bool{}
			for _, g := range group {
				seen[capOf(&findings[g])] = true
			}
			f.Vantages = append(f.Vantages, m.where(&f, seen))
			f.Vantages = append(f.Vantages, m.fates(&f)...)
		}
		m.traceEvidence(&f)
		out = append(out, f)
	}
	return out
}

type merger struct {
	datasets []*detect.Dataset
	path     *correlate.Path
	rank     map[string]int
}

func capOf(f *detect.Finding) string {
	if len(f.Connections) > 0 {
		return f.Connections[0].Capture
	}
	if len(f.Evidence) > 0 {
		return f.Evidence[0].Capture
	}
	return ""
}

func protoNum(s string) uint8 {
	switch s {
	case "tcp":
		return 6
	case "udp":
		return 17
	case "icmp":
		return 1
	}
	return 0
}

// refs returns the correlated connections of a finding.
func (m *merger) refs(f *detect.Finding) []correlate.ConnRef {
	if m.path == nil {
		return nil
	}
	var out []correlate.ConnRef
	for _, c := range f.Connections {
		v, ok := m.rank[c.Capture]
		if !ok {
			continue
		}
		if r, ok := m.path.Conn(v, c.Client, c.Server, protoNum(c.Proto), c.Start); ok {
			out = append(out, r)
		}
	}
	return out
}

// same reports whether two findings are about a common connection.
func (m *merger) same(a, b *detect.Finding) bool {
	if m.path != nil {
		ra, rb := m.refs(a), m.refs(b)
		for _, x := range ra {
			for _, y := range rb {
				if m.path.Same(x, y) {
					return true
				}
			}
		}
		if len(ra) > 0 && len(rb) > 0 {
			return false
		}
	}
	mine := pairs(a)
	for p := range pairs(b) {
		if mine[p] {
			return true
		}
	}
	return false
}

func pairs(f *detect.Finding) map[connPair]bool {
	out := map[connPair]bool{}
	for _, c := range f.Connections {
		out[connPair{c.Client, c.Server}] = true
	}
	return out
}

// where says at which captures the fault shows, at which the same
// connections look healthy (under which addresses, behind NAT), and where
// they never appear.
func (m *merger) where(f *detect.Finding, seen map[string]bool) string {
	views := map[int]correlate.View{}
	if m.path != nil {
		for _, r := range m.refs(f) {
			for _, v := range m.path.Views(r) {
				if _, ok := views[v.V]; !ok {
					views[v.V] = v
				}
			}
			break
		}
	}
	mine := pairs(f)
	var at, absent, healthy []string
	for i, ds := range m.datasets {
		v, has := views[i]
		switch {
		case seen[ds.Name]:
			at = append(at, ds.Name)
		case has:
			name := ds.Name
			if c := f.Connections[0]; v.A != c.Client || v.B != c.Server {
				if v.A != c.Server || v.B != c.Client {
					name += fmt.Sprintf(" (as %s → %s)", v.A, v.B)
				}
			}
			healthy = append(healthy, name)
		case m.path == nil && hasAny(ds, mine):
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
	return line
}

// fates says, for the finding's connections, which kinds of packet did
// not pass every capture on their way and where they stopped or
// appeared.
func (m *merger) fates(f *detect.Finding) []string {
	if m.path == nil {
		return nil
	}
	type key struct {
		sender flow.Endpoint
		kind   correlate.Kind
		down   bool
	}
	agg := map[key]*correlate.KindFate{}
	var order []key
	conns := map[key]int{}
	done := map[correlate.ConnRef]bool{}
	for i, r := range m.refs(f) {
		if i >= detect.MaxConnections || done[r] {
			continue
		}
		done[r] = true
		for _, kf := range m.path.Fates(r, false) {
			k := key{kf.Sender, kf.Kind, kf.Down}
			if len(f.Connections) > 1 {
				k.sender.Port = 0
			}
			a := agg[k]
			if a == nil {
				c := kf
				c.Sender = k.sender
				c.Reached = slices.Clone(kf.Reached)
				c.Judged = slices.Clone(kf.Judged)
				agg[k] = &c
				order = append(order, k)
			} else {
				a.Sent += kf.Sent
				for v := range a.Reached {
					a.Reached[v] += kf.Reached[v]
					a.Judged[v] += kf.Judged[v]
				}
			}
			conns[k]++
		}
	}
	var lines []string
	for _, k := range order {
		a := agg[k]
		lines = append(lines, m.fateLine(a, conns[k]))
	}
	return lines
}

// fateLine words one kind's fate: "10.99.1.2:80 sent FIN 6 times on 2
// connections: all 6 reached router-out; none reached router-in".
func (m *merger) fateLine(a *correlate.KindFate, conns int) string {
	sender := a.Sender.String()
	if a.Sender.Port == 0 {
		sender = a.Sender.Addr.String()
	}
	n := a.Sent
	times := fmt.Sprintf("%d times", n)
	if n == 1 {
		times = "once"
	}
	line := fmt.Sprintf("%s sent %s %s", sender, a.Kind, times)
	if conns > 1 {
		line += fmt.Sprintf(" on %d connections", conns)
	}
	// Captures along the packets' way, in the order they pass them.
	idx := make([]int, 0, len(a.Reached))
	for i := range a.Reached {
		idx = append(idx, i)
	}
	if !a.Down {
		slices.Reverse(idx)
	}
	var parts []string
	var all, none []string
	flush := func() {
		if len(all) > 0 {
			w := "all"
			switch n {
			case 1:
				parts = append(parts, "it reached "+strings.Join(all, ", "))
			case 2:
				parts = append(parts, "both reached "+strings.Join(all, ", "))
			default:
				parts = append(parts, fmt.Sprintf("%s %d reached %s", w, n, strings.Join(all, ", ")))
			}
			all = nil
		}
		if len(none) > 0 {
			if n == 1 {
				parts = append(parts, "it never reached "+strings.Join(none, ", "))
			} else {
				parts = append(parts, "none reached "+strings.Join(none, ", "))
			}
			none = nil
		}
	}
	for _, v := range idx {
		if a.Judged[v] == 0 {
			continue
		}
		name := m.path.Name(v)
		switch r := a.Reached[v]; {
		case r == n && len(none) == 0:
			all = append(all, name)
		case r == 0:
			none = append(none, name)
		default:
			flush()
			parts = append(parts, fmt.Sprintf("%d reached %s", r, name))
		}
	}
	flush()
	if len(parts) == 0 {
		return line
	}
	return line + ": " + strings.Join(parts, "; ")
}

// traceEvidence adds to each evidence packet's note where along the path
// it was seen, when it was not seen everywhere it could have been.
func (m *merger) traceEvidence(f *detect.Finding) {
	if m.path == nil {
		return
	}
	for i := range f.Evidence {
		e := &f.Evidence[i]
		v, ok := m.rank[e.Capture]
		if !ok {
			continue
		}
		tr, ok := m.path.Trace(v, e.Frame)
		if !ok {
			continue
		}
		var seen, not []string
		for w, s := range tr.At {
			switch s.Status {
			case correlate.Seen:
				seen = append(seen, m.path.Name(w))
			case correlate.NotSeen:
				not = append(not, m.path.Name(w))
			}
		}
		if len(not) == 0 {
			continue
		}
		note := fmt.Sprintf("seen at %s; never at %s", strings.Join(seen, ", "), strings.Join(not, ", "))
		if e.Note != "" {
			e.Note += " — " + note
		} else {
			e.Note = note
		}
	}
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
