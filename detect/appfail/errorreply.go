package appfail

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/oncrpc"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// ErrorReply reports error replies grouped by protocol, operation and
// error.
var ErrorReply = &detect.Detector{
	ID:       "app.error-reply",
	Doc:      "application error replies (RPC denied or failed with an errno, HTTP 4xx/5xx, FTP 4xx/5xx, DNS rcode, TLS fatal alert), grouped by protocol, operation and error, with what they mean for the user",
	Requires: []*detect.Observer{Transport},
	Run:      runErrorReply,
}

// Examples cited as evidence per finding.
const maxExamples = 3

type errGroup struct {
	key string
	xs  []txn
	j   judgement
}

func runErrorReply(p *detect.Pass) error {
	for _, ds := range p.Datasets {
		v := newView(ds)
		var order []*errGroup
		groups := map[string]*errGroup{}
		for _, x := range v.txns {
			if x.t.Status != app.StatusError {
				continue
			}
			j := judge(v, x)
			if j.expected != "" {
				continue
			}
			k := x.t.Protocol + "\x00" + x.t.Operation + "\x00" + x.t.Error
			g := groups[k]
			if g == nil {
				g = &errGroup{key: k, j: j}
				groups[k] = g
				order = append(order, g)
			}
			if j.sev > g.j.sev {
				g.j = j
			}
			g.xs = append(g.xs, x)
		}
		for _, g := range order {
			p.Report(errorFinding(v, g))
		}
	}
	return nil
}

func errorFinding(v *view, g *errGroup) detect.Finding {
	xs := g.xs
	byTime(xs)
	first := xs[0].t
	srvs := servers(xs)
	outOf := 0
	for _, y := range v.txns {
		if y.t.Protocol == first.Protocol && y.t.Operation == first.Operation && containsEndpoint(srvs, y.server()) {
			outOf++
		}
	}
	unsolicited := first.Operation == "unsolicited"
	if unsolicited {
		// Replies without a command: count the control connections.
		streams := map[int64]bool{}
		for _, y := range v.txns {
			if y.t.Protocol == first.Protocol && containsEndpoint(srvs, y.server()) {
				streams[y.stream] = true
			}
		}
		outOf = len(streams)
	}
	sev := g.j.sev
	if first.Protocol == "http" && sev == detect.Error && outOf >= 20 && len(xs)*20 < outOf {
		sev = detect.Warning // sporadic: under 5% of many
	}
	where := "from " + joinEndpoints(srvs)
	if len(srvs) > 5 {
		where = fmt.Sprintf("from %d servers", len(srvs))
	}
	f := detect.Finding{
		Severity:   sev,
		Title:      fmt.Sprintf("%s → %s (%s)", operation(first), reply(first), where),
		Affected:   len(xs),
		OutOf:      outOf,
		Comparable: fmt.Sprintf("%s to %s", phrase(first, 2), joinEndpoints(srvs)),
		Score:      float64(connections(xs)),
		Key:        errorKey(first),
	}
	if unsolicited {
		f.Affected = connections(xs)
		f.Comparable = fmt.Sprintf("%s control connections to %s", label(first.Protocol), joinEndpoints(srvs))
	}
	var b strings.Builder
	switch {
	case unsolicited:
		fmt.Fprintf(&b, "In %s, %s sent the reply %q with no command pending, on %d of its %d control connections with %s. ",
			v.ds.Name, joinEndpoints(srvs), reply(first), connections(xs), outOf, joinAnd(clients(xs)))
	case len(xs) == 1:
		fmt.Fprintf(&b, "In %s, the %s %q from %s to %s was answered %q; ", v.ds.Name, phrase(first, 1), first.Request,
			xs[0].client().Addr, joinEndpoints(srvs), reply(first))
	default:
		fmt.Fprintf(&b, "In %s, %d %s from %s to %s were answered %q; ", v.ds.Name, len(xs), phrase(first, len(xs)),
			joinAnd(clients(xs)), joinEndpoints(srvs), reply(first))
	}
	if !unsolicited {
		fmt.Fprintf(&b, "%d of %d such %s to %s failed. ", len(xs), outOf, noun(first.Protocol), plural(len(srvs), "this server", "these servers"))
	}
	b.WriteString(g.j.meaning)
	if s := transportNote(v, xs); s != "" {
		b.WriteString(" " + s)
	}
	f.Explanation = b.String()
	f.NextSteps = g.j.next

	for i, x := range xs {
		f.AddConn(v.conn(x))
		if i >= maxExamples {
			continue
		}
		t := x.t
		if t.RequestAt.Frame != 0 {
			f.AddEvidence(detect.Packet(v.ds, ref(t.RequestAt), fmt.Sprintf("%s from %s", t.Request, x.client())))
		}
		note := "the error reply: " + reply(t)
		if t.RequestAt.Frame != 0 {
			note += ", " + ms(t.Latency) + " after the request"
		}
		f.AddEvidence(detect.Packet(v.ds, ref(t.ReplyAt), note))
	}
	f.AddFact("protocol", first.Protocol)
	f.AddFact("operation", first.Operation)
	f.AddFact("error", first.Error)
	f.AddFact("reply", first.Reply)
	f.AddFact("servers", endpointList(srvs))
	f.AddFact("count", strconv.Itoa(len(xs)))
	if m := rpc(first); m != nil {
		f.AddFact("program", strconv.FormatUint(uint64(m.Program), 10))
		f.AddFact("program_name", oncrpc.ProgramName(m.Program))
		f.AddFact("version", strconv.FormatUint(uint64(m.Version), 10))
		f.AddFact("procedure", oncrpc.ProcedureName(m.Program, m.Version, m.Procedure))
		if first.Error == "PROG_MISMATCH" || first.Error == "RPC_MISMATCH" {
			f.AddFact("supported_versions", fmt.Sprintf("%d-%d", m.Low, m.High))
		}
		if m.Body.Status == oncrpc.GlusterOp {
			f.AddFact("op_ret", strconv.Itoa(int(m.Body.OpRet)))
			f.AddFact("op_errno", strconv.Itoa(int(m.Body.Errno)))
		}
		if m.Body.Error != "" {
			f.AddFact("server_error", m.Body.Error)
		}
	}
	return f
}

