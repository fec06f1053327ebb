package closing

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// NoReuse reports HTTP clients that open a connection per request although
// they ask for keep-alive: who refuses or closes first, and the cost in
// handshakes per request.
var NoReuse = &detect.Detector{
	ID:  "conn.no-reuse",
	Doc: "every connection carries one request although reuse was asked for (HTTP keep-alive): who closes first, the cost in handshakes per request",
	Run: runNoReuse,
}

// Bounds of conn.no-reuse.
const (
	// MinSingleUse is how many one-request connections from a client to a
	// server it takes: two could be chance.
	MinSingleUse = 3
	// singleShare is the share of a client's connections to the server
	// that must carry one request each (numerator/denominator).
	singleNum, singleDen = 9, 10
)

type reuseKey struct {
	client string // client host
	server flow.Endpoint
}

type httpConn struct {
	a      *detect.AppConn
	s      *http1.ConnSummary
	stream int64
}

func runNoReuse(p *detect.Pass) error {
	for _, ds := range p.Datasets {
		var order []reuseKey
		groups := map[reuseKey][]httpConn{}
		for stream, a := range ds.Apps {
			s, ok := a.Summary.(*http1.ConnSummary)
			// Without a response the capture may show one direction only:
			// nothing to say about reuse.
			if !ok || s.Requests == 0 || s.Responses == 0 || s.Tunnel {
				continue
			}
			k := reuseKey{a.Client.Addr.String(), a.Server}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], httpConn{a, s, stream})
		}
		slices.SortFunc(order, func(x, y reuseKey) int {
			return cmp.Or(cmp.Compare(x.server.String(), y.server.String()), cmp.Compare(x.client, y.client))
		})
		briefs := map[int64]*detect.Brief{}
		for i := range ds.Briefs {
			if b := &ds.Briefs[i]; b.Stream >= 0 {
				briefs[b.Stream] = b
			}
		}
		for _, k := range order {
			hs := groups[k]
			slices.SortFunc(hs, func(x, y httpConn) int { return cmp.Compare(x.s.Start.Frame, y.s.Start.Frame) })
			if f, ok := noReuse(ds, k, hs, briefs); ok {
				p.Report(f)
			}
		}
	}
	return nil
}

