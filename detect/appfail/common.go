package appfail

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/oncrpc"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// txn is one transaction of a dataset with where it ran.
type txn struct {
	t      *app.Transaction
	stream int64 // tcp.stream, -1 for UDP
	ac     *detect.AppConn
}

func (x txn) client() flow.Endpoint { return x.ac.Client }
func (x txn) server() flow.Endpoint { return x.ac.Server }
func (x txn) udp() bool             { return x.stream < 0 }

// view is a dataset's transactions, indexed for the detectors.
type view struct {
	ds    *detect.Dataset
	txns  []txn
	brief map[int64]*detect.Brief // by tcp.stream
	tr    *TransportResult
	// resolvedNames indexes the successful DNS transactions by client
	// and name (built on first use): judging each failed query against
	// every other transaction costs O(n²) on a busy resolver's capture.
	resolvedNames map[dnsKey][]resolvedAt
	// The indexes below serve the no-reply detector the same way.
	udpExchanges map[[2]flow.Endpoint]udpExchange // by client, server
	answered     map[requestKey]bool              // requests answered (OK or error)
	lastReply    map[int64]capture.Time           // by tcp.stream: the last reply
}

// udpExchange is what the connection summaries say of one client's
// datagrams to one server.
type udpExchange struct {
	answered bool         // the server sent something back
	lastSent capture.Time // the client's last datagram
}

type requestKey struct {
	request, operation string
	client, server     flow.Endpoint
}

// udpExchange returns what the summaries say of client's datagrams to
// server.
func (v *view) udpExchange(client, server flow.Endpoint) udpExchange {
	if v.udpExchanges == nil {
		v.udpExchanges = map[[2]flow.Endpoint]udpExchange{}
		for i := range v.ds.Briefs {
			b := &v.ds.Briefs[i]
			if b.Proto != conn.ProtoUDP {
				continue
			}
			fwd := v.udpExchanges[[2]flow.Endpoint{b.Orig, b.Resp}]
			fwd.answered = fwd.answered || b.RespPkts > 0
			fwd.lastSent = max(fwd.lastSent, b.End)
			v.udpExchanges[[2]flow.Endpoint{b.Orig, b.Resp}] = fwd
			if b.OrigPkts > 0 { // oriented the other way: the server's datagrams answer the client
				rev := v.udpExchanges[[2]flow.Endpoint{b.Resp, b.Orig}]
				rev.answered = true
				v.udpExchanges[[2]flow.Endpoint{b.Resp, b.Orig}] = rev
			}
		}
	}
	return v.udpExchanges[[2]flow.Endpoint{client, server}]
}

// answeredRequest reports whether this view saw the same request as x
// answered (OK or with an error).
func (v *view) answeredRequest(x txn) bool {
	if v.answered == nil {
		v.answered = map[requestKey]bool{}
		for _, y := range v.txns {
			if y.t.Status == app.StatusOK || y.t.Status == app.StatusError {
				v.answered[requestKey{y.t.Request, y.t.Operation, y.client(), y.server()}] = true
			}
		}
	}
	return v.answered[requestKey{x.t.Request, x.t.Operation, x.client(), x.server()}]
}

type dnsKey struct {
	client netip.Addr
	name   string
}

type resolvedAt struct {
	frame  int64
	server netip.Addr
}

func newView(ds *detect.Dataset) *view {
	v := &view{ds: ds, brief: map[int64]*detect.Brief{}}
	v.tr, _ = ds.Result(Transport).(*TransportResult)
	for i := range ds.Transactions {
		if i >= len(ds.TxnApps) || ds.TxnApps[i] == nil {
			continue
		}
		v.txns = append(v.txns, txn{t: &ds.Transactions[i], stream: ds.TxnStreams[i], ac: ds.TxnApps[i]})
	}
	for i := range ds.Briefs {
		if b := &ds.Briefs[i]; b.Stream >= 0 {
			v.brief[b.Stream] = b
		}
	}
	return v
}

// resolvedFrom reports whether x's client got a successful DNS answer
// for name earlier from any server, or later from x's server.
func (v *view) resolvedFrom(x txn, name string) bool {
	if v.resolvedNames == nil {
		v.resolvedNames = map[dnsKey][]resolvedAt{}
		for _, y := range v.txns {
			if y.t.Status == app.StatusOK && y.t.Protocol == "dns" {
				k := dnsKey{y.client().Addr, dnsName(y.t)}
				v.resolvedNames[k] = append(v.resolvedNames[k], resolvedAt{at(y.t).Frame, y.server().Addr})
			}
		}
	}
	f := at(x.t).Frame
	for _, r := range v.resolvedNames[dnsKey{x.client().Addr, name}] {
		if r.frame < f || r.frame > f && r.server == x.server().Addr {
			return true
		}
	}
	return false
}

// stream returns what the transport observer saw of x's TCP stream.
func (v *view) stream(x txn) *StreamView {
	if v.tr == nil || x.udp() {
		return nil
	}
	return v.tr.TCP[x.stream]
}

// conn identifies x's connection for a finding.
func (v *view) conn(x txn) detect.Conn {
	proto, start, uid := "tcp", x.t.RequestAt.Time, ""
	if x.udp() {
		proto = "udp"
		for i := range v.ds.Briefs {
			if b := &v.ds.Briefs[i]; b.Proto == conn.ProtoUDP && b.Orig == x.client() && b.Resp == x.server() {
				start = b.Start
				break
			}
		}
	} else if b := v.brief[x.stream]; b != nil {
		start = b.Start
	}
	return detect.NewConn(v.ds.Name, proto, x.client(), x.server(), start, uid)
}

