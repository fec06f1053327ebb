package stall

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/progress"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// AfterHandshake reports connections that were established and then lost
// the first bytes one side sent: retransmitted with back-off, never
// acknowledged, until a timeout, an application error or a reset.
var AfterHandshake = &detect.Detector{
	ID:       "stall.after-handshake",
	Doc:      "established, then one side's first data is never acknowledged: retransmissions with back-off until a timeout, an application error or a reset; which request was lost, where it vanished, whether failures depend on connection start spacing",
	Requires: []*detect.Observer{progress.Observer},
	Keep:     keep,
	Run:      func(p *detect.Pass) error { return run(p, true) },
}

// Data reports connections whose progress stopped mid-connection: data
// after some that was acknowledged is retransmitted and never
// acknowledged.
var Data = &detect.Detector{
	ID:       "stall.data",
	Doc:      "progress stops mid-connection: the oldest unacknowledged data is retransmitted with back-off and never acknowledged until the connection ends",
	Requires: []*detect.Observer{progress.Observer},
	Keep:     keep,
	Run:      func(p *detect.Pass) error { return run(p, false) },
}

// keep keeps the records of connections with retransmissions or bytes the
// capture missed: every stalled connection has one or the other.
func keep(r *conn.Record) bool {
	if r.Proto != conn.ProtoTCP {
		return false
	}
	for _, s := range []*conn.Side{&r.Orig, &r.Resp} {
		if s.Analysis.Count(tcp.Retransmission) > 0 || s.Analysis.Count(tcp.LostSegment) > 0 || s.Analysis.Count(tcp.AckLostSegment) > 0 {
			return true
		}
	}
	return false
}

type groupKey struct {
	server     flow.Endpoint
	fromClient bool
}

func run(p *detect.Pass, first bool) error {
	all := analyse(p)
	for _, s := range all {
		if s.first == first {
			for i := range s.views {
				s.views[i].ds.Mark(s.views[i].f.Stream, detect.Stalled)
			}
		}
	}
	txns := txnIndex{}
	for vi, ds := range p.Datasets {
		var order []groupKey
		groups := map[groupKey][]*stalled{}
		for _, s := range all {
			if s.first != first || s.viewAt(vi) == nil {
				continue
			}
			k := groupKey{s.server, s.sendsClient()}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], s)
		}
		recs := map[int64]*conn.Record{}
		for _, r := range ds.Conns {
			if r.Annotated {
				recs[r.Stream] = r
			}
		}
		for _, k := range order {
			p.Report(report(p, vi, ds, k, groups[k], first, txns, recs))
		}
	}
	return nil
}

func side(client bool) string {
	if client {
		return "client"
	}
	return "server"
}

