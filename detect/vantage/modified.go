package vantage

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/correlate"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// Modified reports packets changed between two capture points beyond what
// routing does (MAC addresses, a TTL decrement per router, checksums):
// addresses and ports translated (which NAT mapping), sequence numbers
// shifted, MSS clamped, options stripped or added, window, IP ID, DSCP or
// ECN rewritten, payload changed. NAT and clamping working as configured
// are context (info); rewritten payload is a warning.
var Modified = &detect.Detector{
	ID:       "path.modified",
	Doc:      "fields changed between two points beyond routing: NAT mappings, sequence shifts, MSS clamping, options, window, IP ID, DSCP/ECN, TTL, payload",
	Requires: []*detect.Observer{Observer},
	Run:      runModified,
}

type pairKey struct{ a, b int }

func runModified(p *detect.Pass) error {
	path := Path(p.Datasets)
	if path == nil {
		return nil
	}
	mods := map[pairKey][]*correlate.Mod{}
	nats := map[pairKey][]correlate.Translation{}
	var keys []pairKey
	add := func(k pairKey) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, m := range path.Mods() {
		k := pairKey{min(m.From, m.To), max(m.From, m.To)}
		mods[k] = append(mods[k], m)
		add(k)
	}
	for _, s := range path.Segments() {
		if len(s.Translations) > 0 {
			k := pairKey{s.From, s.To}
			nats[k] = append(nats[k], s.Translations...)
			add(k)
		}
	}
	slices.SortFunc(keys, func(a, b pairKey) int {
		if c := cmp.Compare(a.a, b.a); c != 0 {
			return c
		}
		return cmp.Compare(a.b, b.b)
	})
	for _, k := range keys {
		if f, ok := modifiedFinding(path, k, mods[k], nats[k]); ok {
			p.Report(f)
		}
	}
	return nil
}

