package resets

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// IdleTimeout reports connections reset after a consistent idle period:
// a stateful device on the path (connection-tracking firewall, NAT,
// proxy, load balancer) forgot them and resets them when they resume, or
// resets them when its timer fires.
var IdleTimeout = &detect.Detector{
	ID:       "reset.idle-timeout",
	Doc:      "connections reset after a consistent idle period: a connection-tracking, NAT or proxy timeout on the path, estimated",
	Requires: []*detect.Observer{Observer},
	Keep:     hasRST,
	Run:      runIdle,
}

// minIdle is the shortest silence taken as idle.
const minIdle = time.Second

// quick bounds how soon after the packet that ended a silence a reset must
// come to be its answer: two of the connection's round trips and 50 ms, or
// half a second when the handshake was not seen.
func quick(x *RST) time.Duration {
	if x.RTT > 0 {
		return 2*x.RTT + 50*time.Millisecond
	}
	return 500 * time.Millisecond
}

// answersResume reports whether a reset answered the first packet after a
// silence of at least minIdle: the peer resumed and got a reset at once.
// A retransmitted FIN resumes nothing.
func answersResume(x *RST) bool {
	return x.Trigger.Valid() && x.TriggerGap >= minIdle && x.SinceAny >= 0 && x.SinceAny <= quick(x) && !x.PeerClosedBefore
}

// idleReset is one connection reset after being idle.
type idleReset struct {
	rst            *RST
	gap            time.Duration
	forged         *forgery
	client, server flow.Endpoint
}

// idleGroup is the connections to one server reset after idling, one way.
type idleGroup struct {
	server netip.Addr
	// lazy: the reset answered the first packet after the silence (the
	// device forgot the connection); else the reset itself ended the
	// silence (the device's timer sent it).
	lazy     bool
	resets   []idleReset
	survivor Survivor // the longest silence survived (Gap 0: none)
	service  flow.Endpoint
	lo, hi   time.Duration // the timeout is in (lo, hi]
}

// idleGroups finds the idle resets of a dataset that form a consistent
// pattern.
func idleGroups(ds *detect.Dataset) []idleGroup {
	res := resultOf(ds)
	forged := map[int64]*forgery{}
	fs := forgeries(ds)
	for i := range fs {
		forged[fs[i].rst.Frame] = &fs[i]
	}
	type gk struct {
		server netip.Addr
		lazy   bool
	}
	var order []gk
	groups := map[gk]*idleGroup{}
	done := map[int64]bool{}
	// busy counts, per server, its own resets of live connections that
	// had not been idle: a server that resets those too (restarted,
	// overloaded) does not reset for idleness.
	busy := map[netip.Addr]int{}
	for i := range res.RSTs {
		x := &res.RSTs[i]
		if !x.Known || !x.Established || x.From == Unknown || x.SelfFIN || done[x.Stream] {
			continue
		}
		if x.From == Server && forged[x.Frame] == nil && !x.AfterClose && !x.AcksAll && !answersResume(x) && x.SinceAny < minIdle {
			busy[x.Src.Addr]++
		}
		client, server := x.Dst, x.Src
		if x.From == Client {
			client, server = x.Src, x.Dst
		}
		ir := idleReset{rst: x, forged: forged[x.Frame], client: client, server: server}
		lazy := false
		// Resets from the client's own stack are its doing (an
		// application giving up, a pool closing); a device on the path
		// resets in the server's name, or in anyone's with another TTL.
		if x.From != Server && ir.forged == nil {
			continue
		}
		switch {
		case answersResume(x):
			lazy, ir.gap = true, x.TriggerGap
		case x.SinceAny >= minIdle && !x.PeerFIN:
			ir.gap = x.SinceAny
		default:
			continue
		}
		done[x.Stream] = true
		k := gk{server.Addr, lazy}
		g := groups[k]
		if g == nil {
			g = &idleGroup{server: server.Addr, lazy: lazy}
			groups[k] = g
			order = append(order, k)
		}
		g.resets = append(g.resets, ir)
	}
	var out []idleGroup
	for _, k := range order {
		g := groups[k]
		for svc, s := range res.Survived {
			if svc.Addr == g.server && s.Gap > g.survivor.Gap {
				g.survivor, g.service = s, svc
			}
		}
		slices.SortFunc(g.resets, func(a, b idleReset) int { return int(a.gap - b.gap) })
		minGap, maxGap := g.resets[0].gap, g.resets[len(g.resets)-1].gap
		if g.survivor.Gap >= minGap {
			continue // a connection idled as long and carried on: no consistent timeout
		}
		forgedAny := false
		for _, r := range g.resets {
			forgedAny = forgedAny || r.forged != nil
		}
		if !forgedAny && busy[g.server] > 0 {
			continue // it resets busy connections too: not an idle timeout
		}
		if g.lazy {
			if len(g.resets) < 2 && !(forgedAny && g.survivor.Gap > 0) {
				continue
			}
			g.lo, g.hi = g.survivor.Gap, minGap
		} else {
			med := g.resets[len(g.resets)/2].gap
			if len(g.resets) < 2 || maxGap-minGap > max(med/10, time.Second) {
				continue
			}
			g.lo, g.hi = minGap, maxGap
		}
		out = append(out, *g)
	}
	return out
}

