package pmtu

import (
	"fmt"
	"strings"

	"net/netip"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Blackhole reports path MTU blackholes: full-size segments retransmitted
// and never acknowledged while smaller ones get through.
var Blackhole = &detect.Detector{
	ID: "path.pmtu-blackhole",
	Doc: "full-size segments retransmitted and never acknowledged while small ones pass: a link with a smaller MTU whose ICMP " +
		"fragmentation-needed / packet-too-big is filtered; the MSS on each side, the largest size that got through, where the big packets vanish",
	Requires: []*detect.Observer{Segments},
	Keep:     keep,
	Run:      run,
}

// keep asks for the records of TCP connections with retransmissions,
// missing segments or ICMP errors: the candidates' MSS and ICMP come from
// them.
func keep(r *conn.Record) bool {
	if r.Proto != conn.ProtoTCP {
		return false
	}
	if r.ICMPErrorCount > 0 {
		return true
	}
	if !r.Annotated {
		return false
	}
	n := r.Orig.Analysis.Count(tcp.Retransmission) + r.Resp.Analysis.Count(tcp.Retransmission) +
		r.Orig.Analysis.Count(tcp.LostSegment) + r.Resp.Analysis.Count(tcp.LostSegment)
	return n > 0
}

func result(ds *detect.Dataset) *Result {
	r, _ := ds.Result(Segments).(*Result)
	return r
}

// judged is a candidate with its record, confirmed.
type judged struct {
	*Candidate
	rec               *conn.Record
	sndMSS, rcvMSS    int // 0: not seen
	icmp              *conn.ICMPError
	sight             string // where the big packets appear along the path
	lostBetween       string
	senderIsResponder bool
}

func run(p *detect.Pass) error {
	// Connections some capture saw from the sender's side: receiver views
	// of them elsewhere are not reported (the sender's view says more).
	senderSeen := map[[2]flow.Endpoint]bool{}
	var all [][]*judged
	for _, ds := range p.Datasets {
		var js []*judged
		r := result(ds)
		if r != nil {
			byStream := map[int64]*conn.Record{}
			for _, rec := range ds.Conns {
				if rec.Annotated {
					byStream[rec.Stream] = rec
				}
			}
			for _, cd := range r.Candidates {
				if j := confirm(cd, byStream[cd.Stream], r); j != nil {
					js = append(js, j)
					if j.View != ReceiverView {
						senderSeen[[2]flow.Endpoint{cd.Sender, cd.Receiver}] = true
					}
				}
			}
		}
		all = append(all, js)
	}
	for i, ds := range p.Datasets {
		type key struct {
			view   View
			sender flow.Endpoint
		}
		var order []key
		groups := map[key][]*judged{}
		for _, j := range all[i] {
			if j.View == ReceiverView && senderSeen[[2]flow.Endpoint{j.Sender, j.Receiver}] {
				continue
			}
			sightings(p, j)
			k := key{j.View, j.Sender}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], j)
		}
		for _, k := range order {
			p.Report(finding(ds, groups[k]))
		}
	}
	return nil
}

// confirm checks a candidate against its connection record: ICMP errors,
// MSS, and for the receiver view that the sender never got a full-size
// packet through.
func confirm(cd *Candidate, rec *conn.Record, r *Result) *judged {
	j := &judged{Candidate: cd, rec: rec}
	if rec != nil {
		snd, rcv := &rec.Orig, &rec.Resp
		role := conn.OrigRole
		if rec.ID.RespH == cd.Sender.Addr && rec.ID.RespP == cd.Sender.Port {
			snd, rcv, role = rcv, snd, conn.RespRole
			j.senderIsResponder = true
		}
		if snd.Options.HasMSS {
			j.sndMSS = int(snd.Options.MSS)
		}
		if rcv.Options.HasMSS {
			j.rcvMSS = int(rcv.Options.MSS)
		}
		for i := range rec.ICMPErrors {
			e := &rec.ICMPErrors[i]
			if e.About == role && (!e.V6 && e.Type == 3 && e.Code == 4 || e.V6 && e.Type == 2) {
				j.icmp = e
				break
			}
		}
	}
	switch cd.View {
	case SenderView:
		if cd.BeyondIPLen == 0 && j.icmp == nil {
			return nil // nothing smaller seen to pass after: could be any stall
		}
	case Recovered:
	case ReceiverView:
		if j.rcvMSS == 0 {
			return nil
		}
		full := j.full()
		if cd.MaxSent >= full || r.HostMax[[2]netip.Addr{cd.Sender.Addr, cd.Receiver.Addr}] >= full {
			return nil
		}
	}
	return j
}

