package closing

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/app/ftp"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/progress"
	"github.com/wiresleuth/wiresleuth/flow"
)

// FINMissing reports connections whose response was complete but whose
// peer's FIN never arrived, so that the local side sat idle until its own
// timeout and then closed or reset.
var FINMissing = &detect.Detector{
	ID:       "close.fin-missing",
	Doc:      "the response is complete but the peer's FIN never arrives: the local side idles until its own timeout, then closes or resets; the idle time, whether the response was complete by its own framing, where the FINs were seen",
	Requires: []*detect.Observer{progress.Observer},
	Keep:     keepFIN,
	Run:      runFINMissing,
}

// MinIdle is how long the waiting side must have been silent before it
// closed: a client that closes at once after a complete response is not
// waiting for anything.
const MinIdle = time.Second

// MinIdleAtEnd is how long a side must have been waiting when the capture
// ended to count as waiting without having closed yet.
const MinIdleAtEnd = 10 * time.Second

// keepFIN keeps records of connections where one side did not send a FIN
// or sent it more than once.
func keepFIN(r *conn.Record) bool {
	return r.Proto == conn.ProtoTCP && (!r.Orig.FIN.Valid() || !r.Resp.FIN.Valid() || r.Orig.Analysis.Count(retransmission) > 0 || r.Resp.Analysis.Count(retransmission) > 0)
}

// Evidence that the silent side closed, or should have.
type why uint8

const (
	whyElsewhere why = iota + 1 // another capture saw its FIN
	whyUnacked                  // its FIN is seen here, retransmitted and never acknowledged
	whyProtocol                 // the application protocol says it closes (Connection: close, 221/421)
)

// missing is one connection whose FIN is missing at one vantage point.
type missing struct {
	f      *progress.Flow
	closer int // index of the side whose FIN is missing in f.Dir
	why    why
	// elsewhere: another capture saw the FIN; proto: the application
	// protocol says this side closes.
	elsewhere, proto bool
	framing          string // "length", "chunked", "none", "close" (delimited by close) or "" (data acknowledged)
	waitIdle         time.Duration
	waitEnd          string // "reset", "closed", "still waiting"
	waitRef          conn.Ref
	atEnd            bool // the waiting side had not closed when the capture ended
}

func (m *missing) waiter() int { return 1 - m.closer }

func runFINMissing(p *detect.Pass) error {
	for vi, ds := range p.Datasets {
		pr := progress.Of(ds)
		if pr == nil {
			continue
		}
		var found []*missing
		for _, f := range pr.Flows {
			for i := range f.Dir {
				if m := finMissing(p, vi, ds, f, i); m != nil {
					found = append(found, m)
				}
			}
		}
		type key struct {
			closer flow.Endpoint
			unack  bool
		}
		var order []key
		groups := map[key][]*missing{}
		for _, m := range found {
			ds.Mark(m.f.Stream, detect.TimedOut)
			k := key{m.f.Endpoint(m.closer), m.why == whyUnacked}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], m)
		}
		recs := map[int64]*conn.Record{}
		for _, r := range ds.Conns {
			if r.Annotated {
				recs[r.Stream] = r
			}
		}
		for _, k := range order {
			p.Report(reportFIN(p, ds, k.closer, groups[k], recs))
		}
	}
	return nil
}

