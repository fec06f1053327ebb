package resets

import (
	"fmt"
	"net/netip"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
)

// Forged reports resets that claim to come from an endpoint but arrive
// with a TTL none of that endpoint's packets have: made by a device on the
// path (a firewall's REJECT --reject-with tcp-reset, an IPS, a proxy).
// Resets that reset.idle-timeout explains are left to it.
var Forged = &detect.Detector{
	ID:       "reset.forged",
	Doc:      "RSTs whose TTL does not fit the endpoint they claim to come from: made by a middlebox, and how many hops closer",
	Requires: []*detect.Observer{Observer},
	Keep:     hasRST,
	Run:      runForged,
}

func hasRST(r *conn.Record) bool {
	return r.Proto == conn.ProtoTCP && (r.Orig.RST.Valid() || r.Resp.RST.Valid())
}

// forgery is one reset judged forged.
type forgery struct {
	rst *RST
	rec *conn.Record // nil if not kept
	// want is the TTL the claimed sender's packets arrive with (the
	// closest to the reset's when it has several); from says where that
	// was learnt.
	want      uint8
	from      string
	genuine   conn.Ref // a packet of the claimed sender with that TTL, if known
	idOutlier bool     // its IP ID breaks the sender's counter
	resumed   bool     // the sender's next packet came with its usual TTL
}

// hopsCloser is how many hops nearer the capture point the reset was made
// than its claimed sender (when both used the same initial TTL).
func (f *forgery) hopsCloser() int { return hops(f.want) - hops(f.rst.TTL) }

func (f *forgery) sameInitial() bool { return initialTTL(f.want) == initialTTL(f.rst.TTL) }

// forgeries judges every reset of a dataset against its claimed sender.
func forgeries(ds *detect.Dataset) []forgery {
	res := resultOf(ds)
	recs := byStream(ds)
	hosts := hostTTLs(ds)
	// TTL counts of each connection side's resets, to take them out of
	// the side's TTLs.
	type sideKey struct {
		stream int64
		src    string
	}
	rstTTLs := map[sideKey]map[uint8]int64{}
	for i := range res.RSTs {
		x := &res.RSTs[i]
		k := sideKey{x.Stream, x.Src.String()}
		if rstTTLs[k] == nil {
			rstTTLs[k] = map[uint8]int64{}
		}
		rstTTLs[k][x.TTL]++
	}
	var out []forgery
	for i := range res.RSTs {
		x := &res.RSTs[i]
		if x.TTL == 0 {
			continue
		}
		f := forgery{rst: x, rec: recs[x.Stream]}
		// The claimed sender's other packets in this connection.
		var inConn []conn.TTLValue
		if f.rec != nil {
			side := sideOf(f.rec, x.Src)
			if side.TTL.Other > 0 {
				continue // too many TTLs to tell anything
			}
			minus := rstTTLs[sideKey{x.Stream, x.Src.String()}]
			for _, v := range side.TTL.Values {
				if v.Count > minus[v.TTL] {
					inConn = append(inConn, v)
				}
			}
			if side.IPID.Class == conn.IDIncrementing {
				for _, o := range side.IPID.Outliers {
					if o.Frame == x.Frame {
						f.idOutlier = true
					}
				}
			}
		}
		known := map[uint8]bool{}
		for _, v := range inConn {
			known[v.TTL] = true
		}
		for t := range hosts[x.Src.Addr] {
			known[t] = true
		}
		if len(known) == 0 || known[x.TTL] {
			continue // nothing to compare with, or it fits
		}
		// The reference: the in-connection TTL nearest the reset's, else
		// the host's most common one in other connections.
		if len(inConn) > 0 {
			best := inConn[0]
			for _, v := range inConn[1:] {
				if absDiff(v.TTL, x.TTL) < absDiff(best.TTL, x.TTL) {
					best = v
				}
			}
			f.want, f.genuine = best.TTL, best.First
			f.from = fmt.Sprintf("its other packets in this connection arrive with TTL %d", best.TTL)
		} else {
			n := 0
			for t, c := range hosts[x.Src.Addr] {
				if c > n || c == n && absDiff(t, x.TTL) < absDiff(f.want, x.TTL) {
					f.want, n = t, c
				}
			}
			f.from = fmt.Sprintf("its packets in %s arrive with TTL %d", plural(n, "other connection", "other connections"), f.want)
		}
		// A reset that travelled further than the sender's packets, from
		// the same kind of stack, may be a route change, not a forgery —
		// unless the sender went on with its usual TTL after it (a
		// genuine RST ends its part, a route change lasts) or its IP ID
		// does not fit either.
		f.resumed = x.Later != 0 && x.Later != x.TTL && known[x.Later]
		if f.sameInitial() && f.hopsCloser() <= 0 && !f.resumed && !f.idOutlier {
			continue
		}
		out = append(out, f)
	}
	return out
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

type forgedKey struct {
	host      netip.Addr
	ttl, want uint8
}

func runForged(p *detect.Pass) error {
	ix := indexes{}
	for _, ds := range p.Datasets {
		idle := idleClaims(ds)
		var order []forgedKey
		groups := map[forgedKey][]forgery{}
		seen := map[int64]bool{}
		for _, f := range forgeries(ds) {
			if idle[f.rst.Stream] || seen[f.rst.Stream] {
				continue
			}
			seen[f.rst.Stream] = true
			k := forgedKey{f.rst.Src.Addr, f.rst.TTL, f.want}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], f)
		}
		for _, k := range order {
			p.Report(forgedFinding(p, ix, ds, groups[k]))
		}
	}
	return nil
}