// idleClaims returns the streams idle-timeout findings explain.
func idleClaims(ds *detect.Dataset) map[int64]bool {
	m := map[int64]bool{}
	for _, g := range idleGroups(ds) {
		for _, r := range g.resets {
			m[r.rst.Stream] = true
		}
	}
	return m
}

// knownTimeouts are idle timeouts of common devices, to name when an
// estimate covers them.
var knownTimeouts = []struct {
	d    time.Duration
	name string
}{
	{60 * time.Second, "60 s (AWS ELB/ALB default idle timeout, nginx proxy_read_timeout)"},
	{240 * time.Second, "4 min (Azure Load Balancer and NAT default)"},
	{300 * time.Second, "5 min (many NAT gateways and firewalls)"},
	{350 * time.Second, "350 s (AWS NAT gateway and NLB)"},
	{3600 * time.Second, "1 h (Cisco ASA default conn timeout)"},
	{432000 * time.Second, "5 days (Linux nf_conntrack_tcp_timeout_established default)"},
}

func runIdle(p *detect.Pass) error {
	ix := indexes{}
	for _, ds := range p.Datasets {
		for _, g := range idleGroups(ds) {
			p.Report(idleFinding(p, ix, ds, &g))
		}
	}
	return nil
}

func idleFinding(p *detect.Pass, ix indexes, ds *detect.Dataset, g *idleGroup) detect.Finding {
	in := ix.of(ds)
	n := len(g.resets)
	var services []string
	var clients []flow.Endpoint
	var gaps []string
	seenSvc := map[flow.Endpoint]bool{}
	forgedN := 0
	for _, r := range g.resets {
		if !seenSvc[r.server] {
			seenSvc[r.server] = true
			services = append(services, r.server.String())
		}
		clients = append(clients, r.client)
		gaps = append(gaps, detect.Seconds(r.gap))
		if r.forged != nil {
			forgedN++
		}
	}
	first := g.resets[0]
	f := detect.Finding{
		Severity:   detect.Error,
		Affected:   n,
		OutOf:      in.resp[g.server],
		Comparable: fmt.Sprintf("TCP connections to %s", g.server),
		Score:      float64(n),
	}
	for _, r := range g.resets {
		uid := ""
		if b := in.stream[r.rst.Stream]; b != nil {
			f.AddConn(detect.NewConn(ds.Name, "tcp", b.Orig, b.Resp, b.Start, uid))
		} else {
			f.AddConn(connOf(ds, r.client, r.server, r.rst.Ref, uid))
		}
	}
	clientHosts := map[netip.Addr]bool{}
	for _, c := range clients {
		clientHosts[c.Addr] = true
	}
	from := fmt.Sprintf("from %s", plural(len(clientHosts), "client", "clients"))
	if len(clientHosts) == 1 {
		from = fmt.Sprintf("from %s (ports %s)", clients[0].Addr, ports(clients))
	}
	svc := joinAnd(services)
	survived := "No connection to it in this capture survived an idle period of 100 ms or more, so only the upper bound is known."
	if g.survivor.Gap > 0 {
		survived = fmt.Sprintf("Connections that idled up to %s (the longest: %s → %s) carried on normally.",
			detect.Seconds(g.survivor.Gap), g.survivor.Client, g.service)
	}
	if g.lazy {
		f.Title = fmt.Sprintf("Connections to %s reset when they resume after %s idle: an idle timeout on the path", svc, detect.Seconds(g.hi))
		f.Explanation = fmt.Sprintf("In %s, %s to %s %s were idle for %s; each was reset as soon as it resumed (the first packet after the silence got a RST within %s). %s "+
			"Something stateful between the endpoints forgets connections idle longer than somewhere between %s and %s — a connection-tracking firewall, a NAT or a proxy — and answers the next packet of a forgotten connection with a reset.",
			ds.Name, plural(n, "connection", "connections"), svc, from, joinAnd(gaps), detect.Seconds(first.rst.SinceAny), survived,
			detect.Seconds(g.lo), detect.Seconds(g.hi))
		f.AddFact("idle_timeout_min_s", secs(g.lo))
		f.AddFact("idle_timeout_max_s", secs(g.hi))
	} else {
		med := g.resets[n/2].gap
		f.Title = fmt.Sprintf("Connections to %s reset after %s idle: an idle timeout", svc, detect.Seconds(med))
		f.Explanation = fmt.Sprintf("In %s, %s to %s %s were reset after being idle for %s: the reset itself ended the silence, after the same time each time. %s "+
			"A timer reset them: an idle timeout of about %s in a firewall, NAT, load balancer or proxy that resets connections it expires, or in the server itself.",
			ds.Name, plural(n, "connection", "connections"), svc, from, joinAnd(gaps), survived, detect.Seconds(med))
		f.AddFact("idle_timeout_s", secs(med))
		f.Severity = detect.Warning
	}
	f.AddFact("server", g.server.String())
	f.AddFact("reset_after_idle_s", strings.Join(func() []string {
		var s []string
		for _, r := range g.resets {
			s = append(s, secs(r.gap))
		}
		return s
	}(), ","))
	if g.survivor.Gap > 0 {
		f.AddFact("longest_idle_survived_s", secs(g.survivor.Gap))
	}
	// Who made the resets.
	sender := first.rst.Src.Addr
	if forgedN > 0 {
		fo := first.forged
		if fo == nil {
			for _, r := range g.resets {
				if r.forged != nil {
					fo = r.forged
					break
				}
			}
		}
		how := fmt.Sprintf("TTL %d where %s", fo.rst.TTL, fo.from)
		if fo.sameInitial() {
			how += fmt.Sprintf(": made %s closer than %s", plural(fo.hopsCloser(), "hop", "hops"), fo.rst.Src.Addr)
		}
		which := "The resets were"
		if forgedN < n {
			which = fmt.Sprintf("%d of the resets were", forgedN)
		}
		f.Explanation += fmt.Sprintf(" %s not sent by %s (%s): the device on the path sent them in its name.", which, fo.rst.Src.Addr, how)
		f.AddFact("forged", "true")
		f.AddFact("rst_ttl", fmt.Sprint(fo.rst.TTL))
		f.AddFact("sender_ttl", fmt.Sprint(fo.want))
	} else {
		f.Explanation += fmt.Sprintf(" The resets carry %s's TTL, so they come from it or a device that copies its TTL.", sender)
		f.AddFact("forged", "false")
	}
	// What the other vantage points saw of these connections.
	if len(p.Datasets) > 1 {
		f.Explanation += idleVantages(p, ix, ds, g)
	}
	f.AddEvidence(detect.Packet(ds, first.rst.Ref, fmt.Sprintf("RST %s after the connection resumed; TTL %d", detect.Seconds(max(first.rst.SinceAny, 0)), first.rst.TTL)))
	if g.lazy && first.rst.Trigger.Valid() {
		f.AddEvidence(detect.Packet(ds, first.rst.Trigger, fmt.Sprintf("the first packet after %s of silence", detect.Seconds(first.gap))))
	}
	if g.survivor.Gap > 0 {
		f.AddEvidence(detect.Packet(ds, g.survivor.To, fmt.Sprintf("a packet after %s of silence that got through (%s)", detect.Seconds(g.survivor.Gap), g.survivor.Client)))
	}
	for _, r := range g.resets[1:] {
		f.AddEvidence(detect.Packet(ds, r.rst.Ref, fmt.Sprintf("RST after %s idle (%s)", detect.Seconds(r.gap), r.client)))
	}
	where := "the firewall, NAT or proxy between the client and " + g.server.String()
	if first.forged != nil && first.forged.sameInitial() {
		where = fmt.Sprintf("the stateful device at hop %d of traceroute -T -p %d %s from %s", hops(first.rst.TTL)+1, first.server.Port, g.server, ds.Name)
	}
	limit := detect.Seconds(g.hi)
	if g.lazy && g.lo > 0 {
		limit = fmt.Sprintf("between %s and %s", detect.Seconds(g.lo), detect.Seconds(g.hi))
	}
	f.NextSteps = []string{
		fmt.Sprintf("Find the idle timeout of %s (%s here) and raise it above the longest idle the application needs: on Linux netfilter "+
			"net.netfilter.nf_conntrack_tcp_timeout_established (default 432000 s); on proxies and load balancers their idle timeout "+
			"(HAProxy timeout client/server, nginx keepalive_timeout and proxy_read_timeout, cloud load balancer idle timeout).", where, limit),
		"Or keep connections from going idle that long: TCP keep-alive on the endpoints (SO_KEEPALIVE with net.ipv4.tcp_keepalive_time, or TCP_KEEPIDLE per socket, below the timeout — the default 7200 s is longer than most middleboxes keep state) or application-level pings.",
		"Make connection pools drop connections idle longer than the lower bound, and retry idempotent requests that fail with a reset on a reused connection.",
	}
	for _, k := range knownTimeouts {
		if k.d > g.lo && k.d <= g.hi+g.hi/10 {
			f.NextSteps = append(f.NextSteps, "The estimate covers a common default: "+k.name+".")
		}
	}
	return f
}

