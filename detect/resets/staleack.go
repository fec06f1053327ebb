package resets

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// StaleACK reports SYNs answered by a bare ACK that does not acknowledge
// them but carries the numbers of an older connection on the same
// 4-tuple: the server still holds that connection (TIME_WAIT after it
// closed first, or a half-open one) and will not open a new one.
var StaleACK = &detect.Detector{
	ID:       "handshake.stale-ack",
	Doc:      "SYN answered by a bare ACK with an older connection's numbers: the server still holds the 4-tuple (TIME_WAIT); when it closed, timestamps, what the client did next, port reuse",
	Requires: []*detect.Observer{Observer},
	Run:      runStaleACK,
}

// timeWait is how long Linux holds TIME_WAIT (TCP_TIMEWAIT_LEN, fixed).
const timeWait = 60 * time.Second

func runStaleACK(p *detect.Pass) error {
	ix := indexes{}
	for _, ds := range p.Datasets {
		res := resultOf(ds)
		var order []flow.Endpoint
		groups := map[flow.Endpoint][]*StaleConn{}
		for _, sc := range res.Stale {
			if _, ok := groups[sc.Server]; !ok {
				order = append(order, sc.Server)
			}
			groups[sc.Server] = append(groups[sc.Server], sc)
		}
		for _, srv := range order {
			p.Report(staleFinding(ix.of(ds), ds, srv, groups[srv]))
		}
	}
	return nil
}

// serverState words what the server still holds, from the old connection.
func serverState(o *OldConn) (state, why string) {
	switch {
	case o == nil:
		return "an older connection", "The capture does not show the connection that used this 4-tuple before, but the ACK number is not the SYN's: the server still holds an older connection on it (or a DDoS-mitigation device answers SYNs with a deliberately wrong ACK to make clients reset and retry)."
	case o.ServerRST || o.ClientRST:
		return "a connection that was reset", "The older connection on this 4-tuple ended with a reset, yet the server still answers for it."
	case o.FirstCloser == Server && o.ServerFIN.Valid() && o.ClientFIN.Valid():
		return "TIME_WAIT", "The server closed the older connection first, so the server holds it in TIME_WAIT (60 s on Linux, TCP_TIMEWAIT_LEN; 2×MSL elsewhere): the side that closes first keeps the 4-tuple."
	case o.FirstCloser == Server:
		return "FIN_WAIT_2", "The server closed the older connection and the client never sent its FIN, so the server still holds it (FIN_WAIT_2)."
	case o.FirstCloser == Client && o.ServerFIN.Valid():
		return "LAST_ACK", "The client closed the older connection first, so the client held TIME_WAIT; the server still holds it, so the acknowledgement of its FIN did not reach it (LAST_ACK)."
	case o.FirstCloser == Client:
		return "CLOSE_WAIT", "The client closed the older connection and the server never sent its FIN: the server application still has it open (CLOSE_WAIT)."
	}
	return "ESTABLISHED", "The older connection on this 4-tuple was never closed: the server still has it established while the client has forgotten it (restarted, or a NAT gave the port to another connection); the bare ACK is an RFC 5961 challenge ACK."
}

// clientNext says what the client did after the bare ACKs.
func clientNext(sc *StaleConn, state string) (text, short string) {
	var parts []string
	answered := slices.ContainsFunc(sc.ClientRSTs, func(r ClientRST) bool { return r.AnswersACK })
	if answered {
		w := "answered a bare ACK with a RST whose sequence number is the ACK's acknowledgment number, as RFC 793 tells a SYN-SENT socket to"
		if state == "TIME_WAIT" {
			w += " (on Linux that RST ends the server's TIME_WAIT unless net.ipv4.tcp_rfc1337=1)"
		} else {
			w += " (it resets the connection the server still held)"
		}
		parts = append(parts, w)
	}
	if sc.SYNCount > 1 {
		var gaps []string
		for i := 1; i < len(sc.SYNs); i++ {
			gaps = append(gaps, detect.Seconds(sc.SYNs[i].Time.Sub(sc.SYNs[i-1].Time)))
		}
		w := fmt.Sprintf("sent %d SYNs in all", sc.SYNCount)
		if len(gaps) > 0 {
			w += " (" + strings.Join(gaps, ", ") + " apart)"
		}
		parts = append(parts, w)
	}
	switch {
	case sc.SYNACK.Valid():
		w := fmt.Sprintf("got a SYN-ACK %s after its first SYN", detect.Seconds(sc.SYNACK.Time.Sub(sc.FirstSYN.Time)))
		if sc.Established {
			w += " and connected that much late"
		}
		parts = append(parts, w)
		short = "connected late"
	case len(sc.ClientRSTs) > 0 && !sc.ClientRSTs[len(sc.ClientRSTs)-1].AnswersACK:
		parts = append(parts, "gave up with a RST")
		short = "gave up with a RST"
	default:
		parts = append(parts, "got no SYN-ACK")
		short = "never connected"
	}
	return joinAnd(parts), short
}

