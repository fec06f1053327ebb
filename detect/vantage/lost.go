package vantage

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/correlate"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// Lost reports packets seen at one capture point and never at the next
// one on their way, while that one was capturing: where on the path they
// vanish, what kinds, and what they have in common that delivered packets
// do not.
var Lost = &detect.Detector{
	ID:       "path.lost",
	Doc:      "packets seen at one point of the path and never at the next: the segment, per direction and kind, whether TCP made up for them, and what the lost ones have in common",
	Requires: []*detect.Observer{Observer},
	Run:      runLost,
}

// segKey names a segment in the direction of travel.
type segKey struct{ from, to int }

func groupEvents(es []correlate.Event) ([]segKey, map[segKey][]correlate.Event) {
	groups := map[segKey][]correlate.Event{}
	var order []segKey
	for _, e := range es {
		k := segKey{e.Vantage, e.Other}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	slices.SortFunc(order, func(a, b segKey) int {
		if c := cmp.Compare(min(a.from, a.to), min(b.from, b.to)); c != 0 {
			return c
		}
		return cmp.Compare(a.from, b.from)
	})
	return order, groups
}

func runLost(p *detect.Pass) error {
	path := Path(p.Datasets)
	if path == nil {
		return nil
	}
	order, groups := groupEvents(path.Lost())
	for _, k := range order {
		p.Report(lostFinding(path, k, groups[k]))
	}
	return nil
}

// final reports whether a lost packet was lost for good: nothing made up
// for it while the next capture ran long enough to show it.
func final(e correlate.Event) bool { return !e.Recovered && e.Settled }

func lostFinding(path *correlate.Path, k segKey, es []correlate.Event) detect.Finding {
	from, to := path.Name(k.from), path.Name(k.to)
	kinds := map[correlate.Kind]int{}
	finalKinds := map[correlate.Kind]int{}
	var srcs, dsts []flow.Endpoint
	conns := map[correlate.ConnRef]bool{}
	var connOrder []correlate.ConnRef
	recovered, unsettled := 0, 0
	for _, e := range es {
		kinds[e.Packet.Kind]++
		srcs = append(srcs, e.Packet.Src)
		dsts = append(dsts, e.Packet.Dst)
		if !conns[e.Conn] {
			conns[e.Conn] = true
			connOrder = append(connOrder, e.Conn)
		}
		switch {
		case e.Recovered:
			recovered++
		case !e.Settled:
			unsettled++
		default:
			finalKinds[e.Packet.Kind]++
		}
	}
	// The population that crossed the same segment the same way, from
	// the same senders, for the rate and the comparison.
	senders := map[netip.Addr]bool{}
	for _, s := range srcs {
		senders[s.Addr] = true
	}
	var lostPk, delPk []correlate.PacketInfo
	var delivered []correlate.PacketInfo
	crossed := 0
	path.Crossing(k.from, k.to, func(pk correlate.PacketInfo, c correlate.ConnRef, ok bool) {
		if len(senders) <= 3 && !senders[pk.Src.Addr] {
			return
		}
		crossed++
		if ok {
			delPk = append(delPk, pk)
			if len(delivered) < 1 || conns[c] && len(delivered) < 2 {
				delivered = append(delivered, pk)
			}
		} else {
			lostPk = append(lostPk, pk)
		}
	})
	crossed = max(crossed, len(es))
	tr := traits(lostPk, delPk, from)

	f := detect.Finding{
		Affected:   len(conns),
		OutOf:      path.Conns(k.from),
		Comparable: "connections seen at " + from,
		Score:      float64(len(conns)),
	}
	nFinal := 0
	for _, n := range finalKinds {
		nFinal += n
	}
	breaks := finalKinds[correlate.KindSYN]+finalKinds[correlate.KindSYNACK]+finalKinds[correlate.KindData]+finalKinds[correlate.KindFIN] > 0
	rate := float64(len(es)) / float64(crossed)
	switch {
	case breaks:
		f.Severity = detect.Error
	case nFinal > 0 || len(es) >= 5 && rate >= 0.05:
		f.Severity = detect.Warning
	default:
		f.Severity = detect.Info
	}
	what := plural(len(es), "packet", "packets")
	if len(kinds) == 1 {
		what = fmt.Sprintf("%d %s", len(es), kindWord(es[0].Packet.Kind, len(es)))
	}
	f.Title = fmt.Sprintf("%s from %s to %s lost between %s and %s", what, who(srcs), whoHost(dsts), from, to)
	var b strings.Builder
	fmt.Fprintf(&b, "%s travelling from %s toward %s %s seen at %s and never at %s, although %s was capturing at the time: %s, on %s.",
		plural(len(es), "packet", "packets"), who(srcs), whoHost(dsts), wasWere(len(es)), from, to, to, counted(kinds), plural(len(conns), "connection", "connections"))
	if between := betweenNames(path, k.from, k.to); len(between) > 0 {
		fmt.Fprintf(&b, " (%s, between the two, did not capture them: not running then, or not on their way, so the loss is somewhere in the whole stretch.)", strings.Join(between, ", "))
	}
	switch {
	case recovered == len(es):
		fmt.Fprintf(&b, " TCP made up for every one of them (a retransmission or a later packet got through), so this is loss the transfer survived")
		if f.Severity == detect.Info {
			b.WriteString(", not a fault by itself")
		}
		b.WriteString(".")
	case nFinal > 0:
		fmt.Fprintf(&b, " Nothing made up for %s: %s never got through although the sender kept trying, so the connections could not go on.",
			plural(nFinal, "of them", "of them"), counted(finalKinds))
		if recovered > 0 {
			fmt.Fprintf(&b, " %s were made up for by later packets.", plural(recovered, "other", "others"))
		}
	}
	if unsettled > 0 {
		fmt.Fprintf(&b, " For %s the capture at %s ended too soon to tell whether a retransmission got through.", plural(unsettled, "packet", "packets"), to)
	}
	fmt.Fprintf(&b, " In all, %d of the %d packets from %s that crossed this segment the same way were lost (%.1f%%).", len(es), crossed, whoHost(srcs), 100*rate)
	if len(tr) > 0 {
		var ws []string
		for _, t := range tr {
			ws = append(ws, t.words)
		}
		fmt.Fprintf(&b, " What the lost packets have in common that the delivered ones do not: %s.", strings.Join(ws, "; "))
	}
	f.Explanation = b.String()
	for _, c := range connOrder {
		f.AddConn(connOf(path, c))
	}
	// Evidence: the lost packets, those lost for good first, one of each
	// kind first; then a delivered one for contrast.
	ev := slices.Clone(es)
	slices.SortStableFunc(ev, func(a, b correlate.Event) int {
		if fa, fb := final(a), final(b); fa != fb {
			if fa {
				return -1
			}
			return 1
		}
		return 0
	})
	shown := map[correlate.Kind]int{}
	var picked []correlate.Event
	for round := 0; round < 3 && len(picked) < 8; round++ {
		for _, e := range ev {
			if shown[e.Packet.Kind] == round && len(picked) < 8 && !slices.ContainsFunc(picked, func(x correlate.Event) bool { return x.Packet.Frame == e.Packet.Frame }) {
				shown[e.Packet.Kind]++
				picked = append(picked, e)
			}
		}
	}
	slices.SortStableFunc(picked, func(a, b correlate.Event) int { return cmp.Compare(a.Packet.Time, b.Packet.Time) })
	for _, e := range picked {
		state := "made up for later"
		switch {
		case final(e):
			state = "never made up for"
		case !e.Settled:
			state = "fate unknown: the capture ended"
		}
		f.AddEvidence(evidence(path, e.Vantage, e.Packet, fmt.Sprintf("%s: seen at %s, never at %s (%s)", pktWords(e.Packet), from, to, state)))
	}
	for _, d := range delivered {
		f.AddEvidence(evidence(path, k.from, d, fmt.Sprintf("delivered for contrast: %s reached %s", pktWords(d), to)))
	}
	f.AddFact("segment", from+"→"+to)
	f.AddFact("from", from)
	f.AddFact("to", to)
	f.AddFact("lost", fmt.Sprint(len(es)))
	f.AddFact("kinds", kindsFact(kinds))
	f.AddFact("recovered", fmt.Sprint(recovered))
	f.AddFact("unrecovered", fmt.Sprint(nFinal))
	f.AddFact("crossed", fmt.Sprint(crossed))
	f.AddFact("senders", strings.Join(epStrings(endpoints(srcs)), ","))
	for _, t := range tr {
		f.AddFact("trait."+t.key, t.value)
	}
	f.NextSteps = lostSteps(from, to, tr, f.Severity, kinds)
	return f
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func epStrings(es []flow.Endpoint) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.String())
	}
	return out
}

