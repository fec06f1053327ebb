package resets

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
)

// Summary reports who sends resets to whom and after what, as counts and a
// share of all TCP connections, at every vantage point: the flag-ratio
// view engineers build with ngrep. It is context (info), shown when resets
// are a noticeable share of the connections.
var Summary = &detect.Detector{
	ID:       "resets.summary",
	Doc:      "who sends resets to whom and after what (data, idle, SYN, FIN), as counts and a share of all connections",
	Requires: []*detect.Observer{Observer},
	Keep:     hasRST,
	Run:      runSummary,
}

// Reset contexts, in the order the summary lists them.
const (
	ctxSYN       = "answering a SYN"
	ctxHandshake = "during the handshake"
	ctxFIN       = "after a FIN"
	ctxIdle      = "after idle"
	ctxEnd       = "after a complete exchange"
	ctxData      = "in the middle of data"
	ctxNoData    = "with no data exchanged"
	ctxUnknown   = "in a connection seen only in part"
)

var contextOrder = []string{ctxSYN, ctxHandshake, ctxIdle, ctxData, ctxEnd, ctxFIN, ctxNoData, ctxUnknown}

// contextOf says what a reset followed.
func contextOf(x *RST) string {
	switch {
	case x.AnswersSYN:
		return ctxSYN
	case !x.Known:
		return ctxUnknown
	case !x.Established && !x.SelfData && !x.PeerData && !x.SelfFIN && !x.PeerFIN:
		return ctxHandshake
	case x.SelfFIN || x.PeerFIN:
		return ctxFIN
	case answersResume(x), x.SinceAny >= minIdle:
		return ctxIdle
	case (x.SelfData || x.PeerData) && x.AcksAll:
		return ctxEnd
	case x.SelfData || x.PeerData:
		return ctxData
	}
	return ctxNoData
}

// flowKey is one direction of resets: who sends them to whom.
type flowKey struct {
	from, to netip.Addr
	role     Role
}

type flowCount struct {
	key    flowKey
	conns  int
	pkts   int
	ctx    map[string]int
	forged int
	port   uint16 // the server port, when all share one
	ports  map[uint16]bool
}

type vantageSummary struct {
	ds          *detect.Dataset
	tcp, reset  int
	pkts, plain int // RST segments; those without ACK
	flows       []*flowCount
	firstByCtx  map[string]*RST
	// capped: more resets than the observer keeps; connections are
	// counted from the first MaxRSTs.
	capped bool
}

func summarise(ds *detect.Dataset) vantageSummary {
	res := resultOf(ds)
	v := vantageSummary{ds: ds, firstByCtx: map[string]*RST{}}
	// Resets are counted per tcp.stream, so are connections.
	if ds.Summary != nil && ds.Summary.Streams > 0 {
		v.tcp = int(ds.Summary.Streams)
	} else {
		for i := range ds.Briefs {
			if ds.Briefs[i].Proto == conn.ProtoTCP {
				v.tcp++
			}
		}
	}
	v.capped = res.RSTCount > len(res.RSTs)
	forged := map[int64]bool{}
	for _, f := range forgeries(ds) {
		forged[f.rst.Frame] = true
	}
	flows := map[flowKey]*flowCount{}
	counted := map[int64]bool{}
	for i := range res.RSTs {
		x := &res.RSTs[i]
		v.pkts++
		if !x.ACK {
			v.plain++
		}
		k := flowKey{x.Src.Addr, x.Dst.Addr, x.From}
		fc := flows[k]
		if fc == nil {
			fc = &flowCount{key: k, ctx: map[string]int{}, ports: map[uint16]bool{}}
			flows[k] = fc
			v.flows = append(v.flows, fc)
		}
		fc.pkts++
		if counted[x.Stream] {
			continue
		}
		counted[x.Stream] = true
		v.reset++
		fc.conns++
		c := contextOf(x)
		fc.ctx[c]++
		if forged[x.Frame] {
			fc.forged++
		}
		switch x.From {
		case Server:
			fc.ports[x.Src.Port] = true
		case Client:
			fc.ports[x.Dst.Port] = true
		}
		if v.firstByCtx[c] == nil {
			v.firstByCtx[c] = x
		}
	}
	// Uncounted RSTs beyond the observer's cap still count as packets.
	v.pkts += res.RSTCount - len(res.RSTs)
	slices.SortStableFunc(v.flows, func(a, b *flowCount) int { return cmp.Compare(b.conns, a.conns) })
	for _, fc := range v.flows {
		if len(fc.ports) == 1 {
			for p := range fc.ports {
				fc.port = p
			}
		}
	}
	return v
}

// noticeable: resets in at least 1% of the connections, or in 20.
func (v *vantageSummary) noticeable() bool {
	return v.reset > 0 && (100*v.reset >= v.tcp || v.reset >= 20)
}

func pct(a, b int) string {
	if b == 0 {
		return "0%"
	}
	x := 100 * float64(a) / float64(b)
	if x >= 10 || x == float64(int(x)) {
		return fmt.Sprintf("%.0f%%", x)
	}
	return fmt.Sprintf("%.1f%%", x)
}

