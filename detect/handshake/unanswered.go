package handshake

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
)

// Unanswered reports SYNs retried and never answered at all: silently
// dropped by a firewall, or sent to a host that is down.
var Unanswered = &detect.Detector{
	ID:   "handshake.unanswered",
	Doc:  "SYNs retried and never answered (firewall DROP or host down): which service, the retry schedule, how the client gave up",
	Keep: unanswered,
	Run:  runUnanswered,
}

// unanswered: the originator sent SYNs (and at most a reset when it gave
// up) and the responder nothing at all, and no ICMP error came back (that
// is icmp-unreachable). An originator that goes on to ACK or send data got
// a SYN-ACK this capture did not see: a one-sided view, not silence.
func unanswered(r *conn.Record) bool {
	if r.Proto != conn.ProtoTCP || r.Handshake.SYNs == 0 || r.Handshake.SYNACKs > 0 || r.Resp.Packets > 0 || r.ICMPErrorCount > 0 {
		return false
	}
	onlySYNs := int64(r.Handshake.SYNs)
	if r.Orig.RST.Valid() {
		onlySYNs++
	}
	return !r.Orig.FirstData.Valid() && !r.Handshake.ACK.Valid() && r.Orig.Packets <= onlySYNs
}

// answeredElsewhere reports whether another capture of the path saw the
// responder answer this connection: then its SYNs were answered and the
// answer did not reach this vantage point (path.lost tells where).
func answeredElsewhere(p *detect.Pass, self *detect.Dataset, r *conn.Record) bool {
	for _, ds := range p.Datasets {
		if ds == self {
			continue
		}
		for i := range ds.Briefs {
			b := &ds.Briefs[i]
			if b.Orig.Addr == r.ID.OrigH && b.Orig.Port == r.ID.OrigP && b.Resp.Addr == r.ID.RespH && b.Resp.Port == r.ID.RespP && b.RespPkts > 0 {
				return true
			}
		}
	}
	return false
}

func runUnanswered(p *detect.Pass) error {
	for _, ds := range p.Datasets {
		var hit []*conn.Record
		for _, r := range ds.Conns {
			if unanswered(r) && !answeredElsewhere(p, ds, r) {
				hit = append(hit, r)
			}
		}
		order, groups := detect.ByServer(hit)
		for _, srv := range order {
			recs := groups[srv]
			outOf := detect.CountTo(ds, conn.ProtoTCP, srv)
			f := detect.Finding{
				Severity:   detect.Error,
				Title:      fmt.Sprintf("SYNs to %s were never answered", srv),
				Affected:   len(recs),
				OutOf:      outOf,
				Comparable: fmt.Sprintf("connections to %s", srv),
				Score:      float64(len(recs)),
			}
			syns, schedule, gaveUp := 0, "", map[string]int{}
			for i, r := range recs {
				syns += r.Handshake.SYNs
				times := synTimes(r)
				if i == 0 {
					schedule = retrySchedule(times)
				}
				gaveUp[howGaveUp(r, times)]++
				f.AddConn(detect.ConnOf(ds, r))
			}
			first := recs[0]
			times := synTimes(first)
			for j, t := range times {
				note := "first SYN"
				if j > 0 {
					note = fmt.Sprintf("SYN retry %d, %s after the first", j, detect.Seconds(t.Time.Sub(times[0].Time)))
				}
				f.AddEvidence(detect.Packet(ds, t, note))
			}
			var how []string
			for k, n := range gaveUp {
				if len(gaveUp) == 1 {
					how = append(how, k)
				} else {
					how = append(how, fmt.Sprintf("%d %s", n, k))
				}
			}
			slices.Sort(how)
			f.Explanation = fmt.Sprintf("In %s, %s to %s sent %d SYNs in all and got no answer of any kind: no SYN-ACK, no reset, no ICMP error. "+
				"The client retried on a back-off schedule (%s) and then %s. Silence, rather than a reset or an ICMP error, is the signature of a "+
				"firewall that drops (iptables DROP, a security group without the rule) or of a host or route that is down.",
				ds.Name, detect.Plural(len(recs), "connection"), srv, syns, schedule, strings.Join(how, ", "))
			if outOf > len(recs) {
				f.Explanation += fmt.Sprintf(" Other connections to %s in the same capture did get answered, so the service is up: suspect a rule that matches only some clients, ports or times.", srv)
			}
			f.AddFact("server", srv.String())
			f.AddFact("syns", fmt.Sprint(syns))
			f.AddFact("retry_schedule_s", schedule)
			f.NextSteps = []string{
				fmt.Sprintf("Check firewalls and security groups between the client and %s for a DROP rule on port %d (iptables -L -v -n shows the counters that grow).", srv.Addr, srv.Port),
				fmt.Sprintf("Capture on %s itself (or its last hop): if the SYNs arrive there unanswered, the host's own firewall or a listen backlog is at fault; if they do not arrive, the path drops them.", srv.Addr),
				fmt.Sprintf("Check the route to %s and that the host is up (ping, arp -n on the last router).", srv.Addr),
			}
			p.Report(f)
		}
	}
	return nil
}

// synTimes returns the frames of the SYNs the record kept as evidence.
func synTimes(r *conn.Record) []conn.Ref {
	var out []conn.Ref
	for _, e := range r.Evidence {
		if e.Kind == conn.EvSYN && e.From == conn.OrigRole {
			out = append(out, e.Ref)
		}
	}
	if len(out) == 0 && r.Handshake.SYN.Valid() {
		out = append(out, r.Handshake.SYN)
	}
	return out
}

// retrySchedule writes the gaps between successive SYNs, e.g. "1.0 s,
// 2.0 s, 4.0 s", or says there was no retry.
func retrySchedule(times []conn.Ref) string {
	if len(times) < 2 {
		return "no retry seen"
	}
	var gaps []string
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, detect.Seconds(times[i].Time.Sub(times[i-1].Time)))
	}
	return "gaps of " + strings.Join(gaps, ", ")
}

// howGaveUp says how a client stopped trying.
func howGaveUp(r *conn.Record, times []conn.Ref) string {
	if r.Orig.RST.Valid() {
		return "gave up with a reset"
	}
	if len(times) > 0 {
		quiet := r.EndTime.Sub(times[len(times)-1].Time)
		if r.Ended == conn.EndCapture && quiet < 3*time.Second {
			return "were still trying when the capture ended"
		}
	}
	return "gave up silently"
}