// finMissing decides whether side i of f closed (or should have) without
// its FIN reaching this vantage point while the other side waited.
func finMissing(p *detect.Pass, vi int, ds *detect.Dataset, f *progress.Flow, i int) *missing {
	c, w := &f.Dir[i], &f.Dir[1-i]
	if !c.Data || c.RST.Valid() || c.Outstanding() || !c.AckSeen {
		return nil
	}
	// The closing side answered last: its data came after the other's.
	if w.Data && w.LastData.Time > c.LastData.Time {
		return nil
	}
	m := &missing{f: f, closer: i}
	switch {
	case c.FINs == 0:
	case c.FINs >= 2 && !c.FINAcked && w.LastPkt.Time > c.FIN.Time:
		m.why = whyUnacked
	default:
		return nil
	}
	// The waiting side: silent for a while after the response, then it
	// closed or reset, or it was still waiting when the capture ended.
	switch {
	case w.Close.Valid():
		if w.Quiet < MinIdle || w.Close.Time < c.LastData.Time {
			return nil
		}
		m.waitIdle, m.waitRef = w.Quiet, w.Close
		m.waitEnd = "closed its end with a FIN"
		if w.RST.Valid() && w.RST == w.Close {
			m.waitEnd = "reset the connection"
		}
	default:
		idle := ds.Summary.End.Sub(f.Last.Time)
		if m.why == whyUnacked {
			idle = ds.Summary.End.Sub(w.LastPkt.Time)
		}
		if idle < MinIdleAtEnd {
			return nil
		}
		m.waitIdle, m.atEnd, m.waitEnd = idle, true, "was still waiting when the capture ended"
	}
	// Why the closing side should have closed.
	proto, framing := protocolCloses(ds, f, i)
	m.framing, m.proto = framing, proto
	m.elsewhere = m.why == 0 && finElsewhere(p, vi, f, i)
	if m.why == 0 {
		switch {
		case m.elsewhere:
			m.why = whyElsewhere
		case proto:
			m.why = whyProtocol
		default:
			return nil
		}
	}
	return m
}

// protocolCloses says whether the application protocol has side i close
// the connection after its last message, and how that message was
// delimited: HTTP with Connection: close (asked by either side), an
// HTTP/1.0 response without keep-alive, a body delimited by the close
// itself; FTP after 221 (QUIT) or 421.
func protocolCloses(ds *detect.Dataset, f *progress.Flow, i int) (bool, string) {
	a := ds.Apps[f.Stream]
	if a == nil || i == f.Client() {
		return false, ""
	}
	switch s := a.Summary.(type) {
	case *http1.ConnSummary:
		if s.Responses == 0 || s.Tunnel {
			return false, ""
		}
		framing := ""
		switch {
		case s.CloseDelimitedOpen || s.LastDelimit == http1.ByClose:
			framing = "close"
		case s.LastComplete:
			framing = s.LastDelimit.String()
		}
		return s.ServerClose > 0 || s.ClientClose > 0 || framing == "close", framing
	case *ftp.ConnSummary:
		return s.LastReplyCode == 221 || s.LastReplyCode == 421, ""
	}
	return false, ""
}

// finsAt returns, for each dataset, how many FINs the sender of side i of
// f sent as that vantage point saw them (-1: the connection is not there).
func finsAt(p *detect.Pass, vi int, f *progress.Flow, i int) []int {
	closer := f.Endpoint(i)
	client, server := f.Endpoint(f.Client()), f.Endpoint(1-f.Client())
	out := make([]int, len(p.Datasets))
	for vj, ds := range p.Datasets {
		g := f
		if vj != vi {
			g = progress.Of(ds).Find(client, server, f.First.Time)
		}
		if g == nil {
			out[vj] = -1
			continue
		}
		j := 0
		if g.Endpoint(1) == closer {
			j = 1
		}
		out[vj] = g.Dir[j].FINs
	}
	return out
}

// finElsewhere reports whether another capture saw side i's FIN.
func finElsewhere(p *detect.Pass, vi int, f *progress.Flow, i int) bool {
	for vj, n := range finsAt(p, vi, f, i) {
		if vj != vi && n > 0 {
			return true
		}
	}
	return false
}

// firstFINElsewhere returns the dataset and flow of the most
// closer-side capture that saw side i's FIN.
func firstFINElsewhere(p *detect.Pass, vi int, f *progress.Flow, i int, closerIsServer bool) (*detect.Dataset, *progress.Flow, int) {
	closer := f.Endpoint(i)
	client, server := f.Endpoint(f.Client()), f.Endpoint(1-f.Client())
	n := len(p.Datasets)
	for k := range n {
		vj := k
		if closerIsServer {
			vj = n - 1 - k
		}
		if vj == vi {
			continue
		}
		g := progress.Of(p.Datasets[vj]).Find(client, server, f.First.Time)
		if g == nil {
			continue
		}
		j := 0
		if g.Endpoint(1) == closer {
			j = 1
		}
		if g.Dir[j].FINs > 0 {
			return p.Datasets[vj], g, j
		}
	}
	return nil, nil, 0
}