func report(p *detect.Pass, vi int, ds *detect.Dataset, k groupKey, ss []*stalled, first bool, txns txnIndex, recs map[int64]*conn.Record) detect.Finding {
	sender, receiver := side(k.fromClient), side(!k.fromClient)
	outOf := detect.CountTo(ds, conn.ProtoTCP, k.server)
	f := detect.Finding{
		Severity:   detect.Error,
		Affected:   len(ss),
		OutOf:      max(outOf, len(ss)),
		Comparable: "connections to " + k.server.String(),
		Score:      float64(len(ss)),
	}
	v0 := ss[0].viewAt(vi)
	ctx0 := contextOf(v0, txns)
	what := "data"
	if ctx0.request != "" {
		what = ctx0.request
	}
	if first {
		f.Title = fmt.Sprintf("%s of %s to %s stalled right after the handshake: the %s's first data (%s) was never acknowledged",
			countOf(len(ss)), detect.Plural(f.OutOf, "connection"), k.server, sender, what)
	} else {
		f.Title = fmt.Sprintf("%s of %s to %s stalled mid-connection: the %s's data stopped being acknowledged",
			countOf(len(ss)), detect.Plural(f.OutOf, "connection"), k.server, sender)
	}

	var b strings.Builder
	clients := map[string]bool{}
	for _, s := range ss {
		clients[s.client.Addr.String()] = true
	}
	from := "from " + strings.Join(sortedKeys(clients), ", ")
	if first {
		fmt.Fprintf(&b, "In %s, %s %s to %s completed the handshake and then stalled: the %s's first data was never acknowledged. ",
			ds.Name, detect.Plural(len(ss), "connection"), from, k.server, sender)
	} else {
		fmt.Fprintf(&b, "In %s, %s %s to %s made progress and then stalled: from one point on, the %s's data was never acknowledged again. ",
			ds.Name, detect.Plural(len(ss), "connection"), from, k.server, sender)
	}
	b.WriteString(describe(v0, ctx0, sender, receiver, first))
	// The sender's side of it, from another capture when this one never
	// saw the stalled bytes.
	sv := ss[0].best()
	if !v0.sender && sv.sender {
		d := sv.d()
		fmt.Fprintf(&b, " At %s the %s sent them %d times over %s (%s), %d bytes from sequence number %d each time.",
			sv.ds.Name, sender, d.HeadTx, detect.Seconds(d.HeadLast.Time.Sub(d.HeadRefs[0].Time)), retrySchedule(d.HeadRefs), d.HeadLen, d.Acked)
	}

	// How the stalls ended.
	endings := map[string]int{}
	var endOrder []string
	var stallDur []time.Duration
	for _, s := range ss {
		v := s.viewAt(vi)
		e, d := ending(v, contextOf(v, txns), sender, receiver)
		if _, ok := endings[e]; !ok {
			endOrder = append(endOrder, e)
		}
		endings[e]++
		stallDur = append(stallDur, d)
	}
	var ends []string
	for _, e := range endOrder {
		switch {
		case len(ss) == 1:
			ends = append(ends, e)
		case endings[e] == len(ss):
			ends = append(ends, fmt.Sprintf("on all %d, %s", len(ss), e))
		default:
			ends = append(ends, fmt.Sprintf("on %d, %s", endings[e], e))
		}
	}
	if len(ss) == 1 {
		fmt.Fprintf(&b, " In the end %s. ", strings.Join(ends, "; "))
	} else {
		fmt.Fprintf(&b, " In the end, %s. ", strings.Join(ends, "; "))
	}

	// Where the bytes vanished.
	allSeen := len(p.Datasets) > 1
	var lines []string
	splits := map[[2]int]int{}
	for _, s := range ss {
		sight, copies := s.fate(p)
		for _, x := range sight {
			allSeen = allSeen && x == Seen
		}
		if len(p.Datasets) > 1 {
			line := fateLine(p, sight, copies)
			if !slices.Contains(lines, line) {
				lines = append(lines, line)
			}
		}
		if a, z, ok := lostBetween(sight, k.fromClient); ok {
			splits[[2]int{a, z}]++
		}
	}
	if len(p.Datasets) > 1 {
		fmt.Fprintf(&b, "Across the captures, the %s's stalled data was %s. ", sender, strings.Join(lines, " / "))
		for ab, n := range splits {
			if n == len(ss) {
				a, z := p.Datasets[ab[0]].Name, p.Datasets[ab[1]].Name
				fmt.Fprintf(&b, "On %s it passed %s and never reached %s: it is lost between those two points. ", allOrOne(n), a, z)
				f.AddFact("lost_between", a+","+z)
				f.Vantages = append(f.Vantages, fmt.Sprintf("the %s's stalled data passes %s and never reaches %s", sender, a, z))
			}
		}
	}

	// Start spacing (the GridFTP signature).
	if first {
		if sp, ok := spacing(ds, k.server, ss, vi); ok {
			fmt.Fprintf(&b, "The failures depend on how soon a connection starts after the previous one from the same client: the %d that stalled started %s–%s after the previous connection to %s, the %d that worked %s or more after it. The threshold lies between %s and %s: the signature of a per-source connection-rate limit (a firewall's hashlimit or SYN-flood protection, an inetd connection-rate limit) that lets the handshake through and drops what follows. ",
				sp.failed, ms(sp.failMin), ms(sp.failMax), k.server, sp.ok, ms(sp.okMin), ms(sp.failMax), ms(sp.okMin))
			f.AddFact("spacing_failed_max_ms", fmt.Sprintf("%.1f", sp.failMax.Seconds()*1000))
			f.AddFact("spacing_ok_min_ms", fmt.Sprintf("%.1f", sp.okMin.Seconds()*1000))
			f.NextSteps = append(f.NextSteps, fmt.Sprintf("Look for a per-source connection-rate limit between the client and %s (iptables hashlimit/recent/connlimit rules, firewall SYN-flood or scan protection, xinetd cps/per_source): connections started less than %s after the previous one fail, those %s apart succeed. Spacing the client's connections by more than %s works around it meanwhile.",
				k.server, ms(sp.failMax), ms(sp.okMin), ms(sp.okMin)))
		}
	}

	if sizeDependent(ss[0]) {
		fmt.Fprintf(&b, "The stalled segment is full-size (%d bytes, the largest the %s sent) while smaller segments sent after it got through: a size-dependent drop, the signature of an MTU black hole. ", sv.d().HeadLen, sender)
		f.NextSteps = append(f.NextSteps, "Check the path MTU (ping -M do -s 1472 towards the receiver) and whether ICMP fragmentation-needed is filtered; clamping the MSS on the router (iptables TCPMSS --clamp-mss-to-pmtu) is the usual fix.")
	}
	if allSeen {
		fmt.Fprintf(&b, "Every capture saw the stalled data, the %s's end included: what got lost is its acknowledgements on the way back, or the %s discarded the data. ", receiver, receiver)
	}
	if first {
		b.WriteString("A connection that completes its handshake and then loses what one side sends, while the other side's packets still pass, points at a stateful device on the path (firewall, IPS, load balancer, NAT) that accepted the handshake but drops the data, or at a receiver that stopped reading its socket.")
	} else {
		b.WriteString("Data that stops being acknowledged in the middle of a connection while the other side is still there is lost on the path from that point on: a device that dropped the connection's state (failover, timeout), a route change, or a size-dependent drop.")
	}
	f.Explanation = strings.TrimSpace(b.String())

	// Facts.
	d0 := v0.d()
	f.AddFact("server", k.server.String())
	f.AddFact("sender", sender)
	f.AddFact("stalled_bytes", fmt.Sprint(d0.Unacked()))
	if sv.sender {
		f.AddFact("retransmissions", fmt.Sprint(sv.d().HeadRexmits))
		f.AddFact("retry_gaps_s", retryGaps(sv.d().HeadRefs))
	}
	if ctx0.request != "" {
		f.AddFact("request", ctx0.request)
	}
	if ctx0.reply != "" {
		f.AddFact("reply", ctx0.reply)
	}
	slices.Sort(stallDur)
	f.AddFact("stall_s", fmt.Sprintf("%.1f", stallDur[len(stallDur)/2].Seconds()))

	// Connections and evidence.
	for _, s := range ss {
		v := s.viewAt(vi)
		if r := recs[v.f.Stream]; r != nil {
			f.AddConn(detect.ConnOf(ds, r))
		} else {
			f.AddConn(detect.NewConn(ds.Name, "tcp", s.client, s.server, v.f.First.Time, ""))
		}
	}
	evidence(&f, ds, v0, ctx0, sender, receiver)
	if !v0.sender && sv.sender {
		d := sv.d()
		f.AddEvidence(detect.Packet(sv.ds, d.HeadRefs[0], fmt.Sprintf("the stalled data as %s saw it leave", sv.ds.Name)))
		if d.HeadLast != d.HeadRefs[0] {
			f.AddEvidence(detect.Packet(sv.ds, d.HeadLast, fmt.Sprintf("sent for the %s time, never acknowledged", ordinal(d.HeadTx))))
		}
	}
	for _, s := range ss[1:] {
		v := s.viewAt(vi)
		d := v.d()
		if v.sender {
			f.AddEvidence(detect.Packet(ds, d.HeadLast, fmt.Sprintf("%s:%d: the same data sent a %s time, never acknowledged", v.f.Endpoint(v.dir).Addr, v.f.Endpoint(v.dir).Port, ordinal(d.HeadTx))))
		} else {
			f.AddEvidence(detect.Packet(ds, d.HoleAt, fmt.Sprintf("%s: shows %d bytes sent that never arrived here", v.f.Endpoint(v.dir), d.Unacked())))
		}
	}

	f.NextSteps = append(f.NextSteps,
		fmt.Sprintf("Capture on both sides of each firewall, NAT or load balancer between %s and %s at the same time: the %s's data will show on one side and not the other.", ss[0].client.Addr, k.server.Addr, sender),
		"Check the stateful devices' connection tables and drop counters for these 5-tuples (conntrack -L, the firewall's session table and logs); a drop after an accepted handshake is often a state or rate-limit rule.")
	if len(p.Datasets) > 1 {
		if lb := f.Fact("lost_between"); lb != "" {
			a, z, _ := strings.Cut(lb, ",")
			f.NextSteps = append([]string{fmt.Sprintf("Look at what lies between %s and %s: the data vanishes there.", a, z)}, f.NextSteps...)
		}
	}
	return f
}

