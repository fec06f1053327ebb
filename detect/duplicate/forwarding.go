package duplicate

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// Forwarding reports IP packets that reach a capture point twice from two
// devices: the same IP packet (same IP ID, same transport segment) with a
// different link-layer source or TTL, addressed to the same next hop. Two
// routers or firewalls forward the same traffic — a standby that forwards
// what a switch floods to it, a second gateway, a mirror whose target
// routes. It also says, as context, when a capture repeats frames byte for
// byte (a SPAN session or a capture on several ports): that is the
// capture, not the network.
//
// Not reported: TCP retransmissions (a new IP packet, new IP ID), a packet
// seen before and after one hop (a router's only interface, a capture on
// both sides of it, on the "any" interface), and fewer than MinRepeats
// repeats.
var Forwarding = &detect.Detector{
	ID:       "tcp.duplicate-forwarding",
	Doc:      "the same IP packet seen more than once with different link-layer sources or TTLs: two devices forwarding the same traffic",
	Requires: []*detect.Observer{Copies},
	Run:      run,
}

// Thresholds.
const (
	// MinRepeats is the fewest repeated packets of one kind between the
	// same devices that make a finding: one or two can be a failover
	// moment.
	MinRepeats = 4
	// Identical copies are context when at least this many and this share
	// of the packets repeat.
	minIdentical      = 5
	minIdenticalShare = 0.01
)

func result(ds *detect.Dataset) *Result {
	r, _ := ds.Result(Copies).(*Result)
	return r
}

func run(p *detect.Pass) error {
	// Forwarded groups first: fan-outs at other vantage points sharing
	// their flows are reported inside them, as where duplication starts.
	type at struct {
		ds *detect.Dataset
		g  *Group
	}
	var forwarded, fanouts []at
	for _, ds := range p.Datasets {
		r := result(ds)
		if r == nil {
			continue
		}
		for _, g := range r.Groups {
			switch {
			case g.Repeats < MinRepeats:
			case g.Kind == Forwarded:
				forwarded = append(forwarded, at{ds, g})
			case g.Kind == Fanout:
				fanouts = append(fanouts, at{ds, g})
			}
		}
	}
	for _, x := range forwarded {
		p.Report(forwardedFinding(p, x.ds, x.g))
	}
	for _, x := range fanouts {
		covered := false
		for _, y := range forwarded {
			covered = covered || sharesFlow(x.g, y.g)
		}
		if !covered {
			p.Report(fanoutFinding(p, x.ds, x.g))
		}
	}
	for _, ds := range p.Datasets {
		if f, ok := identicalFinding(ds); ok {
			p.Report(f)
		}
	}
	return nil
}

func sharesFlow(a, b *Group) bool {
	for _, f := range a.Flows {
		if b.HasFlow(f.Src, f.Dst) {
			return true
		}
	}
	return false
}

func mac(b [6]byte) string { return net.HardwareAddr(b[:]).String() }

// flowPackets returns how many packets the capture saw in the direction of
// a repeated flow (from the connection briefs), or 0 if unknown.
func flowPackets(ds *detect.Dataset, f Flow) int64 {
	for i := range ds.Briefs {
		b := &ds.Briefs[i]
		switch {
		case b.Orig == f.Src && b.Resp == f.Dst:
			return int64(b.OrigPkts)
		case b.Orig == f.Dst && b.Resp == f.Src:
			return int64(b.RespPkts)
		}
	}
	return 0
}

// addConns adds the connections of a group's flows and returns how many
// there are and how many packets they carried in the repeated direction.
func addConns(f *detect.Finding, ds *detect.Dataset, g *Group) (conns int, packets int64) {
	seen := map[[2]flow.Endpoint]bool{}
	for _, fl := range g.Flows {
		packets += flowPackets(ds, fl)
		for i := range ds.Briefs {
			b := &ds.Briefs[i]
			if (b.Orig == fl.Src && b.Resp == fl.Dst || b.Orig == fl.Dst && b.Resp == fl.Src) && !seen[[2]flow.Endpoint{b.Orig, b.Resp}] {
				seen[[2]flow.Endpoint{b.Orig, b.Resp}] = true
				f.AddConn(detect.NewConn(ds.Name, b.Proto.String(), b.Orig, b.Resp, b.Start, ""))
			}
		}
	}
	return len(seen) + int(g.MoreFlows), packets
}

