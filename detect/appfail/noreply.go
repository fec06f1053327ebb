package appfail

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// NoReply reports requests that were never answered.
var NoReply = &detect.Detector{
	ID:       "app.no-reply",
	Doc:      "requests never answered (RPC calls, DNS queries, HTTP requests, FTP commands, TLS ClientHellos), per server, with whether the transport answered (TCP acknowledged, ICMP error, nothing at all) and how the client gave up",
	Requires: []*detect.Observer{Transport},
	Run:      runNoReply,
}

// MinWait is the least time a request must have gone unanswered, before
// the client gave up or the capture ended, to count: a capture that stops
// right after a request says nothing about its answer. It grows to three
// times the slowest answer the same operation got from the same server.
const MinWait = time.Second

// unanswered is one request that got no reply, with what the transport
// said about it.
type unanswered struct {
	x        txn
	wait     time.Duration
	gaveUp   conn.Ref // the client's FIN or RST, if it closed
	reset    bool
	acked    conn.Ref // TCP: the server's ACK covering the request
	retrans  int      // TCP: the client's retransmitted segments
	icmp     *ICMPView
	answered bool // UDP: the server sent this client other datagrams on the exchange
	lastTry  capture.Time
}

func runNoReply(p *detect.Pass) error {
	views := make([]*view, len(p.Datasets))
	for i, ds := range p.Datasets {
		views[i] = newView(ds)
	}
	for i, v := range views {
		slowest := slowestAnswers(v)
		type key struct {
			protocol string
			server   flow.Endpoint
		}
		var order []key
		groups := map[key][]unanswered{}
		for _, x := range v.txns {
			if x.t.Status != app.StatusNoReply || x.t.RequestAt.Frame == 0 {
				continue
			}
			u, ok := examine(v, x)
			// A datagram sent three times was given up on by the client's
			// own timer, however soon the capture ended.
			retried := x.udp() && retries(x.t) >= 2
			if !ok || !retried && u.wait < max(MinWait, 3*slowest[opKey{x.t.Protocol, x.server(), x.t.Operation}]) {
				continue
			}
			if answeredElsewhere(views, i, x) {
				continue
			}
			k := key{x.t.Protocol, x.server()}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], u)
		}
		for _, k := range order {
			p.Report(noReplyFinding(v, groups[k]))
		}
	}
	return nil
}

type opKey struct {
	protocol  string
	server    flow.Endpoint
	operation string
}

// slowestAnswers returns the longest latency of each operation's answered
// requests per server.
func slowestAnswers(v *view) map[opKey]time.Duration {
	m := map[opKey]time.Duration{}
	for _, x := range v.txns {
		if x.t.Status == app.StatusOK || x.t.Status == app.StatusError {
			k := opKey{x.t.Protocol, x.server(), x.t.Operation}
			m[k] = max(m[k], x.t.Latency)
		}
	}
	return m
}

// examine says what the transport did about unanswered request x; ok is
// false when the request does not count: this capture does not see the
// server's side, or the server (or a middlebox in its name) closed or
// reset the connection first, which the close and reset findings explain.
func examine(v *view, x txn) (u unanswered, ok bool) {
	u.x = x
	req := x.t.RequestAt
	end := v.end()
	if a := x.server().Addr; a.IsMulticast() || a.Is4() && a.As4()[3] == 255 || a == netip.IPv4Unspecified() {
		return u, false // a query to a group (mDNS, LLMNR) or a broadcast: silence is the normal answer
	}
	if x.udp() {
		u.icmp = v.tr.ICMP(x.client(), x.server())
		ex := v.udpExchange(x.client(), x.server())
		u.answered = ex.answered
		u.wait = end.Sub(req.Time)
		u.lastTry = max(x.t.RequestAt.Time, ex.lastSent)
		return u, true
	}
	sv := v.stream(x)
	if sv == nil {
		return u, false
	}
	cs := sv.Side(x.client())
	ss := 1 - cs
	if sv.Packets[ss] == 0 {
		return u, false // one-sided view: the server's packets do not pass here
	}
	after := func(r conn.Ref) bool { return r.Valid() && r.Time >= req.Time }
	var clientEnd, serverEnd conn.Ref
	for _, r := range []conn.Ref{sv.FIN[cs], sv.RST[cs]} {
		if after(r) && (!clientEnd.Valid() || r.Time < clientEnd.Time) {
			clientEnd = r
		}
	}
	for _, r := range []conn.Ref{sv.FIN[ss], sv.RST[ss]} {
		if after(r) && (!serverEnd.Valid() || r.Time < serverEnd.Time) {
			serverEnd = r
		}
	}
	if serverEnd.Valid() && (!clientEnd.Valid() || serverEnd.Time <= clientEnd.Time) {
		return u, false
	}
	if d := sv.DataLast[ss]; d.Valid() && d.Time > req.Time && (!clientEnd.Valid() || d.Time <= clientEnd.Time) && !answeredAfter(v, x) {
		// The server did send something after the request, and no
		// transaction explains it: an answer the decoder could not read
		// (a service that is not what the client expected), not silence.
		return u, false
	}
	u.gaveUp, u.reset = clientEnd, clientEnd.Valid() && clientEnd == sv.RST[cs]
	if clientEnd.Valid() {
		u.wait = clientEnd.Time.Sub(req.Time)
	} else {
		u.wait = end.Sub(req.Time)
	}
	if c, known := sv.AckOf(cs, req.Frame); known {
		u.acked = c
	} else if c := sv.Covered[cs]; c.Valid() && c.Time >= req.Time && sv.DataLast[cs].Frame == req.Frame {
		u.acked = c
	}
	u.retrans = sv.Retransmits[cs]
	return u, true
}