// sizeDependent says the stall drops by size: the stalled segment is as
// large as anything the sender sent, and some capture saw later, smaller
// segments get through while it did not.
func sizeDependent(s *stalled) bool {
	sv := s.best()
	if !sv.sender {
		return false
	}
	d := sv.d()
	if d.HeadLen < 1000 || d.HeadLen < d.MaxSeg {
		return false
	}
	for i := range s.views {
		if v := &s.views[i]; !v.sender && v.d().AfterHoleMax > 0 && v.d().AfterHoleMax < d.HeadLen {
			return true
		}
	}
	return false
}

// describe words the first connection's stall.
func describe(v *view, ctx appContext, sender, receiver string, first bool) string {
	d := v.d()
	var b strings.Builder
	fmt.Fprintf(&b, "On %s → %s", v.f.Endpoint(v.f.Client()), v.f.Endpoint(1-v.f.Client()))
	if ctx.before != "" {
		fmt.Fprintf(&b, ", after %s", ctx.before)
	}
	what := fmt.Sprintf("the %s's data from sequence number %d (%d bytes outstanding)", sender, d.Acked, d.Unacked())
	if first {
		what = fmt.Sprintf("the %s's first data (%d bytes)", sender, d.Unacked())
	}
	if ctx.request != "" {
		what = fmt.Sprintf("the %s's %s (%d bytes)", sender, ctx.request, d.Unacked())
	}
	if v.sender {
		span := d.HeadLast.Time.Sub(d.HeadRefs[0].Time)
		if d.HeadRexmits == d.HeadTx && !first {
			// The original went out before the acknowledgements stopped.
			fmt.Fprintf(&b, ", %s stopped being acknowledged: the oldest segment (%d bytes) was retransmitted %d times over %s (%s)", what, d.HeadLen, d.HeadRexmits, detect.Seconds(span), retrySchedule(d.HeadRefs))
		} else {
			fmt.Fprintf(&b, ", %s was sent %d times over %s (%s) and never acknowledged", what, d.HeadTx, detect.Seconds(span), retrySchedule(d.HeadRefs))
		}
		switch {
		case first && d.Stuck > 0:
			fmt.Fprintf(&b, ": the %s's %s in the meantime all acknowledged only the %s's SYN", receiver, detect.Plural(d.Stuck, "segment"), sender)
		case first:
			fmt.Fprintf(&b, ": the %s never acknowledged anything beyond the %s's SYN", receiver, sender)
		case d.Stuck > 0:
			fmt.Fprintf(&b, "; the %s's %s in the meantime all acknowledged only up to sequence number %d", receiver, detect.Plural(d.Stuck, "segment"), d.Acked)
		}
		b.WriteString(". The data left this vantage point and never reached the receiver (or its acknowledgements never came back).")
	} else {
		fmt.Fprintf(&b, ", %s never arrived here: a later packet from the %s carries sequence number %d, so it had sent them, and the %s's acknowledgements stayed at %d", what, sender, d.HoleHi, receiver, d.Acked)
		b.WriteString(". The data was lost before it reached this vantage point.")
	}
	return b.String()
}