// idleVantages says what the other captures saw of the first reset
// connection: whether the reset and the packet that resumed the
// connection appear there.
func idleVantages(p *detect.Pass, ix indexes, ds *detect.Dataset, g *idleGroup) string {
	first := g.resets[0]
	x := first.rst
	out := ""
	if s := locatePacket(rstSightings(p, ix, ds, x)).sentence("The first RST", "was made"); s != "" {
		out = " " + s
	}
	if !g.lazy || !x.Trigger.Valid() {
		return out
	}
	// Did the packet that resumed the connection get through?
	here := ix.of(ds).stream[x.Stream]
	if here == nil {
		return out
	}
	resumer := x.Dst // the trigger's sender is the reset's receiver
	count := func(b *detect.Brief) uint64 {
		if b.Orig == resumer {
			return b.OrigPkts
		}
		return b.RespPkts
	}
	want := count(here)
	var order []uint64
	short := map[uint64][]string{}
	for _, other := range p.Datasets {
		if other == ds {
			continue
		}
		for _, b := range ix.of(other).between(x.Src, x.Dst) {
			if b.Start.Sub(here.Start) > time.Minute || here.Start.Sub(b.Start) > time.Minute {
				continue
			}
			if got := count(b); got < want {
				if _, ok := short[got]; !ok {
					order = append(order, got)
				}
				short[got] = append(short[got], other.Name)
			}
		}
	}
	var parts []string
	for _, got := range order {
		parts = append(parts, fmt.Sprintf("%s saw %d of the %d packets %s sent", joinAnd(short[got]), got, want, resumer))
	}
	if len(parts) > 0 {
		s := strings.Join(parts, "; ")
		out += " " + strings.ToUpper(s[:1]) + s[1:] + ": the packet that resumed the connection never got there."
	}
	return out
}