// flowsText names the repeated flow directions: "10.0.0.1:40001 to
// 10.0.0.2:80" or "3 flows from 10.0.0.1 to 10.0.0.2".
func flowsText(g *Group) string {
	if len(g.Flows) == 1 && g.MoreFlows == 0 {
		return fmt.Sprintf("from %s to %s", g.Flows[0].Src, g.Flows[0].Dst)
	}
	hosts := map[string]bool{}
	var names []string
	for _, f := range g.Flows {
		k := fmt.Sprintf("from %s to %s", f.Src.Addr, f.Dst.Addr)
		if !hosts[k] {
			hosts[k] = true
			names = append(names, k)
		}
	}
	n := int64(len(g.Flows)) + g.MoreFlows
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	return fmt.Sprintf("of %d flows (%s)", n, strings.Join(names, ", "))
}

func ttlText(g *Group) string {
	var s []string
	for _, p := range g.TTLPairs {
		s = append(s, fmt.Sprintf("%d→%d", p[0], p[1]))
	}
	return strings.Join(s, ", ")
}

// ttlFact is ttlText for machines: "63,62;64,63".
func ttlFact(g *Group) string {
	var s []string
	for _, p := range g.TTLPairs {
		s = append(s, fmt.Sprintf("%d,%d", p[0], p[1]))
	}
	return strings.Join(s, ";")
}

func gapText(g *Group) string {
	if g.MinGap == g.MaxGap {
		return detect.Seconds(g.MinGap)
	}
	return fmt.Sprintf("%s to %s (mean %s)", detect.Seconds(g.MinGap), detect.Seconds(g.MaxGap), detect.Seconds(g.MeanGap()))
}

// share says how many of the packets that crossed were repeated: of
// counts both copies, as the connection records do.
func share(n, of int64) string {
	of -= n
	switch {
	case of <= 0:
		return fmt.Sprintf("%d packets", n)
	case n >= of:
		return fmt.Sprintf("all %d packets", of)
	}
	return fmt.Sprintf("%d of %d packets (%.0f%%)", n, of, 100*float64(n)/float64(of))
}