func noReuse(ds *detect.Dataset, k reuseKey, hs []httpConn, briefs map[int64]*detect.Brief) (detect.Finding, bool) {
	var single, asked, requests, serverClose, serverOffered, serverFirst, clientFirst, clientClose int
	for _, h := range hs {
		s := h.s
		requests += s.Requests
		if s.Requests != 1 {
			continue
		}
		single++
		if s.KeepAliveAsked() {
			asked++
		}
		if s.ClientClose > 0 {
			clientClose++
		}
		if s.ServerClose > 0 {
			serverClose++
		}
		if s.ServerKeepAlive > 0 && s.ServerClose == 0 {
			serverOffered++
		}
		if s.AnyClosed {
			if s.FirstCloser == app.Server {
				serverFirst++
			} else {
				clientFirst++
			}
		}
	}
	n := len(hs)
	if single < MinSingleUse || single*singleDen < n*singleNum || asked*singleDen < single*singleNum {
		return detect.Finding{}, false
	}
	f := detect.Finding{
		Severity:   detect.Warning,
		Affected:   single,
		OutOf:      n,
		Comparable: fmt.Sprintf("HTTP connections from %s to %s", k.client, k.server),
		Score:      float64(single),
	}
	refused := serverClose > 0 || serverFirst*2 > single
	if !refused {
		// Both sides allow reuse and the client still closes: it does not
		// pool its connections. Worth knowing, not a fault.
		f.Severity = detect.Info
	}
	f.Title = fmt.Sprintf("%d HTTP requests from %s to %s used %s, one each, although the client asked for keep-alive", requests, k.client, k.server, detect.Plural(n, "connection"))
	if !refused {
		f.Title = fmt.Sprintf("%d HTTP requests from %s to %s used %s: the client closes each after one request although both sides allow keep-alive", requests, k.client, k.server, detect.Plural(n, "connection"))
	}

	var b strings.Builder
	fmt.Fprintf(&b, "In %s, %s from %s to %s carried one request each (%s in all), although the client spoke HTTP/1.1 without Connection: close (or HTTP/1.0 with keep-alive) on %d of them: it asked to reuse the connection. ",
		ds.Name, detect.Plural(single, "connection"), k.client, k.server, detect.Plural(requests, "request"), asked)
	switch {
	case serverClose == single:
		fmt.Fprintf(&b, "The server refused every time: its responses said Connection: close. ")
	case serverClose > 0:
		fmt.Fprintf(&b, "The server refused on %d of them (Connection: close in the response). ", serverClose)
	case serverOffered == single:
		fmt.Fprintf(&b, "The server's responses allowed keep-alive. ")
	}
	switch {
	case serverFirst == single:
		fmt.Fprintf(&b, "The server closed first every time (its FIN came first), so the server holds each closed connection in TIME_WAIT (60 s on Linux). ")
	case clientFirst == single:
		fmt.Fprintf(&b, "The client closed first every time, so the client holds each closed connection in TIME_WAIT. ")
	default:
		fmt.Fprintf(&b, "The server closed first on %d, the client on %d. ", serverFirst, clientFirst)
	}
	fmt.Fprintf(&b, "Each request paid for its own handshake and close: %d handshakes and %d FINs for %d requests (%.2f handshakes per request), where one connection could have carried them all — the \"nearly as many FIN-ACKs as PSH-ACKs\" flag ratio. ",
		n, 2*n, requests, float64(n)/float64(requests))
	if serverFirst*2 > single {
		b.WriteString("A server that closes first piles up TIME_WAIT entries; behind a load balancer or SNAT that reuses source ports quickly, a new SYN can land on a 4-tuple the server still holds and be answered with a stale ACK and a reset (handshake.stale-ack).")
	}
	f.Explanation = strings.TrimSpace(b.String())

	f.AddFact("server", k.server.String())
	f.AddFact("client", k.client)
	f.AddFact("connections", fmt.Sprint(n))
	f.AddFact("requests", fmt.Sprint(requests))
	f.AddFact("handshakes_per_request", fmt.Sprintf("%.2f", float64(n)/float64(requests)))
	f.AddFact("keep_alive_asked", fmt.Sprint(asked))
	f.AddFact("server_connection_close", fmt.Sprint(serverClose))
	switch {
	case serverFirst*2 > single:
		f.AddFact("first_closer", "server")
	case clientFirst*2 > single:
		f.AddFact("first_closer", "client")
	}

	for _, h := range hs {
		if b := briefs[h.stream]; b != nil {
			f.AddConn(detect.NewConn(ds.Name, "tcp", b.Orig, b.Resp, b.Start, ""))
		} else {
			f.AddConn(detect.NewConn(ds.Name, "tcp", h.a.Client, h.a.Server, h.s.Start.Time, ""))
		}
	}
	for i, h := range hs {
		if i >= 3 {
			break
		}
		s := h.s
		f.AddEvidence(detect.Packet(ds, ref(s.Start), fmt.Sprintf("request %d, on its own connection (keep-alive asked: %v)", i+1, s.KeepAliveAsked())))
		if s.AnyClosed {
			at := s.ClosedAt[s.FirstCloser]
			f.AddEvidence(detect.Packet(ds, ref(at), fmt.Sprintf("the %s closes first after one request", s.FirstCloser)))
		}
	}
	if refused {
		f.NextSteps = []string{
			fmt.Sprintf("Find why %s closes after one request: its keep-alive settings (nginx keepalive_timeout 0 or keepalive_requests, Apache KeepAlive Off, MaxKeepAliveRequests), a proxy that adds Connection: close, or an application that closes the connection when it closes the request body (Go 1.4.3's net/http did).", k.server),
			"If a load balancer sits in front, check its connection-reuse (OneConnect, keep-alive to the pool) and SNAT port allocation: reusing ports against a server that holds TIME_WAIT gives resets.",
		}
	} else {
		f.NextSteps = []string{
			fmt.Sprintf("Make the client at %s pool its connections (one long-lived http.Client/Transport, read each body to the end and close it, MaxIdleConnsPerHost): each request now pays a handshake.", k.client),
		}
	}
	return f, true
}

func ref(p app.Pos) conn.Ref { return conn.Ref{Frame: p.Frame, Time: p.Time} }
