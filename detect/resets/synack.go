package resets

import (
	"fmt"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// SpuriousSYNACK reports SYN-ACKs repeated after the client acknowledged
// the first: the server never took the client's ACK (lost on the way, or
// dropped by the server itself when its accept queue is full), or
// something in between repeats it. With several vantage points it says
// where the ACK and the repeated SYN-ACK were seen and where not.
//
// A SYN-ACK that answers a retransmitted or duplicated SYN is not
// spurious: it is counted against the SYNs seen before it.
var SpuriousSYNACK = &detect.Detector{
	ID:       "handshake.spurious-synack",
	Doc:      "a SYN-ACK repeated after the handshake completed: the server never took the client's ACK; where along the path the repeat shows",
	Requires: []*detect.Observer{Observer},
	Keep:     func(r *conn.Record) bool { return r.Proto == conn.ProtoTCP && r.Handshake.SYNACKs >= 2 },
	Run:      runSpurious,
}

// minRepeat is the shortest gap between a SYN-ACK and its repeat taken as
// the server's retransmission timer (1 s on Linux, 3 s on older stacks):
// a copy within it is a duplicate made on the way, or the answer to a
// duplicated SYN.
const minRepeat = 200 * time.Millisecond

// spurious reports whether a repeated SYN-ACK came after this vantage
// point saw the client acknowledge the first one, with no SYN of its own
// to answer, on the server's timer.
func spurious(r *SYNACKRepeat) bool {
	return r.ACK.Valid() && r.N > r.SYNsBefore && r.Time.Sub(r.FirstSYNACK.Time) >= minRepeat
}

// answersSYNElsewhere reports whether another vantage point saw as many
// SYNs as SYN-ACKs by the time of the repeat: it answers a SYN (a
// retransmitted or duplicated one) that this capture did not see.
func answersSYNElsewhere(p *detect.Pass, self *detect.Dataset, r *SYNACKRepeat) bool {
	for _, ds := range p.Datasets {
		if ds == self {
			continue
		}
		if x := findRepeat(ds, r.Client, r.Server, r.Seq, r.N); x != nil && x.N <= x.SYNsBefore {
			return true
		}
	}
	return false
}

// findRepeat returns a dataset's sighting of the nth SYN-ACK of a
// connection (same endpoints and ISN).
func findRepeat(ds *detect.Dataset, client, server flow.Endpoint, seq uint32, n int) *SYNACKRepeat {
	rs := resultOf(ds).Repeats
	for i := range rs {
		if r := &rs[i]; r.Client == client && r.Server == server && r.Seq == seq && r.N == n {
			return r
		}
	}
	return nil
}

func runSpurious(p *detect.Pass) error {
	ix := indexes{}
	for _, ds := range p.Datasets {
		res := resultOf(ds)
		var order []flow.Endpoint
		groups := map[flow.Endpoint][]*SYNACKRepeat{}
		counts := map[int64]int{}
		for i := range res.Repeats {
			r := &res.Repeats[i]
			if !spurious(r) || answersSYNElsewhere(p, ds, r) {
				continue
			}
			counts[r.Stream]++
			if counts[r.Stream] > 1 {
				continue
			}
			if _, ok := groups[r.Server]; !ok {
				order = append(order, r.Server)
			}
			groups[r.Server] = append(groups[r.Server], r)
		}
		for _, srv := range order {
			p.Report(spuriousFinding(p, ix, ds, srv, groups[srv], counts))
		}
	}
	return nil
}

func spuriousFinding(p *detect.Pass, ix indexes, ds *detect.Dataset, srv flow.Endpoint, rs []*SYNACKRepeat, counts map[int64]int) detect.Finding {
	recs := byStream(ds)
	r := rs[0]
	f := detect.Finding{
		Severity:   detect.Warning,
		Affected:   len(rs),
		OutOf:      ix.of(ds).to[srv],
		Comparable: fmt.Sprintf("connections to %s", srv),
		Score:      float64(len(rs)),
		Title:      fmt.Sprintf("%s repeated its SYN-ACK after the client had acknowledged it", srv),
	}
	failed := 0
	for _, x := range rs {
		uid := ""
		rec := recs[x.Stream]
		if rec != nil {
			uid = rec.UID
			if o := detect.OutcomeOf(rec); o == detect.Reset || o == detect.Other || sideOf(rec, x.Client).Analysis.Count(tcp.Retransmission) >= 2 {
				failed++
			}
		}
		f.AddConn(connOf(ds, x.Client, x.Server, x.FirstSYNACK, uid))
	}
	if failed > 0 {
		f.Severity = detect.Error
	}
	gap := r.Time.Sub(r.FirstSYNACK.Time)
	var b strings.Builder
	fmt.Fprintf(&b, "In %s, %s sent a SYN-ACK to %s again %s after the first, although %s had already acknowledged it (%s before the repeat) and had sent no new SYN. ",
		ds.Name, srv, r.Client, detect.Seconds(gap), r.Client, detect.Seconds(r.Time.Sub(r.ACK.Time)))
	b.WriteString("A server repeats its SYN-ACK on its retransmission timer (1 s, then doubling, on Linux) while the connection is still half-open on its side: it never took the client's ACK. ")
	if len(rs) > 1 {
		fmt.Fprintf(&b, "%s to %s show the same. ", plural(len(rs), "connection", "connections"), srv)
	}
	cause := "unknown"
	var synackSeen, synackMissing []string
	where := ""
	if len(p.Datasets) > 1 {
		var sight, ackSight []sighting
		for i, other := range p.Datasets {
			s := sighting{name: other.Name, position: i, conn: len(ix.of(other).between(r.Client, srv)) > 0}
			a := sighting{name: other.Name, position: i}
			if x := findRepeat(other, r.Client, srv, r.Seq, r.N); x != nil {
				s.seen = true
				a.conn, a.seen = true, x.ACK.Valid()
			}
			sight = append(sight, s)
			ackSight = append(ackSight, a)
		}
		where, synackSeen, synackMissing = locate(sight)
		if len(synackMissing) > 0 {
			fmt.Fprintf(&b, "The repeated SYN-ACK shows at %s but never at %s, which saw the connection", joinAnd(synackSeen), joinAnd(synackMissing))
			if where != "" {
				fmt.Fprintf(&b, ": it is lost %s", where)
			}
			b.WriteString(". ")
			f.Vantages = append(f.Vantages, fmt.Sprintf("the repeated SYN-ACK shows at %s, not at %s", joinAnd(synackSeen), joinAnd(synackMissing)))
		}
		ackWhere, ackSeen, ackMissing := locate(ackSight)
		switch {
		case len(ackMissing) > 0 && ackWhere != "":
			cause = "ack lost"
			f.AddFact("ack_lost", ackWhere)
			fmt.Fprintf(&b, "The client's ACK shows at %s but not at %s: it was lost %s, so the server, still waiting for it, repeated its SYN-ACK. ", joinAnd(ackSeen), joinAnd(ackMissing), ackWhere)
			f.Vantages = append(f.Vantages, fmt.Sprintf("the client's ACK shows at %s, not at %s", joinAnd(ackSeen), joinAnd(ackMissing)))
		case len(ackSeen) > 0 && len(ackMissing) == 0:
			cause = "ack ignored"
			last := ackSeen[len(ackSeen)-1]
			fmt.Fprintf(&b, "The client's ACK shows at every capture point that saw the repeat, the last being %s, yet the server repeated its SYN-ACK: the ACK reached it and its TCP did not take it. ", last)
		}
	} else if atServer(ds, r) {
		cause = "ack ignored"
		b.WriteString("This capture was taken on the server (its packets leave with their initial TTL) and shows the client's ACK arriving: the server's TCP did not take it. ")
	}
	switch cause {
	case "ack ignored":
		b.WriteString("Linux drops the final ACK of a handshake when the listening socket's accept queue is full (the application does not accept connections fast enough; net.ipv4.tcp_abort_on_overflow=0) and retransmits its SYN-ACK later; a host firewall dropping the ACK looks the same. " +
			"The client meanwhile believes the connection open and sends data the server cannot take: its first request stalls until the server takes the connection, or for good.")
	case "unknown":
		b.WriteString("Either the ACK was lost between here and the server, or it reached the server and was dropped there (a full accept queue: Linux drops the last ACK of a handshake when the application does not accept fast enough; or a host firewall). A capture at the server tells which.")
	}
	if rec := recs[r.Stream]; rec != nil {
		cl := sideOf(rec, r.Client)
		if n := cl.Analysis.Count(tcp.Retransmission); n > 0 {
			end := "then completed normally"
			switch o := detect.OutcomeOf(rec); o {
			case detect.Completed:
			case detect.Reset:
				end = "was then reset"
			case detect.OpenAtEnd:
				end = "was still open when the capture ended"
			default:
				end = "did not complete normally"
			}
			fmt.Fprintf(&b, " Afterwards the client retransmitted %s; the connection %s.", plural(int(n), "segment", "segments"), end)
		}
	}
	f.Explanation = strings.TrimSpace(b.String())

	f.AddEvidence(detect.Packet(ds, r.Ref, fmt.Sprintf("SYN-ACK repeated %s after the first, with no new SYN to answer", detect.Seconds(gap))))
	f.AddEvidence(detect.Packet(ds, r.ACK, "the client's ACK of the first SYN-ACK: the handshake is complete at this point"))
	f.AddEvidence(detect.Packet(ds, r.FirstSYNACK, "the first SYN-ACK"))
	f.AddFact("server", srv.String())
	f.AddFact("client", r.Client.String())
	f.AddFact("repeats", fmt.Sprint(counts[r.Stream]))
	f.AddFact("repeat_after_s", secs(gap))
	f.AddFact("cause", cause)
	if len(synackSeen) > 0 {
		f.AddFact("repeat_seen_at", strings.Join(synackSeen, ","))
	}
	if len(synackMissing) > 0 {
		f.AddFact("repeat_missing_at", strings.Join(synackMissing, ","))
	}
	if where != "" {
		f.AddFact("repeat_lost", where)
	}
	queue := fmt.Sprintf("On %s, check the listening socket's accept queue: ss -ltn 'sport = :%d' (Recv-Q against Send-Q, the backlog) and nstat -az TcpExtListenOverflows TcpExtListenDrops; if they grow, raise the application's listen backlog and net.core.somaxconn, and fix what makes it accept slowly (a busy accept loop; an old xinetd had such a bug).", srv.Addr, srv.Port)
	hostFW := fmt.Sprintf("Check the host firewall on %s for dropped packets of established connections (iptables -L -v -n counters, conntrack -S).", srv.Addr)
	both := "Capture on both ends at the same time and compare: an ACK seen leaving the client and never arriving is lost on the path; a repeated SYN-ACK that leaves the server and never arrives is dropped by a stateful firewall that considers the connection established."
	switch cause {
	case "ack lost":
		f.NextSteps = []string{
			"Find what drops the client's ACK " + strings.TrimPrefix(f.Fact("ack_lost"), "") + ": interface errors and drop counters along that stretch, a firewall or rate limit that drops bare ACKs.",
			both,
		}
	case "ack ignored":
		f.NextSteps = []string{queue, hostFW}
		if len(synackMissing) > 0 {
			f.NextSteps = append(f.NextSteps, fmt.Sprintf("Check the stateful firewall %s: it drops the repeated SYN-ACK of a connection it already considers established.", where))
		}
	default:
		f.NextSteps = []string{both, queue, hostFW}
	}
	return f
}

// atServer reports whether the capture was taken on the server: its
// SYN-ACK carries an initial TTL, not one decremented by routers.
func atServer(ds *detect.Dataset, r *SYNACKRepeat) bool {
	return r.TTL != 0 && int(r.TTL) == initialTTL(r.TTL)
}