func forwardedFinding(p *detect.Pass, ds *detect.Dataset, g *Group) detect.Finding {
	a, b := g.First, g.Second
	f := detect.Finding{Severity: detect.Warning, Score: float64(len(g.Flows)) + float64(g.MoreFlows)}
	conns, packets := addConns(&f, ds, g)
	f.Affected = conns
	f.OutOf = conns
	f.Comparable = "connections whose packets were repeated"
	ttlDiff := ""
	switch {
	case a.TTL > b.TTL:
		ttlDiff = fmt.Sprintf(" The later copies arrive with a TTL %d lower: they crossed %s more than the first.", a.TTL-b.TTL, detect.Plural(int(a.TTL-b.TTL), "router"))
	case a.TTL < b.TTL:
		ttlDiff = fmt.Sprintf(" The later copies arrive with a TTL %d higher: the first copies crossed %s more.", b.TTL-a.TTL, detect.Plural(int(b.TTL-a.TTL), "router"))
	default:
		ttlDiff = " Both copies have the same TTL: two devices at the same distance (a redundant pair) forward them."
	}
	f.Title = fmt.Sprintf("Packets %s arrive twice, forwarded by two devices (%s and %s)", flowsText(g), mac(a.Src), mac(b.Src))
	f.Explanation = fmt.Sprintf("In %s, %s %s arrived twice, %s apart: first from %s (TTL %d), then the very same IP packet — same IP ID, same transport header and checksum — from %s (TTL %d), "+
		"both addressed to %s. Two devices forward the same traffic onto this segment.%s "+
		"A TCP retransmission would be a new IP packet (new IP ID, usually a new timestamp), and a mirrored frame would repeat the source MAC and the TTL: these copies are neither. "+
		"The receiver gets every affected segment twice: duplicate ACKs and D-SACKs, and stateful devices on either path may see a connection they do not track, which shows as stalls and resets.",
		ds.Name, share(g.Repeats, packets), flowsText(g), gapText(g), mac(a.Src), a.TTL, mac(b.Src), b.TTL, mac(a.Dst), ttlDiff)
	if g.Triples > 0 {
		f.Explanation += fmt.Sprintf(" %s arrived three times or more.", detect.Plural(int(g.Triples), "packet"))
	}
	if other := elsewhere(p, ds, g); other != "" {
		f.Explanation += " " + other
	}
	for i, s := range g.Samples {
		if i == 0 {
			f.AddEvidence(detect.Packet(ds, s[0], fmt.Sprintf("first copy, from %s with TTL %d", mac(a.Src), a.TTL)))
			f.AddEvidence(detect.Packet(ds, s[1], fmt.Sprintf("the same IP packet again %s later, from %s with TTL %d", detect.Seconds(s[1].Time.Sub(s[0].Time)), mac(b.Src), b.TTL)))
			continue
		}
		f.AddEvidence(detect.Packet(ds, s[0], "first copy"))
		f.AddEvidence(detect.Packet(ds, s[1], fmt.Sprintf("repeated %s later from %s", detect.Seconds(s[1].Time.Sub(s[0].Time)), mac(b.Src))))
	}
	f.AddFact("first_mac", mac(a.Src))
	f.AddFact("second_mac", mac(b.Src))
	f.AddFact("dst_mac", mac(a.Dst))
	f.AddFact("ttls", ttlFact(g))
	f.AddFact("repeated_packets", fmt.Sprint(g.Repeats))
	if packets > 0 {
		f.AddFact("packets", fmt.Sprint(packets))
	}
	f.AddFact("gap_mean_us", fmt.Sprint(g.MeanGap().Microseconds()))
	f.NextSteps = []string{
		fmt.Sprintf("Find the devices with MACs %s and %s (the switch's MAC address table, arp -n / ip neigh on a host of this segment): one of them should not be forwarding this traffic.", mac(a.Src), mac(b.Src)),
		"Look for a standby firewall or router that forwards although it is not the active one — a CARP/VRRP backup whose state table is synchronised (pfsync, conntrackd) accepts the packets as part of known connections — a second default gateway, or a host with net.ipv4.ip_forward=1.",
		"Find out why that device receives the packets at all: a switch flooding them (unknown unicast, a multicast MAC without IGMP snooping), a mirror or iptables TEE rule, or a bridging loop.",
		fmt.Sprintf("Confirm with a capture on the second device (%s): the packets arrive there and leave again; disconnecting it or stopping it forwarding should make the repeats stop.", mac(b.Src)),
	}
	return f
}

// elsewhere describes what other vantage points saw of the same flows:
// where the duplication starts (a fan-out) and devices that pass the
// copies on.
func elsewhere(p *detect.Pass, self *detect.Dataset, g *Group) string {
	var out []string
	for _, ds := range p.Datasets {
		if ds == self {
			continue
		}
		r := result(ds)
		if r == nil {
			continue
		}
		for _, h := range r.Groups {
			if h.Repeats < MinRepeats || !sharesFlow(g, h) {
				continue
			}
			switch h.Kind {
			case Fanout:
				out = append(out, fmt.Sprintf("At %s, %s sends each of these packets to two next hops, %s and %s: the duplication starts there.",
					ds.Name, mac(h.First.Src), mac(h.First.Dst), mac(h.Second.Dst)))
			case Traversal:
				if h.First.HasMAC && h.Second.HasMAC {
					out = append(out, fmt.Sprintf("At %s, the packets arrive from %s addressed to %s and leave again from %s to %s (TTL %s): a device there forwards them.",
						ds.Name, mac(h.First.Src), mac(h.First.Dst), mac(h.Second.Src), mac(h.Second.Dst), ttlText(h)))
				}
			case Forwarded:
				// Reported there too; diagnose merges the two.
			}
		}
	}
	return strings.Join(out, " ")
}

