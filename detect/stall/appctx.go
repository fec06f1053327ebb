package stall

import (
	"fmt"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/ftp"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/app/tls"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
)

// appContext is what application decoding says about a stalled
// connection at one vantage point.
type appContext struct {
	proto string
	// before is what got through before the stall ("the server's 220
	// banner"), at beforeRef.
	before    string
	beforeRef conn.Ref
	// request is the request the stalled bytes carried (or were carrying
	// when they stopped): "AUTH GSSAPI", "GET /big".
	request    string
	requestRef conn.Ref
	// reply is an error reply that came after the stall began ("421 Idle
	// Timeout: closing control connection."), at replyRef.
	reply    string
	replyRef conn.Ref
}

// txnIndex maps TCP streams to their transactions, per dataset.
type txnIndex map[*detect.Dataset]map[int64][]int

func (x txnIndex) of(ds *detect.Dataset, stream int64) []app.Transaction {
	m, ok := x[ds]
	if !ok {
		m = map[int64][]int{}
		for i, s := range ds.TxnStreams {
			if s >= 0 {
				m[s] = append(m[s], i)
			}
		}
		x[ds] = m
	}
	var out []app.Transaction
	for _, i := range m[stream] {
		out = append(out, ds.Transactions[i])
	}
	return out
}

func ref(p app.Pos) conn.Ref { return conn.Ref{Frame: p.Frame, Time: p.Time} }

// contextOf reads the application view of v's connection.
func contextOf(v *view, txns txnIndex) appContext {
	var c appContext
	a := v.ds.Apps[v.f.Stream]
	if a == nil {
		return c
	}
	c.proto = a.Protocol
	start := v.start()
	fromClient := v.fromClient()
	switch s := a.Summary.(type) {
	case *ftp.ConnSummary:
		if s.Greeting && fromClient && s.GreetingAt.Frame < start.Frame {
			c.before = fmt.Sprintf("the server's %d banner", s.GreetingCode)
			c.beforeRef = ref(s.GreetingAt)
		}
	case *tls.ConnSummary:
		if fromClient && !s.ServerHello && s.ClientHello {
			c.request = "TLS ClientHello"
			if s.ServerName != "" {
				c.request += " for " + s.ServerName
			}
		}
	case *http1.ConnSummary:
	}
	head := v.d().HeadRefs
	for _, t := range txns.of(v.ds, v.f.Stream) {
		if fromClient && t.RequestAt.Frame != 0 && t.Request != "" {
			// The request whose first bytes are the stalled ones, else the
			// last one started before the stall and never answered well.
			if containsFrame(head, t.RequestAt.Frame) || t.RequestAt.Frame <= start.Frame && t.Status != app.StatusOK {
				c.request, c.requestRef = t.Request, ref(t.RequestAt)
			}
		}
		if !fromClient && t.ReplyAt.Frame != 0 && t.ReplyAt.Frame <= start.Frame && t.Request != "" && t.Status != app.StatusOK {
			c.request, c.requestRef = t.Request, ref(t.RequestAt)
		}
		if t.Status == app.StatusError && t.ReplyAt.Frame > start.Frame && c.reply == "" {
			c.reply, c.replyRef = t.Reply, ref(t.ReplyAt)
		}
	}
	return c
}

func containsFrame(refs []conn.Ref, frame int64) bool {
	for _, r := range refs {
		if r.Frame == frame {
			return true
		}
	}
	return false
}