func reportFIN(p *detect.Pass, ds *detect.Dataset, closer flow.Endpoint, ms []*missing, recs map[int64]*conn.Record) detect.Finding {
	vi := slices.Index(p.Datasets, ds)
	m0 := ms[0]
	f0 := m0.f
	closerIsServer := m0.closer != f0.Client()
	cl, wt := role(closerIsServer), role(!closerIsServer)
	unacked := m0.why == whyUnacked
	waiters := map[string]bool{}
	var ports []string
	var idles []time.Duration
	actions := map[string]int{}
	framings := map[string]int{}
	fatal := 0
	for _, m := range ms {
		we := m.f.Endpoint(m.waiter())
		waiters[we.Addr.String()] = true
		ports = append(ports, fmt.Sprint(we.Port))
		idles = append(idles, m.waitIdle)
		actions[m.waitEnd]++
		framings[m.framing]++
		if m.framing == "close" {
			fatal++
		}
	}
	slices.Sort(idles)
	med := idles[len(idles)/2]
	hosts := strings.Join(sortedKeys(waiters), ", ")
	f := detect.Finding{
		Severity:   detect.Warning,
		Affected:   len(ms),
		Comparable: "TCP connections with " + closer.String(),
		Score:      float64(len(ms)),
	}
	if fatal > 0 {
		f.Severity = detect.Error
	}
	for i := range ds.Briefs {
		if b := &ds.Briefs[i]; b.Proto == conn.ProtoTCP && (b.Resp == closer || b.Orig == closer) {
			f.OutOf++
		}
	}
	f.OutOf = max(f.OutOf, len(ms))
	action := mostCommon(actions)
	if unacked {
		f.Title = fmt.Sprintf("The FINs %s sends are never acknowledged by %s: %s %s after %s idle", closer, hosts, detect.Plural(len(ms), "connection"), shortAction(action), detect.Seconds(med))
	} else {
		f.Title = fmt.Sprintf("The FIN from %s never arrives at %s: %s sat idle %s after complete responses, then %s", closer, hosts, detect.Plural(len(ms), "connection"), detect.Seconds(med), shortAction(action))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "In %s, on %s from %s (port%s %s) to %s, ", ds.Name, detect.Plural(len(ms), "connection"), hosts, plural(len(ports)), strings.Join(ports, ", "), peerOf(m0))
	resp := "data"
	if closerIsServer {
		resp = "response"
	}
	switch {
	case framings["close"] == len(ms):
		fmt.Fprintf(&b, "the %s's %s was delimited by the connection's close (no Content-Length, not chunked), and ", cl, resp)
	case framings["length"]+framings["chunked"]+framings["none"] == len(ms):
		fmt.Fprintf(&b, "the %s's %s (%d bytes on the first) arrived complete by its own framing (%s) and was acknowledged, ", cl, resp, f0.Dir[m0.closer].Next-1, framingWords(framings))
	default:
		fmt.Fprintf(&b, "all the %s's data (%d bytes on the first) was acknowledged, ", cl, f0.Dir[m0.closer].Next-1)
	}
	if unacked {
		d := &f0.Dir[m0.closer]
		fmt.Fprintf(&b, "then the %s sent its FIN %s and the %s never acknowledged it, though it acknowledged the data before it and was still sending (it later %s): the FIN does not reach the %s. ",
			cl, times(d.FINs), wt, action, wt)
	} else {
		var why []string
		if m0.proto {
			why = append(why, fmt.Sprintf("the exchange says the %s closes after it%s", cl, protocolWhy(ds, f0)))
		}
		if m0.elsewhere {
			why = append(why, fmt.Sprintf("another capture shows the %s sent one", cl))
		}
		fmt.Fprintf(&b, "but no FIN from the %s ever arrived here, although %s. ", cl, strings.Join(why, " and "))
	}
	if lo, hi := detect.Seconds(idles[0]), detect.Seconds(idles[len(idles)-1]); lo != hi {
		fmt.Fprintf(&b, "The %s sat idle %s (%s–%s) and then %s", wt, detect.Seconds(med), detect.Seconds(idles[0]), detect.Seconds(idles[len(idles)-1]), action)
	} else {
		fmt.Fprintf(&b, "The %s sat idle %s and then %s", wt, detect.Seconds(med), action)
	}
	if len(actions) > 1 {
		b.WriteString(" (on most)")
	}
	b.WriteString(": a wait that ends on the waiting side's own clock is its timeout (a read timeout, PHP's default_socket_timeout…), not the peer's. ")
	switch {
	case fatal > 0:
		fmt.Fprintf(&b, "On %d of them the %s is delimited by the close: without the FIN the %s cannot know it is complete, so the missing FIN is fatal, not just slow. ", fatal, resp, wt)
	case framings["length"]+framings["chunked"] > 0:
		fmt.Fprintf(&b, "A %s that trusts the framing finishes at once (curl does); one that reads until end-of-file waits for its timeout, so each such request takes %s longer. ", wt, detect.Seconds(med))
	}

	// Where the FINs were seen.
	var lines []string
	splits := map[[2]int]int{}
	for _, m := range ms {
		fins := finsAt(p, vi, m.f, m.closer)
		if line, a, z, ok := finLine(p, fins, closerIsServer, cl); line != "" {
			if !slices.Contains(lines, line) {
				lines = append(lines, line)
			}
			if ok {
				splits[[2]int{a, z}]++
			}
		}
	}
	if len(lines) > 0 && len(p.Datasets) > 1 {
		fmt.Fprintf(&b, "Across the captures: %s. ", strings.Join(lines, " / "))
		for ab, n := range splits {
			if n == len(ms) {
				a, z := p.Datasets[ab[0]].Name, p.Datasets[ab[1]].Name
				f.AddFact("lost_between", a+","+z)
				f.Vantages = append(f.Vantages, fmt.Sprintf("the %s's FINs pass %s and never reach %s", cl, a, z))
			}
		}
	}
	finDS, finFlow, finDir := ds, f0, m0.closer
	if f0.Dir[m0.closer].FINs == 0 {
		finDS, finFlow, finDir = firstFINElsewhere(p, vi, f0, m0.closer, closerIsServer)
	}
	if finFlow != nil && finFlow.Dir[finDir].FINPadding == 0 {
		// A capture where the FIN arrived from the wire shows its padding.
		for _, x := range p.Datasets {
			if g := progress.Of(x).Find(f0.Endpoint(f0.Client()), f0.Endpoint(1-f0.Client()), f0.First.Time); g != nil {
				j := 0
				if g.Endpoint(1) == closer {
					j = 1
				}
				if g.Dir[j].FINs > 0 && g.Dir[j].FINPadding > 0 {
					finDS, finFlow, finDir = x, g, j
					break
				}
			}
		}
	}
	if finFlow != nil && finFlow.Dir[finDir].FINIPLen > 0 && finFlow.Dir[finDir].FINIPLen <= 46 {
		d := &finFlow.Dir[finDir]
		fmt.Fprintf(&b, "The FIN is a %d-byte IP packet (a TCP header without options)%s, as %s saw it: a small control packet of the kind a device with a padding or checksum bug (Open vSwitch conntrack on short frames) drops while larger packets pass. ", d.FINIPLen, paddedWords(d.FINPadding), finDS.Name)
	}
	f.Explanation = strings.TrimSpace(b.String())

	f.AddFact("closer", closer.String())
	if closerIsServer {
		f.AddFact("server", closer.String())
	}
	f.AddFact("connections", fmt.Sprint(len(ms)))
	f.AddFact("idle_s", fmt.Sprintf("%.1f", med.Seconds()))
	f.AddFact("waiting_side_then", shortAction(action))
	if fr := mostCommon(framings); fr != "" {
		f.AddFact("framing", fr)
	} else {
		f.AddFact("framing", "acknowledged")
	}
	maxFins := 0
	for _, n := range finsAt(p, vi, f0, m0.closer) {
		maxFins = max(maxFins, n)
	}
	if maxFins > 0 {
		f.AddFact("fins_sent", fmt.Sprint(maxFins))
	}

	for _, m := range ms {
		if r := recs[m.f.Stream]; r != nil {
			f.AddConn(detect.ConnOf(ds, r))
		} else {
			f.AddConn(detect.NewConn(ds.Name, "tcp", m.f.Endpoint(m.f.Client()), m.f.Endpoint(1-m.f.Client()), m.f.First.Time, ""))
		}
	}
	// Evidence: the end of the response, the FINs, the waiting side's
	// close.
	c := &f0.Dir[m0.closer]
	f.AddEvidence(detect.Packet(ds, c.LastData, fmt.Sprintf("the end of the %s's %s", cl, resp)))
	if unacked {
		f.AddEvidence(detect.Packet(ds, c.FIN, fmt.Sprintf("the %s's FIN", cl)))
		if c.FINLast != c.FIN {
			f.AddEvidence(detect.Packet(ds, c.FINLast, fmt.Sprintf("the same FIN, sent for the %s time, still not acknowledged", ordinal(c.FINs))))
		}
	} else if finFlow != nil {
		f.AddEvidence(detect.Packet(finDS, finFlow.Dir[finDir].FIN, fmt.Sprintf("the %s's FIN as %s saw it; it never arrives at %s", cl, finDS.Name, ds.Name)))
		if lb := f.Fact("lost_between"); lb != "" {
			a, _, _ := strings.Cut(lb, ",")
			for _, x := range p.Datasets {
				if x.Name != a {
					continue
				}
				if g := progress.Of(x).Find(f0.Endpoint(f0.Client()), f0.Endpoint(1-f0.Client()), f0.First.Time); g != nil {
					j := 0
					if g.Endpoint(1) == closer {
						j = 1
					}
					if d := &g.Dir[j]; d.FINs > 1 {
						f.AddEvidence(detect.Packet(x, d.FINLast, fmt.Sprintf("the %s copy of the FIN still passes %s", ordinal(d.FINs), x.Name)))
					}
				}
			}
		}
	}
	if m0.waitRef.Valid() {
		f.AddEvidence(detect.Packet(ds, m0.waitRef, fmt.Sprintf("the %s %s after %s idle", wt, m0.waitEnd, detect.Seconds(m0.waitIdle))))
	}
	for _, m := range ms[1:] {
		if m.waitRef.Valid() {
			f.AddEvidence(detect.Packet(ds, m.waitRef, fmt.Sprintf("%s: the %s %s after %s idle", m.f.Endpoint(m.waiter()), wt, m.waitEnd, detect.Seconds(m.waitIdle))))
		}
	}

	f.NextSteps = []string{
		fmt.Sprintf("Capture at each hop between %s and %s at the same time and follow the %s's FIN: the last capture that shows it bounds where it is dropped.", closer.Addr, hosts, cl),
		"On Linux hosts and virtual switches on the path, look for conntrack dropping the FIN as INVALID (sysctl net.netfilter.nf_conntrack_log_invalid=255 logs why); if it blames the checksum of short padded frames, net.netfilter.nf_conntrack_checksum=0 works around the Open vSwitch bug, a kernel update fixes it.",
	}
	if fr := f.Fact("lost_between"); fr != "" {
		a, z, _ := strings.Cut(fr, ",")
		f.NextSteps = append([]string{fmt.Sprintf("Look at what lies between %s and %s: the FINs vanish there.", a, z)}, f.NextSteps...)
	}
	if fatal == 0 && framings["length"]+framings["chunked"] > 0 {
		f.NextSteps = append(f.NextSteps, fmt.Sprintf("Meanwhile make the %s stop at the end of the response's framing instead of waiting for end-of-file (PHP: use the cURL functions rather than file_get_contents); shortening its %s timeout only hides the fault.", wt, detect.Seconds(med)))
	}
	return f
}