// ending says how one stalled connection ended and how long the stall had
// lasted by then.
func ending(v *view, ctx appContext, sender, receiver string) (string, time.Duration) {
	d, o := v.d(), v.peer()
	start := v.start().Time
	switch {
	case ctx.reply != "":
		s := fmt.Sprintf("the %s answered %q %s after the stall began", receiver, ctx.reply, detect.Seconds(ctx.replyRef.Time.Sub(start)))
		if o.Close.Valid() {
			s += " and closed the connection"
		}
		return s, ctx.replyRef.Time.Sub(start)
	case d.RST.Valid() && (!o.RST.Valid() || d.RST.Time <= o.RST.Time):
		return fmt.Sprintf("the %s gave up with a reset after %s", sender, detect.Seconds(d.RST.Time.Sub(start))), d.RST.Time.Sub(start)
	case o.RST.Valid():
		return fmt.Sprintf("the %s reset the connection after %s", receiver, detect.Seconds(o.RST.Time.Sub(start))), o.RST.Time.Sub(start)
	case o.Close.Valid() && o.Close.Time > start:
		return fmt.Sprintf("the %s closed the connection after %s", receiver, detect.Seconds(o.Close.Time.Sub(start))), o.Close.Time.Sub(start)
	case d.Close.Valid() && d.Close.Time > start:
		return fmt.Sprintf("the %s closed the connection after %s", sender, detect.Seconds(d.Close.Time.Sub(start))), d.Close.Time.Sub(start)
	}
	return fmt.Sprintf("the data was still unacknowledged when the capture ended, %s after the stall began", detect.Seconds(v.f.Last.Time.Sub(start))), v.f.Last.Time.Sub(start)
}