// answeredElsewhere reports whether another capture saw x answered: then
// the reply was lost between the vantage points, which path findings
// explain.
func answeredElsewhere(views []*view, self int, x txn) bool {
	for i, v := range views {
		if i != self && v.answeredRequest(x) {
			return true
		}
	}
	return false
}

func noReplyFinding(v *view, us []unanswered) detect.Finding {
	xs := make([]txn, len(us))
	for i, u := range us {
		xs[i] = u.x
	}
	first := us[0].x
	srv := first.server()
	proto := first.t.Protocol
	var ops []string
	for _, x := range xs {
		if o := x.t.Operation; !slices.Contains(ops, o) {
			ops = append(ops, o)
		}
	}
	answeredHere, total := 0, 0
	for _, y := range v.txns {
		if y.t.Protocol == proto && y.server() == srv {
			total++
			if y.t.Status == app.StatusOK || y.t.Status == app.StatusError {
				answeredHere++
			}
		}
	}
	acked, silent, icmp, gaveUp := 0, 0, 0, 0
	for _, u := range us {
		switch {
		case u.acked.Valid():
			acked++
		case u.icmp != nil:
			icmp++
		default:
			silent++
		}
		if u.gaveUp.Valid() || retries(u.x.t) > 0 {
			gaveUp++
		}
	}
	sev := detect.Warning
	if answeredHere == 0 || gaveUp > 0 || icmp > 0 {
		sev = detect.Error
	}
	title := fmt.Sprintf("%s to %s never answered", phrase(first.t, len(us)), srv)
	if len(ops) > 1 {
		title = fmt.Sprintf("%s %s to %s never answered (%s)", label(proto), noun(proto), srv, joinAnd(ops))
	}
	if proto == "tls" {
		title = fmt.Sprintf("TLS ClientHello to %s never answered", srv)
	}
	f := detect.Finding{
		Severity:   sev,
		Title:      title,
		Affected:   len(us),
		OutOf:      total,
		Comparable: fmt.Sprintf("%s %s to %s", label(proto), noun(proto), srv),
		Score:      float64(connections(xs)),
		Key:        proto + "\x00" + srv.String(),
	}
	var b strings.Builder
	fmt.Fprintf(&b, "In %s, %s from %s to %s got no reply: ", v.ds.Name, detect.Plural(len(us), singular(noun(proto))),
		joinAnd(clients(xs)), srv)
	var reqs []string
	for i, x := range xs {
		if i == 3 {
			reqs = append(reqs, fmt.Sprintf("%d more", len(xs)-3))
			break
		}
		reqs = append(reqs, fmt.Sprintf("%s (frame %d)", x.t.Request, x.t.RequestAt.Frame))
	}
	b.WriteString(strings.Join(reqs, "; ") + ". ")
	u0 := us[0]
	switch {
	case first.udp() && icmp > 0:
		fmt.Fprintf(&b, "The transport answered instead: an ICMP %s came back from %s (frame %d). ", icmpName(u0.icmp), u0.icmp.From.Addr, u0.icmp.First.Frame)
	case first.udp() && !u0.answered && answeredHere == 0:
		fmt.Fprintf(&b, "Nothing at all came back from %s in this capture: no answer and no ICMP error. The server is down, a firewall drops the requests or the answers, or this capture sees only one direction. ", srv)
	case first.udp():
		fmt.Fprintf(&b, "No ICMP error came back, and %s answered %s in the same capture, so it is reachable: %s or %s answers were lost on the way, or the server could not answer %s. ",
			srv, plural(answeredHere, "another request", fmt.Sprintf("%d other requests", answeredHere)),
			plural(len(us), "this request", "these requests"), plural(len(us), "its", "their"), plural(len(us), "it", "them"))
	case acked == len(us):
		fmt.Fprintf(&b, "The server's TCP acknowledged %s (frame %d, %s after it was sent), so %s reached %s: the application on port %d received it and never answered. ",
			plural(len(us), "the request", "every request; the first"), u0.acked.Frame, ms(u0.acked.Time.Sub(first.t.RequestAt.Time)),
			plural(len(us), "it", "they"), srv.Addr, srv.Port)
	case acked == 0:
		fmt.Fprintf(&b, "The server's TCP never acknowledged %s", plural(len(us), "the request", "these requests"))
		if n := u0.retrans; n > 0 {
			fmt.Fprintf(&b, " (the client retransmitted %s)", plural(n, "once", strconv.Itoa(n)+" times"))
		}
		fmt.Fprintf(&b, ", although the connection was established: the requests did not reach %s, or its host stopped processing packets. ", srv.Addr)
	default:
		fmt.Fprintf(&b, "The server's TCP acknowledged %d of them, so those reached the host and the application did not answer; the other %d were never acknowledged. ", acked, len(us)-acked)
	}
	switch tries := retries(first.t) + 1; {
	case tries > 1:
		fmt.Fprintf(&b, "The client sent the %s %d times over %s and got nothing back.", singular(noun(proto)), tries, ms(u0.lastTry.Sub(first.t.RequestAt.Time)))
	case u0.gaveUp.Valid() && u0.reset:
		fmt.Fprintf(&b, "The client waited %s and then reset the connection (frame %d).", ms(u0.wait), u0.gaveUp.Frame)
	case u0.gaveUp.Valid():
		fmt.Fprintf(&b, "The client waited %s and then closed the connection (frame %d).", ms(u0.wait), u0.gaveUp.Frame)
	default:
		fmt.Fprintf(&b, "It was still unanswered when the capture ended, %s after it was sent.", ms(u0.wait))
	}
	if answeredHere > 0 && !first.udp() {
		fmt.Fprintf(&b, " %s answered %d of the %d %s %s in this capture.", srv, answeredHere, total, label(proto), noun(proto))
	}
	f.Explanation = b.String()

	for i, u := range us {
		x := u.x
		f.AddConn(v.conn(x))
		if i >= maxExamples {
			continue
		}
		f.AddEvidence(detect.Packet(v.ds, ref(x.t.RequestAt), fmt.Sprintf("%s from %s: never answered", x.t.Request, x.client())))
		if u.acked.Valid() {
			f.AddEvidence(detect.Packet(v.ds, u.acked, "the server's TCP acknowledges the request: it arrived"))
		}
		if u.icmp != nil {
			f.AddEvidence(detect.Packet(v.ds, u.icmp.First, "ICMP "+icmpName(u.icmp)+" for the request"))
		}
		if u.gaveUp.Valid() {
			f.AddEvidence(detect.Packet(v.ds, u.gaveUp, fmt.Sprintf("the client gives up after %s", ms(u.wait))))
		}
	}
	transport := "silent"
	switch {
	case acked == len(us):
		transport = "acknowledged"
	case acked > 0:
		transport = "partly acknowledged"
	case icmp > 0:
		transport = "icmp"
	case !first.udp():
		transport = "not acknowledged"
	}
	f.AddFact("protocol", proto)
	f.AddFact("server", srv.String())
	f.AddFact("operations", strings.Join(ops, ","))
	f.AddFact("count", strconv.Itoa(len(us)))
	f.AddFact("transport", transport)
	f.AddFact("wait_s", fmt.Sprintf("%.1f", u0.wait.Seconds()))
	f.NextSteps = noReplySteps(proto, srv, transport, first)
	return f
}