// trait is something every lost packet has and (almost) no delivered one.
type trait struct {
	key, value, words string
}

// traits compares lost and delivered packets of one segment and
// direction.
func traits(lost, del []correlate.PacketInfo, at string) []trait {
	if len(lost) == 0 {
		return nil
	}
	var out []trait
	minMax := func(ps []correlate.PacketInfo) (int, int) {
		lo, hi := ps[0].IPLen, ps[0].IPLen
		for _, p := range ps {
			lo, hi = min(lo, p.IPLen), max(hi, p.IPLen)
		}
		return lo, hi
	}
	lLo, lHi := minMax(lost)
	if len(del) > 0 {
		dLo, dHi := minMax(del)
		switch {
		case lHi < dLo:
			out = append(out, trait{"size", fmt.Sprintf("<=%d", lHi), fmt.Sprintf("IP length of at most %d bytes (every delivered one is %d bytes or more)", lHi, dLo)})
		case lLo > dHi:
			out = append(out, trait{"size", fmt.Sprintf(">=%d", lLo), fmt.Sprintf("IP length of %d bytes or more (every delivered one is at most %d bytes)", lLo, dHi)})
		}
	}
	share := func(ps []correlate.PacketInfo, f func(correlate.PacketInfo) bool) float64 {
		if len(ps) == 0 {
			return 0
		}
		n := 0
		for _, p := range ps {
			if f(p) {
				n++
			}
		}
		return float64(n) / float64(len(ps))
	}
	// A property all lost packets have and at most 10% of delivered ones.
	distinct := func(key, value, words string, f func(correlate.PacketInfo) bool) {
		if share(lost, f) == 1 && share(del, f) <= 0.1 {
			out = append(out, trait{key, value, words})
		}
	}
	distinct("padding", "yes", fmt.Sprintf("short frames that Ethernet pads to 60 bytes (as %s saw them)", at), func(p correlate.PacketInfo) bool { return p.Padding > 0 })
	distinct("options", "none", "no TCP options", func(p correlate.PacketInfo) bool { return p.Proto == 6 && p.Options == "" })
	kinds := map[correlate.Kind]bool{}
	for _, p := range lost {
		kinds[p.Kind] = true
	}
	if len(kinds) <= 2 {
		var names []string
		for k := range kinds {
			names = append(names, k.String())
		}
		slices.Sort(names)
		distinct("kind", strings.Join(names, "+"), "the kind: "+strings.Join(names, " or "), func(p correlate.PacketInfo) bool { return kinds[p.Kind] })
	}
	distinct("payload", "none", "no payload", func(p correlate.PacketInfo) bool { return p.Len == 0 })
	ttl := lost[0].TTL
	distinct("ttl", fmt.Sprint(ttl), fmt.Sprintf("TTL %d", ttl), func(p correlate.PacketInfo) bool { return p.TTL == ttl })
	dscp := lost[0].TOS >> 2
	distinct("dscp", fmt.Sprint(dscp), fmt.Sprintf("DSCP %d", dscp), func(p correlate.PacketInfo) bool { return p.TOS>>2 == dscp })
	ecn := lost[0].TOS & 3
	distinct("ecn", fmt.Sprint(ecn), fmt.Sprintf("ECN bits %d", ecn), func(p correlate.PacketInfo) bool { return p.TOS&3 == ecn })
	distinct("df", "clear", "the DF bit clear", func(p correlate.PacketInfo) bool { return !p.DF && p.Src.Addr.Is4() })
	fl := lost[0].Flags
	distinct("flags", fmt.Sprintf("0x%02x", fl), fmt.Sprintf("TCP flags 0x%02x", fl), func(p correlate.PacketInfo) bool { return p.Proto == 6 && p.Flags == fl })
	return out
}