func (fc *flowCount) describe() string {
	role := ""
	switch fc.key.role {
	case Server:
		role = " (server side)"
	case Client:
		role = " (client side)"
	}
	from := fc.key.from.String()
	if fc.port != 0 && fc.key.role == Server {
		from = fmt.Sprintf("%s port %d", from, fc.port)
	}
	var parts []string
	for _, c := range contextOrder {
		if n := fc.ctx[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c))
		}
	}
	s := fmt.Sprintf("%s%s → %s: %s", from, role, fc.key.to, plural(fc.conns, "connection", "connections"))
	if fc.pkts != fc.conns {
		s += fmt.Sprintf(" (%s)", plural(fc.pkts, "RST", "RSTs"))
	}
	if len(parts) > 0 {
		s += ", " + strings.Join(parts, ", ")
	}
	if fc.forged > 0 {
		s += fmt.Sprintf("; %d not made by %s (their TTL does not fit its packets)", fc.forged, fc.key.from)
	}
	return s
}

// describe words one vantage point's resets.
func (v *vantageSummary) describe() string {
	if v.reset == 0 {
		return fmt.Sprintf("no resets in %s.", plural(v.tcp, "TCP connection", "TCP connections"))
	}
	s := fmt.Sprintf("%d of %d TCP connections (%s) saw a reset; %s in all, %d without the ACK flag. ",
		v.reset, v.tcp, pct(v.reset, v.tcp), plural(v.pkts, "RST segment", "RST segments"), v.plain)
	if v.capped {
		s += fmt.Sprintf("(Connections are counted from the first %d RST segments.) ", MaxRSTs)
	}
	var lines []string
	for j, fc := range v.flows {
		if j == 5 {
			lines = append(lines, fmt.Sprintf("and %d more pairs of hosts", len(v.flows)-5))
			break
		}
		if fc.conns > 0 {
			lines = append(lines, fc.describe())
		}
	}
	return s + strings.Join(lines, "; ") + "."
}

func runSummary(p *detect.Pass) error {
	var vs []vantageSummary
	show := false
	for _, ds := range p.Datasets {
		v := summarise(ds)
		vs = append(vs, v)
		show = show || v.noticeable()
	}
	if !show {
		return nil
	}
	var main *vantageSummary
	for i := range vs {
		if vs[i].noticeable() {
			main = &vs[i]
			break
		}
	}
	f := detect.Finding{
		Severity:   detect.Info,
		Affected:   main.reset,
		OutOf:      main.tcp,
		Comparable: "TCP connections in " + main.ds.Name,
	}
	top := main.flows[0]
	f.Title = fmt.Sprintf("Resets in %d of %d TCP connections (%s) at %s; most from %s to %s", main.reset, main.tcp, pct(main.reset, main.tcp), main.ds.Name, top.key.from, top.key.to)
	var b strings.Builder
	var byVantage []string
	var texts, names []string
	for i := range vs {
		v := &vs[i]
		byVantage = append(byVantage, fmt.Sprintf("%s %d/%d", v.ds.Name, v.reset, v.tcp))
		t := v.describe()
		if n := len(texts); n > 0 && texts[n-1] == t {
			names[n-1] += ", " + v.ds.Name
			continue
		}
		texts, names = append(texts, t), append(names, v.ds.Name)
	}
	for i := range texts {
		fmt.Fprintf(&b, "At %s: %s ", names[i], texts[i])
	}
	b.WriteString("Resets that answer a SYN refuse a connection; after a FIN or after a complete exchange (the reset acknowledges all the peer sent) they are often an application's way of closing; after idle or in the middle of data they break a connection someone was using.")
	f.Explanation = b.String()
	for _, c := range contextOrder {
		if x := main.firstByCtx[c]; x != nil {
			f.AddEvidence(detect.Packet(main.ds, x.Ref, fmt.Sprintf("RST %s, from %s (%s)", c, x.Src, x.From)))
		}
	}
	f.AddFact("vantage", main.ds.Name)
	f.AddFact("tcp_conns", fmt.Sprint(main.tcp))
	f.AddFact("reset_conns", fmt.Sprint(main.reset))
	f.AddFact("reset_share", pct(main.reset, main.tcp))
	f.AddFact("rst_segments", fmt.Sprint(main.pkts))
	var fromServer, fromClient int
	ctxTotals := map[string]int{}
	for _, fc := range main.flows {
		switch fc.key.role {
		case Server:
			fromServer += fc.conns
		case Client:
			fromClient += fc.conns
		}
		for c, n := range fc.ctx {
			ctxTotals[c] += n
		}
	}
	f.AddFact("from_server_side", fmt.Sprint(fromServer))
	f.AddFact("from_client_side", fmt.Sprint(fromClient))
	for _, c := range contextOrder {
		if n := ctxTotals[c]; n > 0 {
			f.AddFact(strings.ReplaceAll(c, " ", "_"), fmt.Sprint(n))
		}
	}
	f.AddFact("by_vantage", strings.Join(byVantage, ", "))
	f.NextSteps = []string{
		"Compare the side that sends the resets with the side that logs the errors: resets one side attributes to the other, that the other never sent, come from a device in between (see reset.forged and the vantage points).",
		"Look at a few reset connections whole (wiresleuth packets -Y 'tcp.stream == N'): what came just before the RST says who gave up on what.",
	}
	p.Report(f)
	return nil
}