func modifiedFinding(path *correlate.Path, k pairKey, mods []*correlate.Mod, nats []correlate.Translation) (detect.Finding, bool) {
	a, b := path.Name(k.a), path.Name(k.b)
	f := detect.Finding{Severity: detect.Info}
	var lines, what []string
	conns := 0
	// NAT: group by the address mapping, listing ports.
	type amap struct{ before, after string }
	groups := map[amap][]correlate.Translation{}
	var order []amap
	for _, t := range nats {
		var parts []string
		if t.Before[0] != t.After[0] {
			parts = append(parts, fmt.Sprintf("source %s → %s", t.Before[0].Addr, t.After[0].Addr))
		}
		if t.Before[1] != t.After[1] {
			parts = append(parts, fmt.Sprintf("destination %s → %s", t.Before[1], t.After[1]))
		}
		key := amap{strings.Join(parts, ", "), fmt.Sprint(t.SeqShift != [2]uint32{})}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], t)
	}
	for _, key := range order {
		ts := groups[key]
		n := 0
		for _, t := range ts {
			n += t.Conns
		}
		conns += n
		t0 := ts[0]
		if key.before != "" {
			kind := "source NAT"
			switch {
			case t0.Before[0] != t0.After[0] && t0.Before[1] != t0.After[1]:
				kind = "source and destination NAT"
			case t0.Before[1] != t0.After[1]:
				kind = "destination NAT"
			}
			var ex []string
			for i, t := range ts {
				if i == 3 {
					ex = append(ex, "…")
					break
				}
				ex = append(ex, fmt.Sprintf("%s → %s becomes %s → %s", t.Before[0], t.Before[1], t.After[0], t.After[1]))
			}
			lines = append(lines, fmt.Sprintf("%s between %s and %s on %s: %s (%s)", kind, a, b, plural(n, "connection", "connections"), key.before, strings.Join(ex, "; ")))
			what = append(what, kind)
			if t0.Before[0] != t0.After[0] {
				f.AddFact("nat", fmt.Sprintf("%s->%s", t0.Before[0].Addr, t0.After[0].Addr))
				f.AddFact("nat_mapping", fmt.Sprintf("%s->%s", t0.Before[0], t0.After[0]))
			}
			if t0.Before[1] != t0.After[1] {
				f.AddFact("dnat", fmt.Sprintf("%s->%s", t0.Before[1], t0.After[1]))
			}
		}
		if t0.SeqShift != [2]uint32{} {
			var sh []string
			for s, d := range t0.SeqShift {
				if d != 0 {
					sh = append(sh, fmt.Sprintf("%s's by %d", t0.Before[s], int32(d)))
				}
			}
			lines = append(lines, fmt.Sprintf("sequence numbers shifted between %s and %s on %s (%s): a middlebox randomises initial sequence numbers and translates every segment", a, b, plural(n, "connection", "connections"), strings.Join(sh, ", ")))
			what = append(what, "sequence numbers shifted")
			f.AddFact("seq_shift", fmt.Sprint(int32(t0.SeqShift[0]))+","+fmt.Sprint(int32(t0.SeqShift[1])))
		}
	}
	for _, m := range mods {
		from, to := path.Name(m.From), path.Name(m.To)
		dir := "on packets"
		if m.Example[0].Src.Addr.IsValid() {
			dir = fmt.Sprintf("on %s from %s", kindsOf(m), who([]flow.Endpoint{m.Example[0].Src}))
		}
		var line string
		switch m.What {
		case "mss":
			line = fmt.Sprintf("the MSS option is rewritten from %s to %s %s between %s and %s (MSS clamping)", m.Before, m.After, dir, from, to)
			what = append(what, "MSS clamped to "+m.After)
			if f.Fact("mss") != m.Before+"->"+m.After {
				f.AddFact("mss", m.Before+"->"+m.After)
			}
		case "options-removed":
			line = fmt.Sprintf("TCP options removed (%s) %s between %s and %s, %s", m.Before, dir, from, to, plural(m.Packets, "packet", "packets"))
			what = append(what, "options removed")
			f.AddFact("options_removed", m.Before)
		case "options-added":
			line = fmt.Sprintf("TCP options added (%s) %s between %s and %s, %s", m.After, dir, from, to, plural(m.Packets, "packet", "packets"))
			what = append(what, "options added")
			f.AddFact("options_added", m.After)
		case "window":
			line = fmt.Sprintf("the TCP window field is rewritten %s between %s and %s on %s", dir, from, to, plural(m.Packets, "packet", "packets"))
			what = append(what, "window rewritten")
			f.AddFact("window", "rewritten")
		case "wscale":
			line = fmt.Sprintf("the window scale option is rewritten from %s to %s %s between %s and %s", m.Before, m.After, dir, from, to)
			what = append(what, "window scale rewritten")
		case "timestamp":
			line = fmt.Sprintf("TCP timestamp values are rewritten %s between %s and %s on %s", dir, from, to, plural(m.Packets, "packet", "packets"))
			what = append(what, "timestamps rewritten")
		case "ip-id":
			line = fmt.Sprintf("IP IDs are rewritten %s between %s and %s on %s (a scrubbing firewall or NAT)", dir, from, to, plural(m.Packets, "packet", "packets"))
			what = append(what, "IP IDs rewritten")
		case "dscp":
			line = fmt.Sprintf("DSCP changes from %s to %s %s between %s and %s on %s (remarking)", m.Before, m.After, dir, from, to, plural(m.Packets, "packet", "packets"))
			what = append(what, "DSCP remarked")
			f.AddFact("dscp", m.Before+"->"+m.After)
		case "ecn":
			switch m.After {
			case "CE":
				line = fmt.Sprintf("%s marked CE (congestion experienced) %s between %s and %s: a queue there is filling", plural(m.Packets, "packet", "packets"), dir, from, to)
				what = append(what, "ECN congestion marks")
			default:
				line = fmt.Sprintf("ECN bits change from %s to %s %s between %s and %s on %s", m.Before, m.After, dir, from, to, plural(m.Packets, "packet", "packets"))
				what = append(what, "ECN rewritten")
			}
			f.AddFact("ecn", m.Before+"->"+m.After)
		case "df":
			line = fmt.Sprintf("the DF bit changes from %s to %s %s between %s and %s on %s", m.Before, m.After, dir, from, to, plural(m.Packets, "packet", "packets"))
			what = append(what, "DF rewritten")
		case "ttl":
			line = fmt.Sprintf("the TTL drops by %s instead of %s %s between %s and %s on %s: a different route or a device that rewrites TTLs", strings.TrimPrefix(m.After, "decrement "), strings.TrimPrefix(m.Before, "decrement "), dir, from, to, plural(max(m.Conns, 1), "connection", "connections"))
			what = append(what, "TTL")
			f.AddFact("ttl", m.Before+"->"+m.After)
		case "payload":
			line = fmt.Sprintf("the payload is rewritten %s between %s and %s on %s: an application-level gateway, a proxy or corruption", dir, from, to, plural(m.Packets, "packet", "packets"))
			what = append(what, "payload rewritten")
			f.Severity = detect.Warning
			f.AddFact("payload", "rewritten")
		default:
			continue
		}
		lines = append(lines, line)
		conns = max(conns, m.Conns)
		if m.Example[0].Frame != 0 {
			f.AddEvidence(evidence(path, m.From, m.Example[0], fmt.Sprintf("%s as %s saw it", m.What, from)))
			f.AddEvidence(evidence(path, m.To, m.Example[1], fmt.Sprintf("the same packet at %s", to)))
		}
	}
	if len(lines) == 0 {
		return f, false
	}
	slices.Sort(what)
	what = slices.Compact(what)
	f.Title = fmt.Sprintf("Packets are changed between %s and %s: %s", a, b, strings.Join(what, ", "))
	f.Explanation = "Comparing the same packets at both points: " + strings.Join(lines, "; ") + "."
	if f.Severity == detect.Info {
		f.Explanation += " Address translation and MSS clamping are normal when configured; they matter when a rule or log names addresses that only exist on one side, or when an endpoint depends on the stripped option."
	}
	f.Affected, f.Score = conns, 0.5
	for _, t := range nats {
		if len(f.Connections) < detect.MaxConnections {
			proto := map[uint8]string{6: "tcp", 17: "udp"}[t.Proto]
			f.AddConn(detect.NewConn(a, proto, t.Before[0], t.Before[1], 0, ""))
		}
	}
	f.AddFact("segment", a+"—"+b)
	f.NextSteps = []string{
		fmt.Sprintf("Compare with the configuration of the devices between %s and %s (iptables -t nat -L -v -n, -t mangle for TCPMSS, conntrack -L for the mappings).", a, b),
	}
	return f, true
}

func kindsOf(m *correlate.Mod) string {
	k := m.Example[0].Kind
	if m.What == "mss" || m.What == "wscale" {
		return "the " + k.String()
	}
	return "packets"
}