// finLine words where the closer's FINs were seen: "the server sent its
// FIN 6 times; all reached router-out, none reached router-in", and
// returns the two neighbouring captures between which they vanish.
func finLine(p *detect.Pass, fins []int, closerIsServer bool, cl string) (string, int, int, bool) {
	if len(p.Datasets) < 2 {
		return "", 0, 0, false
	}
	sent := 0
	for _, n := range fins {
		sent = max(sent, n)
	}
	if sent == 0 {
		return "", 0, 0, false
	}
	var all, none, some []string
	order := make([]int, len(fins))
	for i := range order {
		order[i] = i
	}
	if closerIsServer {
		slices.Reverse(order)
	}
	for _, vj := range order {
		n := fins[vj]
		name := p.Datasets[vj].Name
		switch {
		case n < 0:
		case n == sent:
			all = append(all, name)
		case n == 0:
			none = append(none, name)
		default:
			some = append(some, fmt.Sprintf("%s (%d)", name, n))
		}
	}
	line := fmt.Sprintf("the %s sent its FIN %s", cl, times(sent))
	if len(all) > 0 {
		if sent == 1 {
			line += "; it reached " + strings.Join(all, ", ")
		} else {
			line += "; all reached " + strings.Join(all, ", ")
		}
	}
	if len(some) > 0 {
		line += "; some reached " + strings.Join(some, ", ")
	}
	if len(none) > 0 {
		line += "; none reached " + strings.Join(none, ", ")
	}
	// A clean cut: in the closer's direction of travel, all until one
	// capture, none after it.
	idx := make([]int, 0, len(fins))
	for vj := range fins {
		if fins[vj] >= 0 {
			idx = append(idx, vj)
		}
	}
	if closerIsServer {
		slices.Reverse(idx)
	}
	k := 0
	for k < len(idx) && fins[idx[k]] == sent {
		k++
	}
	if k == 0 || k == len(idx) {
		return line, 0, 0, false
	}
	for _, vj := range idx[k:] {
		if fins[vj] != 0 {
			return line, 0, 0, false
		}
	}
	return line, idx[k-1], idx[k], true
}