// full is the IP length of a full-size segment: the smaller MSS plus the
// IP and TCP headers without options.
func (j *judged) full() int {
	mss := j.rcvMSS
	if j.sndMSS > 0 && (mss == 0 || j.sndMSS < mss) {
		mss = j.sndMSS
	}
	if mss == 0 {
		return 0
	}
	if j.V6 {
		return mss + 60
	}
	return mss + 40
}

// sightings says at which vantage points packets from the sender as large
// as the stuck ones appear, and where they vanish.
func sightings(p *detect.Pass, j *judged) {
	if len(p.Datasets) < 2 {
		return
	}
	size := j.IPLen
	if size == 0 {
		size = j.full()
	}
	if size == 0 {
		return
	}
	var seen, notSeen []string
	var marks []int // 1 seen, 0 not seen, -1 connection absent
	for _, ds := range p.Datasets {
		r := result(ds)
		m := -1
		if r != nil {
			if x, ok := r.MaxIP[[2]flow.Endpoint{j.Sender, j.Receiver}]; ok {
				m = 0
				if x >= size {
					m = 1
				}
			} else if present(ds, j.Sender, j.Receiver) {
				m = 0
				if r.HostMax[[2]netip.Addr{j.Sender.Addr, j.Receiver.Addr}] >= size {
					m = 1
				}
			}
		}
		marks = append(marks, m)
		switch m {
		case 1:
			seen = append(seen, ds.Name)
		case 0:
			notSeen = append(notSeen, ds.Name)
		}
	}
	if len(seen) == 0 || len(notSeen) == 0 {
		return
	}
	j.sight = fmt.Sprintf("Packets of %d bytes from %s appear at %s and never at %s.", size, j.Sender.Addr, strings.Join(seen, ", "), strings.Join(notSeen, ", "))
	// One boundary between seen and not seen, in path order: the packets
	// are lost between those two vantage points.
	var idx []int
	for i, m := range marks {
		if m >= 0 {
			idx = append(idx, i)
		}
	}
	changes, at := 0, -1
	for k := 1; k < len(idx); k++ {
		if marks[idx[k]] != marks[idx[k-1]] {
			changes++
			at = k
		}
	}
	if changes == 1 {
		a, b := p.Datasets[idx[at-1]].Name, p.Datasets[idx[at]].Name
		if marks[idx[at]] == 1 {
			a, b = b, a // the sender is on the far side
		}
		j.lostBetween = a + "," + b
		j.sight += fmt.Sprintf(" They are dropped between %s and %s: the link or device with the smaller MTU is there.", a, b)
	}
}

func present(ds *detect.Dataset, a, b flow.Endpoint) bool {
	for i := range ds.Briefs {
		x := &ds.Briefs[i]
		if x.Orig == a && x.Resp == b || x.Orig == b && x.Resp == a {
			return true
		}
	}
	return false
}

func mssText(n int) string {
	if n == 0 {
		return "not seen"
	}
	return fmt.Sprint(n)
}