// errorKey tells findings apart across vantage points: the protocol,
// operation and error, except for FTP, where a reply the client saw
// answer its command shows at the server, which never got the command, as
// unsolicited.
func errorKey(t *app.Transaction) string {
	if t.Protocol == "ftp" {
		return "ftp\x00" + t.Error
	}
	return t.Protocol + "\x00" + t.Operation + "\x00" + t.Error
}

// transportNote says, for error replies that came long after their
// request, whether the server's TCP had acknowledged the request: an FTP
// 421 idle timeout for a command that never arrived reads differently from
// one for a client that sent nothing.
func transportNote(v *view, xs []txn) string {
	lost, acked := 0, 0
	var example txn
	for _, x := range xs {
		sv := v.stream(x)
		if sv == nil || x.t.RequestAt.Frame == 0 || x.t.Latency < 1e9 {
			continue
		}
		cs := sv.Side(x.client())
		c, known := sv.AckOf(cs, x.t.RequestAt.Frame)
		if !known {
			continue // too long ago to say
		}
		if c.Valid() && c.Time <= x.t.ReplyAt.Time {
			acked++
			continue
		}
		if lost == 0 {
			example = x
		}
		lost++
	}
	switch {
	case lost > 0 && acked == 0:
		sv := v.stream(example)
		cs := sv.Side(example.client())
		s := fmt.Sprintf("The server's TCP never acknowledged the request before this reply (%s, sent at frame %d", example.t.Request, example.t.RequestAt.Frame)
		if n := sv.Retransmits[cs]; n > 0 {
			s += fmt.Sprintf(" and retransmitted %s", plural(n, "once", strconv.Itoa(n)+" times"))
		}
		s += "): the request never reached the server, which answered the silence, not the request. Look for the packets lost on the way (stall.after-handshake, path.lost)."
		return s
	case lost > 0:
		return fmt.Sprintf("For %d of these the server's TCP never acknowledged the request before replying: those requests never reached it.", lost)
	}
	return ""
}

func containsEndpoint(es []flow.Endpoint, e flow.Endpoint) bool {
	for _, x := range es {
		if x == e {
			return true
		}
	}
	return false
}

func endpointList(es []flow.Endpoint) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, ",")
}

// noun names a protocol's requests.
func noun(protocol string) string {
	switch protocol {
	case "oncrpc":
		return "calls"
	case "dns":
		return "queries"
	case "ftp":
		return "commands"
	case "tls":
		return "handshakes"
	}
	return "requests"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