func staleFinding(in *index, ds *detect.Dataset, srv flow.Endpoint, scs []*StaleConn) detect.Finding {
	sc := scs[0]
	failed := 0
	for _, s := range scs {
		if !s.SYNACK.Valid() {
			failed++
		}
	}
	f := detect.Finding{
		Severity:   detect.Warning,
		Affected:   len(scs),
		OutOf:      in.to[srv],
		Comparable: fmt.Sprintf("connections to %s", srv),
		Score:      float64(len(scs)),
	}
	if failed > 0 {
		f.Severity = detect.Error
	}
	for _, s := range scs {
		f.AddConn(connOf(ds, s.Client, s.Server, s.FirstSYN, ""))
	}
	old := sc.Old
	state, why := serverState(old)
	f.Title = fmt.Sprintf("SYNs to %s answered by bare ACKs of an older connection: the server still holds the 4-tuple (%s)", srv, state)
	if state == "an older connection" {
		f.Title = fmt.Sprintf("SYNs to %s answered by bare ACKs of an older connection on the same 4-tuple", srv)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "In %s, %s opened a connection from %s to %s", ds.Name, sc.Client.Addr, sc.Client, srv)
	ago := time.Duration(-1)
	if old != nil && old.Last.Valid() {
		ago = sc.FirstSYN.Time.Sub(old.Last.Time)
		fmt.Fprintf(&b, ", reusing the 4-tuple of a connection whose last packet was %s earlier", detect.Seconds(ago))
	}
	answered := "its SYN was"
	switch {
	case sc.SYNCount > 1 && sc.ACKCount >= sc.SYNCount:
		answered = fmt.Sprintf("each of its %d SYNs was", sc.SYNCount)
	case sc.SYNCount > 1:
		answered = fmt.Sprintf("%d of its %d SYNs %s", sc.ACKCount, sc.SYNCount, map[bool]string{true: "was", false: "were"}[sc.ACKCount == 1])
	}
	fmt.Fprintf(&b, "; %s answered not by a SYN-ACK but by a bare ACK acknowledging %d, not the SYN's %d.", answered, sc.ACKAck, sc.SYNSeq+1)
	oldNumbers := old != nil && old.HaveClientEnd && sc.ACKAck == old.ClientEnd
	if oldNumbers {
		b.WriteString(" That is exactly where the older connection's client side ended (the next sequence number it would have sent): the server is answering for the old connection.")
	}
	b.WriteString(" " + why)
	if state == "TIME_WAIT" && ago > timeWait {
		fmt.Fprintf(&b, " The reuse came %s after the close, later than Linux keeps TIME_WAIT (60 s): the server is not Linux (Windows keeps it 240 s by default, TcpTimedWaitDelay) or its clock for it is longer.", detect.Seconds(ago))
	}

	// Timestamps and the ISN decide whether Linux accepts the reuse.
	synTS := sc.SYNTimestamps
	srvTS := sc.ACKHasTS || old != nil && old.ServerTS&1 != 0
	below := int32(sc.ACKAck - sc.SYNSeq)
	tsWord := "neither"
	switch {
	case synTS && srvTS:
		tsWord = "both"
	case synTS:
		tsWord = "client only"
	case srvTS:
		tsWord = "server only"
	}
	if state == "TIME_WAIT" {
		switch {
		case synTS && srvTS:
			b.WriteString(" Both sides use TCP timestamps, so Linux would take the SYN as a new connection if its TSval were newer than the last the old connection carried (RFC 6191); it was not: the client's timestamp clock differs from the old connection's (another host behind the same SNAT address, or per-connection timestamp offsets).")
		case below > 0:
			where := map[string]string{"neither": "either side", "client only": "the server's side", "server only": "the client's side"}[tsWord]
			fmt.Fprintf(&b, " There are no TCP timestamps on %s, so Linux can accept a SYN for a tuple in TIME_WAIT only if its ISN is above the old connection's RCV.NXT; this ISN is %d below it, so the server answers with the old connection's ACK instead.",
				where, below)
		default:
			fmt.Fprintf(&b, " Its ISN is %d above the old connection's RCV.NXT, which a Linux server would accept even without timestamps: the server is not Linux or does not treat this tuple as reusable.", -below)
		}
	}
	next, short := clientNext(sc, state)
	fmt.Fprintf(&b, " The client then %s.", next)
	if len(scs) > 1 {
		fmt.Fprintf(&b, " %s to %s show the same (%d never connected).", plural(len(scs), "connection", "connections"), srv, failed)
	}
	reuse := portReuse(in, sc.Client.Addr, srv)
	b.WriteString(" " + reuse.text)
	f.Explanation = b.String()

	// Evidence: the old close, the reused SYN, the stale ACK, what followed.
	if old != nil {
		switch {
		case old.FirstCloser == Server && old.ServerFIN.Valid():
			f.AddEvidence(detect.Packet(ds, old.ServerFIN, "the server closes the older connection first: it will hold TIME_WAIT"))
		case old.ClientFIN.Valid():
			f.AddEvidence(detect.Packet(ds, old.ClientFIN, "the client closes the older connection first"))
		}
		if old.Last.Valid() {
			f.AddEvidence(detect.Packet(ds, old.Last, "the older connection's last packet"))
		}
	}
	firstSYN := sc.FirstSYN
	if len(sc.SYNs) > 0 {
		firstSYN = sc.SYNs[0]
	}
	note := "SYN reusing the 4-tuple"
	if ago >= 0 {
		note += fmt.Sprintf(" %s after the older connection's last packet", detect.Seconds(ago))
	}
	if below > 0 {
		note += fmt.Sprintf(", ISN %d below the old RCV.NXT", below)
	}
	if !synTS {
		note += ", no timestamps"
	}
	f.AddEvidence(detect.Packet(ds, firstSYN, note))
	f.AddEvidence(detect.Packet(ds, sc.ACKs[0], fmt.Sprintf("bare ACK with the older connection's numbers (ack %d) instead of a SYN-ACK", sc.ACKAck)))
	for i := 1; i < len(sc.SYNs) && i < 4; i++ {
		f.AddEvidence(detect.Packet(ds, sc.SYNs[i], fmt.Sprintf("SYN retry %d", i)))
		if i < len(sc.ACKs) {
			f.AddEvidence(detect.Packet(ds, sc.ACKs[i], "answered by the same bare ACK"))
		}
	}
	for _, r := range sc.ClientRSTs {
		n := "the client's RST"
		if r.AnswersACK {
			n = "the client's RST answering the bare ACK (seq = its ack)"
		}
		f.AddEvidence(detect.Packet(ds, r.Ref, n))
	}
	if sc.SYNACK.Valid() {
		f.AddEvidence(detect.Packet(ds, sc.SYNACK, "the SYN-ACK that finally came"))
	}
	// The evidence tells a story: in capture order.
	slices.SortStableFunc(f.Evidence, func(a, b detect.Evidence) int { return cmp.Compare(a.Frame, b.Frame) })

	f.AddFact("server", srv.String())
	f.AddFact("client", sc.Client.String())
	f.AddFact("server_state", state)
	if ago >= 0 {
		f.AddFact("closed_ago_s", secs(ago))
	}
	if old != nil {
		by := old.FirstCloser.String()
		if old.FirstCloser == Unknown {
			by = "none"
		}
		f.AddFact("closed_first_by", by)
	}
	f.AddFact("old_numbers", fmt.Sprint(oldNumbers))
	f.AddFact("syns", fmt.Sprint(sc.SYNCount))
	f.AddFact("stale_acks", fmt.Sprint(sc.ACKCount))
	f.AddFact("isn_below_rcv_nxt", fmt.Sprint(below))
	f.AddFact("timestamps", tsWord)
	f.AddFact("client_next", short)
	f.AddFact("reuses_within_timewait", fmt.Sprint(reuse.withinTW))

	steps := []string{}
	if state == "TIME_WAIT" || state == "an older connection" {
		if tsWord != "both" {
			steps = append(steps, "Keep TCP timestamps on end to end (net.ipv4.tcp_timestamps=1 on both hosts, and on any proxy or load balancer in between, some of which strip them): with timestamps on both sides Linux accepts a SYN for a 4-tuple in TIME_WAIT when its TSval is newer (RFC 6191).")
		}
		steps = append(steps,
			fmt.Sprintf("net.ipv4.tcp_tw_reuse does not help here: it lets the side that connects reuse its own TIME_WAIT tuples (client side only, and only with timestamps); on the server %s it has no effect on incoming SYNs.", srv.Addr),
			fmt.Sprintf("If %s is a proxy, load balancer or NAT with a SNAT pool, enlarge the pool (more addresses or ports) or make it avoid tuples it used in the last 60 s: a pool of N ports can open only about N/60 connections per second to one server before it must reuse a tuple the server holds in TIME_WAIT.", sc.Client.Addr),
			"Let the client close first (it then holds TIME_WAIT itself) or reuse connections (HTTP keep-alive): every request on its own connection multiplies the tuples the server holds in TIME_WAIT.",
			"Do not look for net.ipv4.tcp_tw_recycle: it was removed in Linux 4.12 because it dropped SYNs from clients behind NAT (its per-host timestamp check cannot work with per-connection timestamp offsets).",
		)
	} else {
		steps = append(steps,
			fmt.Sprintf("Find why %s still holds the older connection (%s): ss -tan state %s '( sport = :%d )' on the server.", srv.Addr, state, strings.ToLower(strings.ReplaceAll(state, "_", "-")), srv.Port),
			fmt.Sprintf("If a NAT or SNAT pool gives %s's ports to new connections while the server still holds the old ones, make its mapping timeout longer than the server's, or enable TCP keep-alive so dead connections are cleaned up.", sc.Client.Addr),
		)
	}
	f.NextSteps = steps
	return f
}