func hasTrait(tr []trait, key string) (trait, bool) {
	for _, t := range tr {
		if t.key == key {
			return t, true
		}
	}
	return trait{}, false
}

func lostSteps(from, to string, tr []trait, sev detect.Severity, kinds map[correlate.Kind]int) []string {
	var steps []string
	if sev == detect.Info {
		steps = append(steps, fmt.Sprintf("Nothing to fix if the rate stays low; if it grows, read the error and drop counters of the interfaces between %s and %s (ip -s link, ethtool -S, tc -s qdisc).", from, to))
		return steps
	}
	steps = append(steps, fmt.Sprintf("Look at what sits between %s and %s: firewall and ACL rules with their counters (iptables -L -v -n, nft list ruleset), conntrack drops (conntrack -S, nf_conntrack_log_invalid), policers and queue drops (tc -s qdisc).", from, to))
	if t, ok := hasTrait(tr, "size"); ok && strings.HasPrefix(t.value, ">=") {
		steps = append(steps, fmt.Sprintf("Large packets vanish: check the MTU of every link between %s and %s and whether ICMP fragmentation-needed is filtered (a PMTU black hole); clamping the MSS or lowering the MTU works around it.", from, to))
	}
	if _, ok := hasTrait(tr, "padding"); ok {
		steps = append(steps, "Only short, Ethernet-padded frames vanish: suspect a device that checksums the padding as payload (the Open vSwitch conntrack bug: net.netfilter.nf_conntrack_checksum=0 works around it) or a length-matching rule.")
	} else if t, ok := hasTrait(tr, "size"); ok && strings.HasPrefix(t.value, "<=") {
		steps = append(steps, "Only small packets vanish: look for a rule matching on length (iptables -m length) or a device mishandling short frames.")
	}
	if kinds[correlate.KindSYN] > 0 {
		steps = append(steps, fmt.Sprintf("SYNs vanish: look for a DROP rule on the destination port between %s and %s, or a SYN flood protection (hashlimit, SYN cookies on a proxy).", from, to))
	}
	return steps
}

// betweenNames lists the captures between two in path order.
func betweenNames(p *correlate.Path, a, b int) []string {
	var out []string
	for v := min(a, b) + 1; v < max(a, b); v++ {
		out = append(out, p.Name(v))
	}
	return out
}