func icmpName(i *ICMPView) string {
	if i.V6 {
		switch i.Type {
		case 1:
			switch i.Code {
			case 4:
				return "port unreachable"
			case 1:
				return "administratively prohibited"
			}
			return "destination unreachable (code " + strconv.Itoa(int(i.Code)) + ")"
		}
		return "type " + strconv.Itoa(int(i.Type))
	}
	if i.Type == 3 {
		switch i.Code {
		case 3:
			return "port unreachable"
		case 1:
			return "host unreachable"
		case 9, 10, 13:
			return "administratively prohibited"
		}
		return "destination unreachable (code " + strconv.Itoa(int(i.Code)) + ")"
	}
	return "type " + strconv.Itoa(int(i.Type)) + " code " + strconv.Itoa(int(i.Code))
}

func noReplySteps(proto string, srv flow.Endpoint, transport string, x txn) []string {
	var s []string
	switch transport {
	case "acknowledged":
		s = append(s, fmt.Sprintf("The requests reached %s: look at the service on port %d there. Is the process alive and responsive? ss -tnp 'sport = :%d' on the server shows a Recv-Q that grows when the process stops reading; check its log at these times.", srv.Addr, srv.Port, srv.Port))
	case "not acknowledged", "partly acknowledged":
		s = append(s, fmt.Sprintf("Capture on %s (or its last hop) to see whether the requests arrive; check the firewalls between for a rule dropping established traffic to port %d (iptables -L -v -n counters) and the path for an MTU problem (large requests lost, small ones pass).", srv.Addr, srv.Port))
	case "icmp":
		s = append(s, fmt.Sprintf("Nothing listens on %s, or a firewall rejects: start the service, or point the client at the right server and port.", srv))
	default:
		s = append(s, fmt.Sprintf("Check that %s is up and its service listens (on the server: ss -ulpn, ss -tlpn), and that the firewalls pass port %d both ways.", srv, srv.Port))
	}
	switch proto {
	case "dns":
		s = append(s, fmt.Sprintf("Query the resolver directly: dig @%s %s; check that it runs (systemctl status named/unbound/systemd-resolved) and that udp/53 and tcp/53 are open to it; check the resolvers listed in /etc/resolv.conf.", srv.Addr, dnsName(x.t)))
	case "oncrpc":
		if srv.Port >= 49152 || srv.Port == 24007 || srv.Port == 24008 {
			s = append(s, fmt.Sprintf("For GlusterFS: gluster volume status shows whether the brick on %s is online and its port; the brick log is under /var/log/glusterfs/bricks/. Every client must reach glusterd (24007-24008) and every brick port (49152 and up) on every server: check the firewalls on the client, the servers and in between.", srv.Addr))
		} else {
			s = append(s, fmt.Sprintf("rpcinfo -p %s lists the RPC services and ports; check the service's log and that its port is open.", srv.Addr))
		}
	case "tls":
		s = append(s, fmt.Sprintf("Check that the service on %s speaks TLS on this port (openssl s_client -connect %s): a plain-text service, or one waiting for the client to speak another protocol first, never answers a ClientHello.", srv, srv))
	}
	return s
}

var rpcRetrans = regexp.MustCompile(`, retransmitted (\d+)x`)

// retries returns how many times the client sent the request again: a DNS
// query's extra tries, an RPC call retransmitted with its XID.
func retries(t *app.Transaction) int {
	switch t.Protocol {
	case "dns":
		return dnsTries(t) - 1
	case "oncrpc":
		if m := rpcRetrans.FindStringSubmatch(t.Request); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}

// answeredAfter reports whether some transaction on x's TCP stream got its
// reply after x was sent.
func answeredAfter(v *view, x txn) bool {
	if v.lastReply == nil {
		v.lastReply = map[int64]capture.Time{}
		for _, y := range v.txns {
			if y.t.ReplyAt.Frame != 0 && y.t.ReplyAt.Time > v.lastReply[y.stream] {
				v.lastReply[y.stream] = y.t.ReplyAt.Time
			}
		}
	}
	last, ok := v.lastReply[x.stream]
	return ok && last > x.t.RequestAt.Time
}