// end is the capture's last timestamp.
func (v *view) end() capture.Time {
	if v.ds.Summary != nil {
		return v.ds.Summary.End
	}
	return 0
}

func ref(p app.Pos) conn.Ref { return conn.Ref{Frame: p.Frame, Time: p.Time} }

// label names a protocol for titles.
func label(protocol string) string {
	switch protocol {
	case "http":
		return "HTTP"
	case "ftp":
		return "FTP"
	case "dns":
		return "DNS"
	case "tls":
		return "TLS"
	case "oncrpc":
		return "ONC RPC"
	}
	return strings.ToUpper(protocol)
}

// operation names a transaction's operation for titles: the RPC program
// and procedure ("GlusterFS Handshake SETVOLUME"), "HTTP GET", "DNS A
// query", "FTP AUTH", "TLS handshake".
func operation(t *app.Transaction) string {
	switch t.Protocol {
	case "oncrpc":
		if m := rpc(t); m != nil {
			// With the version, which matters for PROG_MISMATCH and a
			// procedure the version does not name.
			return fmt.Sprintf("%s v%d %s", oncrpc.ProgramName(m.Program), m.Version, oncrpc.ProcedureName(m.Program, m.Version, m.Procedure))
		}
		return t.Operation
	case "dns":
		return "DNS " + t.Operation + " query"
	case "ftp":
		switch t.Operation {
		case "unsolicited":
			return "FTP server (no command pending)"
		case "greeting":
			return "FTP greeting"
		}
	}
	return label(t.Protocol) + " " + t.Operation
}

// phrase names n requests like t: "FTP AUTH commands", "DNS A queries",
// "GlusterFS Handshake v2 SETVOLUME call", "TLS handshakes".
func phrase(t *app.Transaction, n int) string {
	word := noun(t.Protocol)
	if n == 1 {
		word = singular(word)
	}
	switch t.Protocol {
	case "tls":
		return "TLS " + word
	case "dns":
		return "DNS " + t.Operation + " " + word
	}
	return operation(t) + " " + word
}

// reply is a transaction's reply for a title: the server's own words
// without the decoder's quoting.
func reply(t *app.Transaction) string {
	s := t.Reply
	if i := strings.Index(s, `: "`); i >= 0 && strings.HasSuffix(s, `"`) {
		if u, err := strconv.Unquote(s[i+2:]); err == nil {
			s = s[:i+2] + u
		}
	}
	return s
}

// rpc returns the typed RPC message behind a transaction that did not end
// OK, or nil.
func rpc(t *app.Transaction) *oncrpc.Message {
	if r, ok := t.Detail.(*oncrpc.MessageRecord); ok {
		return &r.Msg
	}
	return nil
}

// dnsName returns the name a DNS transaction asked for.
func dnsName(t *app.Transaction) string {
	_, name, _ := strings.Cut(t.Request, " ")
	name, _, _ = strings.Cut(name, " (")
	return name
}

// dnsTries returns how many times the query was sent.
func dnsTries(t *app.Transaction) int {
	if _, rest, ok := strings.Cut(t.Request, " ("); ok {
		n, _ := strconv.Atoi(strings.TrimSuffix(rest, " tries)"))
		return max(n, 1)
	}
	return 1
}

// servers lists distinct server endpoints in first-seen order.
func servers(xs []txn) []flow.Endpoint {
	var out []flow.Endpoint
	for _, x := range xs {
		if !slices.Contains(out, x.server()) {
			out = append(out, x.server())
		}
	}
	return out
}

// clients lists distinct client addresses in first-seen order.
func clients(xs []txn) []string {
	var out []string
	for _, x := range xs {
		if a := x.client().Addr.String(); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// joinEndpoints writes up to five endpoints, then how many more.
func joinEndpoints(es []flow.Endpoint) string {
	var s []string
	for i, e := range es {
		if i == 5 {
			s = append(s, fmt.Sprintf("%d more", len(es)-5))
			break
		}
		s = append(s, e.String())
	}
	return joinAnd(s)
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// connections counts the distinct connections of xs.
func connections(xs []txn) int {
	type key struct {
		stream int64
		c, s   flow.Endpoint
	}
	seen := map[key]bool{}
	for _, x := range xs {
		k := key{x.stream, x.client(), x.server()}
		if x.stream >= 0 {
			k.c, k.s = flow.Endpoint{}, flow.Endpoint{}
		}
		seen[k] = true
	}
	return len(seen)
}

// byTime orders transactions by their request (reply when none).
func byTime(xs []txn) {
	slices.SortStableFunc(xs, func(a, b txn) int { return cmp.Compare(at(a.t).Frame, at(b.t).Frame) })
}

func at(t *app.Transaction) app.Pos {
	if t.RequestAt.Frame != 0 {
		return t.RequestAt
	}
	return t.ReplyAt
}

// ms formats a latency compactly for explanations.
func ms(d time.Duration) string { return detect.Seconds(d) }

func singular(word string) string {
	if word == "queries" {
		return "query"
	}
	return strings.TrimSuffix(word, "s")
}