type reuseInfo struct {
	text     string
	withinTW int
}

// portReuse describes how the client reuses ports towards the server:
// connections, distinct ports, and reuses of a 4-tuple within TIME_WAIT of
// a connection the server closed first.
func portReuse(in *index, client netip.Addr, srv flow.Endpoint) reuseInfo {
	byPort := map[uint16][]*detect.Brief{}
	n := 0
	for _, b := range in.clientTo[clientService{client, srv}] {
		byPort[b.Orig.Port] = append(byPort[b.Orig.Port], b)
		n++
	}
	within, quickest := 0, time.Duration(-1)
	for _, bs := range byPort {
		slices.SortFunc(bs, func(a, b *detect.Brief) int { return cmp.Compare(a.Start, b.Start) })
		for i := 1; i < len(bs); i++ {
			prev := bs[i-1]
			gap := bs[i].Start.Sub(prev.End)
			if prev.ClosedBy == conn.RespRole && prev.CloseHow == conn.ByFIN && gap < timeWait {
				within++
				if quickest < 0 || gap < quickest {
					quickest = gap
				}
			}
		}
	}
	r := reuseInfo{withinTW: within}
	if within == 0 {
		r.text = fmt.Sprintf("%s made %s to %s from %s here.", client, plural(n, "connection", "connections"), srv, plural(len(byPort), "port", "ports"))
		return r
	}
	r.text = fmt.Sprintf("%s made %s to %s from %s; %d reused a 4-tuple less than 60 s after the server had closed it first (the quickest after %s). "+
		"A client that picks source ports this way — a load balancer or NAT with a SNAT pool (an F5 with a SNAT pool is a known case), or a client binding fixed ports — "+
		"keeps landing on tuples the server holds in TIME_WAIT.",
		client, plural(n, "connection", "connections"), srv, plural(len(byPort), "port", "ports"), within, detect.Seconds(quickest))
	return r
}