func forgedFinding(p *detect.Pass, ix indexes, ds *detect.Dataset, fs []forgery) detect.Finding {
	f0 := &fs[0]
	x := f0.rst
	host := x.Src.Addr
	f := detect.Finding{
		Severity:   detect.Error,
		Affected:   len(fs),
		OutOf:      ix.of(ds).host[host],
		Comparable: fmt.Sprintf("TCP connections with %s", host),
		Score:      float64(len(fs)),
	}
	var synAnswers, afterData, afterClose int
	for i := range fs {
		r := fs[i].rst
		if r.AfterClose {
			afterClose++
		}
		if r.AnswersSYN {
			synAnswers++
		} else if r.PeerData || r.SelfData {
			afterData++
		}
		client, server := r.Dst, r.Src
		if r.From == Client {
			client, server = r.Src, r.Dst
		}
		uid := ""
		if fs[i].rec != nil {
			uid = fs[i].rec.UID
		}
		f.AddConn(connOf(ds, client, server, r.Ref, uid))
	}
	subject := "the RST"
	switch {
	case len(fs) == 1 && synAnswers == 1:
		subject = fmt.Sprintf("the RST answering %s → %s", f.Connections[0].Client, f.Connections[0].Server)
	case len(fs) == 1:
		subject = fmt.Sprintf("the RST of %s → %s", f.Connections[0].Client, f.Connections[0].Server)
	case synAnswers == len(fs):
		subject = fmt.Sprintf("the RSTs answering the SYNs of %d connections", len(fs))
	default:
		subject = fmt.Sprintf("the RSTs of %d connections", len(fs))
	}
	verb := map[bool]string{true: "claims", false: "claim"}[len(fs) == 1]
	// Where the device is: routers between it and the capture point.
	device := fmt.Sprintf("%s beyond %s", plural(hops(x.TTL), "router", "routers"), ds.Name)
	if hops(x.TTL) == 0 {
		device = fmt.Sprintf("the first device on the path from %s, with no router in between", ds.Name)
	}
	var distance string
	switch {
	case f0.sameInitial() && f0.hopsCloser() > 0:
		distance = fmt.Sprintf("%s closer than %s", plural(f0.hopsCloser(), "hop", "hops"), host)
		f.Title = fmt.Sprintf("RSTs in the name of %s made %s (TTL %d where its packets arrive with %d)", host, distance, x.TTL, f0.want)
	case f0.sameInitial():
		distance = fmt.Sprintf("%s farther away than %s (an injector off the usual path, or one that sets its TTL)", plural(-f0.hopsCloser(), "hop", "hops"), host)
		f.Title = fmt.Sprintf("RSTs in the name of %s injected by another device (TTL %d where its packets arrive with %d)", host, x.TTL, f0.want)
	default:
		distance = fmt.Sprintf("by a device with another initial TTL (%d; %s's packets start at %d)", initialTTL(x.TTL), host, initialTTL(f0.want))
		f.Title = fmt.Sprintf("RSTs in the name of %s made by another device (TTL %d where its packets arrive with %d)", host, x.TTL, f0.want)
	}
	if synAnswers == len(fs) {
		f.Title = "SYNs answered by " + f.Title
	}
	by := fmt.Sprintf(", by %s (a firewall rule such as iptables REJECT --reject-with tcp-reset, an IPS, a load balancer or a proxy)", device)
	if f0.sameInitial() && f0.hopsCloser() <= 0 {
		by = ""
	}
	f.Explanation = fmt.Sprintf("In %s, %s %s to come from %s but %s with TTL %d, while %s. "+
		"A host sends all its packets with the same initial TTL, so the reset was made %s%s, not by %s.",
		ds.Name, subject, verb, host, map[bool]string{true: "arrives", false: "arrive"}[len(fs) == 1], x.TTL, f0.from, distance, by, host)
	if f0.resumed {
		f.Explanation += fmt.Sprintf(" %s's next packet after it still came with TTL %d: a host's own RST ends its part of a connection.", host, x.Later)
	}
	if f0.idOutlier {
		f.Explanation += fmt.Sprintf(" Its IP ID (%d) also breaks %s's counter.", x.IPID, host)
	}
	if synAnswers == len(fs) && !f0.resumed {
		f.Explanation += fmt.Sprintf(" The SYNs were refused on the way: %s may well be listening.", host)
	}
	if afterClose == len(fs) {
		// Resets of connections already closing break nothing: a NAT or
		// firewall clearing its state. Suspicious, not a fault.
		f.Severity = detect.Warning
		f.Explanation += " These connections were already closing (a FIN or RST came first), so the resets broke nothing; a NAT or firewall that resets the connections it forgets does this."
	}
	// Where along the path the reset appears.
	var loc located
	if len(p.Datasets) > 1 {
		loc = locatePacket(rstSightings(p, ix, ds, x))
		if s := loc.sentence("The RST", "was made"); s != "" {
			f.Explanation += " " + s
			f.Vantages = append(f.Vantages, loc.line("the RST"))
		}
	}
	where := loc.where
	f.AddEvidence(detect.Packet(ds, x.Ref, fmt.Sprintf("RST claiming to be from %s: TTL %d (initial %d, %d hops), IP ID %d, window %d",
		x.Src, x.TTL, initialTTL(x.TTL), hops(x.TTL), x.IPID, x.Window)))
	if f0.genuine.Valid() {
		f.AddEvidence(detect.Packet(ds, f0.genuine, fmt.Sprintf("a genuine packet from %s: TTL %d (%d hops)", host, f0.want, hops(f0.want))))
	}
	if x.Trigger.Valid() {
		note := "the packet the RST answers"
		if x.AnswersSYN {
			note = "the SYN the RST answers"
		}
		f.AddEvidence(detect.Packet(ds, x.Trigger, note))
	}
	for i := 1; i < len(fs) && i < 4; i++ {
		f.AddEvidence(detect.Packet(ds, fs[i].rst.Ref, fmt.Sprintf("another forged RST, TTL %d", fs[i].rst.TTL)))
	}
	f.AddFact("claimed_sender", host.String())
	f.AddFact("rst_ttl", fmt.Sprint(x.TTL))
	f.AddFact("sender_ttl", fmt.Sprint(f0.want))
	if f0.sameInitial() {
		f.AddFact("hops_closer", fmt.Sprint(f0.hopsCloser()))
	} else {
		f.AddFact("rst_initial_ttl", fmt.Sprint(initialTTL(x.TTL)))
	}
	if where != "" {
		f.AddFact("made", where)
	}
	f.AddFact("answers_syn", fmt.Sprint(synAnswers))
	f.AddFact("after_data", fmt.Sprint(afterData))
	f.AddFact("after_close", fmt.Sprint(afterClose))
	var next []string
	if f0.sameInitial() {
		next = append(next, fmt.Sprintf("Look for the device at hop %d of traceroute -T -p %d %s run from %s (or a transparent firewall just before it): "+
			"a firewall or security group rule that rejects with a TCP reset, an IPS, or a proxy or load balancer that resets.",
			hops(x.TTL)+1, x.Src.Port, host, ds.Name))
	} else {
		next = append(next, fmt.Sprintf("Look for a network device %s (initial TTL %d is typical of routers, firewalls and load balancers) that resets traffic to %s.",
			device, initialTTL(x.TTL), host))
	}
	if where != "" {
		next = append(next, fmt.Sprintf("Check the rules and logs of the device %s: its counters grow with each reset.", where))
	} else {
		next = append(next, fmt.Sprintf("Capture on %s itself at the same time: a forged RST never passes it.", host))
	}
	if synAnswers > 0 {
		next = append(next, fmt.Sprintf("Check whether port %d on %s is meant to be reachable from this client; the host itself may be fine.", x.Src.Port, host))
	}
	f.NextSteps = next
	return f
}