func protocolWhy(ds *detect.Dataset, f *progress.Flow) string {
	a := ds.Apps[f.Stream]
	if a == nil {
		return ""
	}
	switch s := a.Summary.(type) {
	case *http1.ConnSummary:
		switch {
		case s.ClientClose > 0 && s.ServerClose > 0:
			return " (the request said Connection: close and the response agreed)"
		case s.ClientClose > 0:
			return " (the request said Connection: close)"
		case s.ServerClose > 0:
			return " (the response said Connection: close, or is HTTP/1.0 without keep-alive)"
		}
		return " (the response is delimited by the close)"
	case *ftp.ConnSummary:
		return fmt.Sprintf(" (its last reply was %d)", s.LastReplyCode)
	}
	return ""
}

func framingWords(fr map[string]int) string {
	var w []string
	if fr["length"] > 0 {
		w = append(w, "Content-Length")
	}
	if fr["chunked"] > 0 {
		w = append(w, "chunked")
	}
	if fr["none"] > 0 {
		w = append(w, "no body")
	}
	return strings.Join(w, ", ")
}

func paddedWords(pad int) string {
	if pad <= 0 {
		return ""
	}
	return fmt.Sprintf(" in a frame padded with %d bytes", pad)
}

func peerOf(m *missing) flow.Endpoint { return m.f.Endpoint(1 - m.f.Client()) }

func role(server bool) string {
	if server {
		return "server"
	}
	return "client"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func shortAction(a string) string {
	switch a {
	case "reset the connection":
		return "reset"
	case "closed its end with a FIN":
		return "closed"
	}
	return "still waiting at the end of the capture"
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

func mostCommon(m map[string]int) string {
	best, bn := "", 0
	for _, k := range sortedKeys2(m) {
		if m[k] > bn {
			best, bn = k, m[k]
		}
	}
	return best
}

func sortedKeys2(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