// addEvidence cites a packet, or adds the note to its citation when the
// finding already cites it.
func addEvidence(f *detect.Finding, e detect.Evidence) {
	for i := range f.Evidence {
		if x := &f.Evidence[i]; x.Capture == e.Capture && x.Frame == e.Frame {
			x.Note += "; " + e.Note
			return
		}
	}
	f.AddEvidence(e)
}

// evidence cites the first connection's telling packets.
func evidence(f *detect.Finding, ds *detect.Dataset, v *view, ctx appContext, sender, receiver string) {
	d, o := v.d(), v.peer()
	if ctx.beforeRef.Valid() {
		addEvidence(f, detect.Packet(ds, ctx.beforeRef, ctx.before+" arrived"))
	}
	if v.sender {
		what := "the stalled data"
		if ctx.request != "" {
			what = ctx.request
		}
		refs := d.HeadRefs
		for i, r := range refs {
			note := fmt.Sprintf("%s, first transmission seen", what)
			if i > 0 || d.HeadRexmits == d.HeadTx {
				note = fmt.Sprintf("%s again, %s after the first seen", what, detect.Seconds(r.Time.Sub(refs[0].Time)))
			}
			if i >= 4 && r != refs[len(refs)-1] {
				continue
			}
			addEvidence(f, detect.Packet(ds, r, note))
		}
		if d.HeadLast != refs[len(refs)-1] {
			addEvidence(f, detect.Packet(ds, d.HeadLast, fmt.Sprintf("%s, transmission %d, still not acknowledged", what, d.HeadTx)))
		}
	} else {
		addEvidence(f, detect.Packet(ds, d.HoleAt, fmt.Sprintf("the %s's packet shows sequence number %d: the %d bytes before it never arrived here", sender, d.HoleHi, d.HoleHi.Sub(d.HoleLo))))
	}
	if d.Stuck > 0 {
		addEvidence(f, detect.Packet(ds, d.StuckFirst, fmt.Sprintf("the %s still acknowledges only up to %d", receiver, d.Acked)))
	}
	if ctx.replyRef.Valid() {
		addEvidence(f, detect.Packet(ds, ctx.replyRef, fmt.Sprintf("the %s's reply: %s", receiver, ctx.reply)))
	}
	switch {
	case o.Close.Valid() && o.Close == o.RST && o.Close.Time > v.start().Time:
		addEvidence(f, detect.Packet(ds, o.Close, fmt.Sprintf("the %s resets the connection", receiver)))
	case o.Close.Valid() && o.Close.Time > v.start().Time:
		addEvidence(f, detect.Packet(ds, o.Close, fmt.Sprintf("the %s closes the connection", receiver)))
	case d.RST.Valid():
		addEvidence(f, detect.Packet(ds, d.RST, fmt.Sprintf("the %s gives up with a reset", sender)))
	}
}

// retrySchedule words the gaps between transmissions: "gaps of 203 ms,
// 204 ms, 416 ms".
func retrySchedule(refs []conn.Ref) string {
	if len(refs) < 2 {
		return "one transmission seen"
	}
	var gaps []string
	for i := 1; i < len(refs); i++ {
		gaps = append(gaps, detect.Seconds(refs[i].Time.Sub(refs[i-1].Time)))
	}
	return "gaps of " + strings.Join(gaps, ", ")
}

func retryGaps(refs []conn.Ref) string {
	var gaps []string
	for i := 1; i < len(refs); i++ {
		gaps = append(gaps, fmt.Sprintf("%.3f", refs[i].Time.Sub(refs[i-1].Time).Seconds()))
	}
	return strings.Join(gaps, ",")
}

func countOf(n int) string { return fmt.Sprint(n) }

func allOrOne(n int) string {
	if n == 1 {
		return "this connection"
	}
	return fmt.Sprintf("all %d connections", n)
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", n)
}

func ms(d time.Duration) string {
	switch {
	case d >= time.Second:
		return detect.Seconds(d)
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", d.Seconds()*1000)
	}
	return fmt.Sprintf("%.2f ms", d.Seconds()*1000)
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