func fanoutFinding(p *detect.Pass, ds *detect.Dataset, g *Group) detect.Finding {
	a, b := g.First, g.Second
	f := detect.Finding{Severity: detect.Warning, Score: float64(len(g.Flows)) + float64(g.MoreFlows)}
	conns, packets := addConns(&f, ds, g)
	f.Affected, f.OutOf = conns, conns
	f.Comparable = "connections whose packets were repeated"
	f.Title = fmt.Sprintf("%s sends packets %s to two next hops (%s and %s)", mac(a.Src), flowsText(g), mac(a.Dst), mac(b.Dst))
	f.Explanation = fmt.Sprintf("In %s, %s %s left %s twice, %s apart, with the same TTL (%s): once to %s and once to %s — the same IP packet (same IP ID and transport header) sent to two next hops. "+
		"That is what a traffic mirror or an iptables TEE rule does; if the second next hop forwards the copies, the destination receives every packet twice.",
		ds.Name, share(g.Repeats, packets), flowsText(g), mac(a.Src), gapText(g), ttlText(g), mac(a.Dst), mac(b.Dst))
	if len(g.Samples) > 0 {
		s := g.Samples[0]
		f.AddEvidence(detect.Packet(ds, s[0], "to "+mac(a.Dst)))
		f.AddEvidence(detect.Packet(ds, s[1], fmt.Sprintf("the same IP packet %s later to %s", detect.Seconds(s[1].Time.Sub(s[0].Time)), mac(b.Dst))))
	}
	f.AddFact("sender_mac", mac(a.Src))
	f.AddFact("next_hop_macs", mac(a.Dst)+","+mac(b.Dst))
	f.AddFact("repeated_packets", fmt.Sprint(g.Repeats))
	f.NextSteps = []string{
		fmt.Sprintf("Check the device with MAC %s for mirroring: iptables -t mangle -L -v -n (TEE targets), tc mirred actions, port-mirroring or ERSPAN sessions.", mac(a.Src)),
		fmt.Sprintf("Capture at the destination: if the packets arrive there twice (a second copy from %s's direction), the mirror's target forwards them.", mac(b.Dst)),
	}
	return f
}

// identicalFinding notes, as context, a capture that repeats frames byte
// for byte. It names no connections, so that it is never merged with a
// fault seen at another vantage point.
func identicalFinding(ds *detect.Dataset) (detect.Finding, bool) {
	r := result(ds)
	if r == nil {
		return detect.Finding{}, false
	}
	var n int64
	var first *Group
	var gaps []time.Duration
	for _, g := range r.Groups {
		if g.Kind == Identical {
			n += g.Repeats
			gaps = append(gaps, g.MaxGap)
			if first == nil {
				first = g
			}
		}
	}
	if n < minIdentical || float64(n) < minIdenticalShare*float64(r.Packets) {
		return detect.Finding{}, false
	}
	f := detect.Finding{Severity: detect.Info, Score: 0}
	f.Title = fmt.Sprintf("%s: %d packets captured twice, identical frames: most likely an artefact of the capture", ds.Name, n)
	f.Explanation = fmt.Sprintf("In %s, %s of %d TCP and UDP packets appear twice within %s with everything identical, link layer included (same MACs, same TTL). "+
		"Forwarding devices would leave a different source MAC or TTL; identical frames are almost always made by the capture itself — a SPAN/mirror session copying both the ingress and the egress of a port, "+
		"a capture on several ports of one bridge or on the any interface — and only rarely by a switching loop (then the receiver acknowledges the copies twice, with D-SACKs). "+
		"Retransmission, duplicate-ACK and out-of-order counts from this capture are inflated by it.",
		ds.Name, detect.Plural(int(n), "packet"), r.Packets, detect.Seconds(slices.Max(gaps)))
	if len(first.Samples) > 0 {
		s := first.Samples[0]
		f.AddEvidence(detect.Packet(ds, s[0], "captured once"))
		f.AddEvidence(detect.Packet(ds, s[1], fmt.Sprintf("and again %s later, identical", detect.Seconds(s[1].Time.Sub(s[0].Time)))))
	}
	f.AddFact("identical_repeats", fmt.Sprint(n))
	f.NextSteps = []string{
		"Mirror one direction only (or deduplicate with editcap -D) before judging retransmissions in this capture.",
	}
	return f, true
}