func finding(ds *detect.Dataset, js []*judged) detect.Finding {
	j := js[0]
	f := detect.Finding{Severity: detect.Error, Affected: len(js), Score: float64(len(js))}
	if j.View == Recovered {
		f.Severity = detect.Warning
	}
	if j.senderIsResponder {
		f.OutOf = detect.CountTo(ds, conn.ProtoTCP, j.Sender)
		f.Comparable = fmt.Sprintf("connections to %s", j.Sender)
	} else {
		for i := range ds.Briefs {
			if b := &ds.Briefs[i]; b.Proto == conn.ProtoTCP && b.Orig.Addr == j.Sender.Addr {
				f.OutOf++
			}
		}
		f.Comparable = fmt.Sprintf("connections from %s", j.Sender.Addr)
	}
	f.OutOf = max(f.OutOf, f.Affected)
	for _, x := range js {
		if x.rec != nil {
			f.AddConn(detect.ConnOf(ds, x.rec))
		}
	}
	others := ""
	if len(js) > 1 {
		others = fmt.Sprintf(" The same happened on %d more connections from %s.", len(js)-1, j.Sender)
	}
	icmpText := "No ICMP fragmentation-needed or packet-too-big quoting this connection was seen here."
	if j.icmp != nil {
		icmpText = fmt.Sprintf("An ICMP %s from %s (next-hop MTU %d) quoting this connection was seen here at %s, yet %s kept sending %d-byte packets: "+
			"the message does not reach the sender, or the sender ignores it (a host firewall dropping ICMP, a NAT or load balancer that does not forward it).",
			icmpName(j.icmp), j.icmp.From, j.icmp.MTU, clock(j.icmp.Time), j.Sender.Addr, j.IPLen)
	}
	mss := fmt.Sprintf("%s announced MSS %s and %s MSS %s", j.Sender.Addr, mssText(j.sndMSS), j.Receiver.Addr, mssText(j.rcvMSS))
	switch j.View {
	case SenderView, Recovered:
		f.Title = fmt.Sprintf("Full-size segments from %s to %s are never acknowledged while smaller ones pass: path MTU blackhole", j.Sender, j.Receiver.Addr)
		if j.View == Recovered {
			f.Title = fmt.Sprintf("Full-size segments from %s to %s stalled until resent smaller: path MTU blackhole", j.Sender, j.Receiver.Addr)
		}
		span := j.LastTx.Time.Sub(j.FirstTx.Time)
		never := "no acknowledgment ever covered it"
		if j.View == Recovered {
			never = "no acknowledgment covered it until it was sent in smaller packets"
		}
		ex := fmt.Sprintf("In %s, %s sent the segment at sequence %d to %s %d times as a %d-byte IP packet over %s (%s to %s), and %s. ",
			ds.Name, j.Sender, j.StuckSeq, j.Receiver, j.Transmissions, j.IPLen, detect.Seconds(span), clock(j.FirstTx.Time), clock(j.LastTx.Time), never)
		if j.BeyondIPLen > 0 {
			ex += fmt.Sprintf("Meanwhile a smaller %d-byte packet sent after it got through: the receiver acknowledged it by SACK at %s. ", j.BeyondIPLen, clock(j.BeyondAck.Time))
		}
		if j.MaxAcked > 0 {
			ex += fmt.Sprintf("No packet from %s larger than %d bytes was ever acknowledged on this connection. ", j.Sender.Addr, j.MaxAcked)
		} else {
			ex += fmt.Sprintf("No data packet from %s was ever acknowledged on this connection. ", j.Sender.Addr)
		}
		ex += icmpText + " " + mss + ", so packets up to " + fmt.Sprint(max(j.full(), j.IPLen)) + " bytes are allowed end to end. "
		why := "the ICMP message that should make the sender use smaller packets is filtered or never sent"
		if j.icmp != nil {
			why = "the ICMP message that should make the sender use smaller packets does not take effect"
		}
		ex += fmt.Sprintf("Small packets pass and full-size ones vanish, every time: a link on the path has an MTU below %d bytes (above %d), and %s — a PMTU blackhole.", j.IPLen, j.MaxAcked, why)
		if j.View == Recovered {
			ex += fmt.Sprintf(" The sender eventually resent the data as %d-byte packets, which were acknowledged at %s (TCP MTU probing or blackhole detection): the connection survived, stalled for %s.",
				j.FallbackIPLen, clock(j.AckedBy.Time), detect.Seconds(j.AckedBy.Time.Sub(j.FirstTx.Time)))
		} else if j.EndedBy != "" {
			ex += fmt.Sprintf(" The connection ended with a %s at %s.", j.EndedBy, clock(j.End.Time))
		}
		f.Explanation = ex
		f.AddEvidence(detect.Packet(ds, j.FirstTx, fmt.Sprintf("%d-byte segment, first sent", j.IPLen)))
		if j.LastTx != j.FirstTx {
			f.AddEvidence(detect.Packet(ds, j.LastTx, fmt.Sprintf("sent for the %s time, still unacknowledged", ordinal(j.Transmissions))))
		}
		if j.BeyondIPLen > 0 {
			f.AddEvidence(detect.Packet(ds, j.BeyondRef, fmt.Sprintf("smaller %d-byte packet after it", j.BeyondIPLen)))
			f.AddEvidence(detect.Packet(ds, j.BeyondAck, "SACK: the smaller packet arrived, the full-size one before it did not"))
		}
		if j.icmp != nil {
			f.AddEvidence(detect.Packet(ds, j.icmp.Ref, fmt.Sprintf("ICMP %s, MTU %d", icmpName(j.icmp), j.icmp.MTU)))
		}
		if j.View == Recovered {
			f.AddEvidence(detect.Packet(ds, j.AckedBy, fmt.Sprintf("acknowledged after the resend in %d-byte packets", j.FallbackIPLen)))
		} else if j.EndedBy != "" {
			f.AddEvidence(detect.Packet(ds, j.End, "the connection ends"))
		}
		f.AddFact("stuck_ip_len", fmt.Sprint(j.IPLen))
		f.AddFact("transmissions", fmt.Sprint(j.Transmissions))
	case ReceiverView:
		f.Title = fmt.Sprintf("Data from %s to %s has a hole that is never filled, and no full-size packet ever arrives: likely path MTU blackhole", j.Sender, j.Receiver.Addr)
		hole := j.HoleEnd - j.HoleStart
		ex := fmt.Sprintf("In %s, %d bytes of the data from %s to %s (sequence %d to %d) never arrived, although the data after them did (at %s), and the receiver asked for them %s. ",
			ds.Name, hole, j.Sender, j.Receiver, j.HoleStart, j.HoleEnd, clock(j.HoleAfter.Time), times(j.Asks))
		ex += fmt.Sprintf("Not one retransmission of the missing bytes arrived in the %s until the connection's end", detect.Seconds(j.End.Time.Sub(j.HoleAfter.Time)))
		if j.EndedBy != "" {
			ex += " (" + j.EndedBy + ")"
		}
		ex += ". "
		ex += fmt.Sprintf("The largest packet from %s that ever arrived here is %d bytes, though %s; a full-size segment would be a %d-byte packet. ", j.Sender.Addr, j.MaxSent, mss, j.full())
		ex += "The missing bytes were most likely full-size segments that a link with a smaller MTU drops, together with all their retransmissions, while smaller packets pass: a PMTU blackhole seen from the receiving side. " +
			"A capture at the sender would show the full-size segments being retransmitted."
		f.Explanation = ex
		f.AddEvidence(detect.Packet(ds, j.HoleAfter, fmt.Sprintf("data after %d missing bytes", hole)))
		if j.MaxSentRef.Valid() && j.MaxSentRef != j.HoleAfter {
			f.AddEvidence(detect.Packet(ds, j.MaxSentRef, fmt.Sprintf("the largest packet from %s seen: %d bytes", j.Sender.Addr, j.MaxSent)))
		}
		if j.EndedBy != "" {
			f.AddEvidence(detect.Packet(ds, j.End, "the connection ends, the hole still open"))
		}
		f.AddFact("hole_bytes", fmt.Sprint(hole))
		f.AddFact("view", "receiver")
	}
	if j.sight != "" {
		f.Explanation += " " + j.sight
	}
	f.Explanation += others
	f.AddFact("sender", j.Sender.String())
	f.AddFact("receiver", j.Receiver.String())
	f.AddFact("largest_acked_ip_len", fmt.Sprint(j.MaxAcked))
	f.AddFact("largest_seen_ip_len", fmt.Sprint(j.MaxSent))
	f.AddFact("mss_sender", mssText(j.sndMSS))
	f.AddFact("mss_receiver", mssText(j.rcvMSS))
	if j.icmp != nil {
		f.AddFact("icmp", fmt.Sprintf("%s from %s mtu %d", icmpName(j.icmp), j.icmp.From, j.icmp.MTU))
	} else {
		f.AddFact("icmp", "none")
	}
	if j.lostBetween != "" {
		f.AddFact("lost_between", j.lostBetween)
	}
	f.NextSteps = nextSteps(j)
	return f
}

func nextSteps(j *judged) []string {
	size := max(j.IPLen, j.full())
	payload := size - 28
	if j.V6 {
		payload = size - 48
	}
	ping := fmt.Sprintf("ping -M do -s %d %s", payload, j.Receiver.Addr)
	if j.V6 {
		ping = fmt.Sprintf("ping -6 -M do -s %d %s", payload, j.Receiver.Addr)
	}
	where := fmt.Sprintf("between %s and %s", j.Sender.Addr, j.Receiver.Addr)
	if a, b, ok := strings.Cut(j.lostBetween, ","); ok {
		where = fmt.Sprintf("between the capture points %s and %s", a, b)
	}
	clamp := "(or --set-mss for the known path MTU minus 40)"
	if j.icmp != nil && j.icmp.MTU > 0 {
		hdr := 40
		if j.V6 {
			hdr = 60
		}
		where += fmt.Sprintf(" (the ICMP from %s gives its MTU: %d)", j.icmp.From, j.icmp.MTU)
		clamp = fmt.Sprintf("(or --set-mss %d for the link MTU %d)", j.icmp.MTU-hdr, j.icmp.MTU)
	}
	steps := []string{
		fmt.Sprintf("Find the link with the smaller MTU %s: tracepath -n %s from %s, or %s and smaller sizes until one passes; then ip link show on each hop for its mtu.",
			where, j.Receiver.Addr, j.Sender.Addr, ping),
		"Clamp the MSS on the router in front of that link so that no segment needs it: iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu " + clamp + ".",
		"Let ICMP fragmentation-needed (type 3 code 4) and ICMPv6 packet-too-big (type 2) through every firewall and security group on the path, and check that the router of the small link sends them (its OUTPUT rules, icmp rate limits).",
		"As mitigation on the sender: net.ipv4.tcp_mtu_probing=1 lets Linux find a size that passes when no ICMP arrives; or lower its interface MTU to the path's (ip link set dev IFACE mtu N).",
	}
	if j.icmp != nil {
		steps[2] = fmt.Sprintf("The ICMP from %s reaches this capture point: find what stops it between here and %s (a host firewall dropping ICMP, rp_filter, a NAT or load balancer that does not translate the quoted header).", j.icmp.From, j.Sender.Addr)
	}
	return steps
}

// clock writes a capture time as the time of day, as the evidence lines
// show it.
func clock(t capture.Time) string { return t.UTC().Format("15:04:05.000000") }

func icmpName(e *conn.ICMPError) string {
	if e.V6 {
		return "packet-too-big"
	}
	return "fragmentation-needed"
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

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
