package http1

import (
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

func TestChunkedExtensionsAndTrailers(t *testing.T) {
	o := &output{}
	body := "5;name=value\r\nhello\r\n0007\r\n, world\r\n0\r\nExpires: never\r\nX: y\r\n\r\n"
	f := newFeed(o).client("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	// One byte at a time.
	resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + body + "HTTP/1.1 404 Gone\r\nContent-Length: 0\r\n\r\n"
	f.client("GET /2 HTTP/1.1\r\n\r\n")
	for i := range len(resp) {
		f.server(resp[i : i+1])
	}
	f.end()
	rs := o.responses()
	if len(rs) != 2 || rs[0].Delimit != Chunked || rs[0].Body != 12 || !rs[0].Complete || rs[0].TransferEncoding != "gzip, chunked" {
		t.Fatalf("chunked: %+v", rs)
	}
	if rs[1].Code != 404 || rs[1].Seq != 2 || rs[1].Delimit != NoBody {
		t.Fatalf("after chunked: %+v", rs[1])
	}
	if o.txs[1].Status != app.StatusError || o.txs[1].Error != "404" {
		t.Fatalf("404 transaction: %+v", o.txs[1])
	}
}

func TestCloseDelimitedWithoutFIN(t *testing.T) {
	o := &output{}
	newFeed(o).client("GET /x HTTP/1.1\r\nHost: h\r\n\r\n").
		server("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it").
		end()
	s := o.summaries()[0]
	if !s.CloseDelimitedOpen || s.LastComplete || s.LastDelimit != ByClose {
		t.Fatalf("summary: %+v", s)
	}
	if len(o.txs) != 1 || o.txs[0].Status != app.StatusIncomplete {
		t.Fatalf("transaction: %+v", o.txs)
	}
	if r := o.responses()[0]; r.Body != 9 || r.Complete {
		t.Fatalf("response: %+v", r)
	}
}

func TestCloseDelimitedByFINAndRST(t *testing.T) {
	for _, reset := range []bool{false, true} {
		o := &output{}
		newFeed(o).client("GET /x HTTP/1.0\r\n\r\n").
			server("HTTP/1.0 200 OK\r\n\r\nbody").
			close(app.Server, reset).end()
		r := o.responses()[0]
		if r.Complete == reset || o.summaries()[0].CloseDelimitedOpen {
			t.Errorf("reset %v: %+v", reset, r)
		}
		if want := map[bool]app.Status{false: app.StatusOK, true: app.StatusIncomplete}[reset]; o.txs[0].Status != want {
			t.Errorf("reset %v: status %v", reset, o.txs[0].Status)
		}
	}
}

func TestUnansweredAtEnd(t *testing.T) {
	o := &output{}
	newFeed(o).client("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n").
		server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").end()
	if len(o.txs) != 2 || o.txs[1].Status != app.StatusNoReply || o.txs[1].Request != "GET /b" {
		t.Fatalf("%+v", o.txs)
	}
	if o.summaries()[0].Unanswered != 1 {
		t.Fatalf("%+v", o.summaries()[0])
	}
}

func TestInterimAndUpgrade(t *testing.T) {
	o := &output{}
	f := newFeed(o).client("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n").
		server("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello")
	f.client("\x81\x85garbage that is not HTTP\r\n\r\n").end()
	s := o.summaries()[0]
	if !s.Tunnel || s.Malformed != [2]int{} || s.Unanswered != 0 || len(o.txs) != 1 || o.txs[0].Status != app.StatusOK {
		t.Fatalf("summary: %+v %+v", s, o.txs)
	}
	if r := o.responses()[0]; r.Interim || r.Delimit != Tunnel || r.Upgrade != "websocket" {
		t.Fatalf("response: %+v", r)
	}
}

func TestConnectTunnel(t *testing.T) {
	o := &output{}
	newFeed(o).client("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").
		server("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01").
		client("\x16\x03\x01\x02\x00").end()
	if s := o.summaries()[0]; !s.Tunnel || s.Unanswered != 0 || len(o.txs) != 1 || o.txs[0].Status != app.StatusOK {
		t.Fatalf("%+v %+v", s, o.txs)
	}
}

func TestGapInHeadersResyncs(t *testing.T) {
	o := &output{}
	newFeed(o).client("GET /a HTTP/1.1\r\nHost: h").gap(app.Client, 40).
		client("er: x\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n").
		server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").end()
	rq := o.requests()
	if len(rq) != 2 || rq[0].Complete || !rq[1].Complete || !rq[1].AfterGap || rq[1].Target != "/b" {
		t.Fatalf("requests: %+v", rq)
	}
	if s := o.summaries()[0]; s.Resyncs[app.Client] != 1 || s.Gaps[app.Client] != 1 || s.Unanswered != 0 {
		t.Fatalf("summary: %+v", s)
	}
}

func TestGapInServerHeadResyncs(t *testing.T) {
	o := &output{}
	newFeed(o).client("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n").
		server("HTTP/1.1 500 Oops\r\nContent-Le").gap(app.Server, 10).
		server("ngth: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").end()
	// The status line after the gap is not at a line start: only the
	// cut 500 and nothing else is decoded for /a; /b's response is lost
	// in the same line, so /b stays unanswered.
	if len(o.txs) != 2 || o.txs[0].Error != "500" || o.txs[1].Status != app.StatusNoReply {
		t.Fatalf("%+v", o.txs)
	}
}

func TestTooManyHeaders(t *testing.T) {
	o := &output{}
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\n")
	for range MaxHeaders + 1 {
		b.WriteString("X: y\r\n")
	}
	b.WriteString("\r\nGET /next HTTP/1.1\r\n\r\n")
	newFeed(o).client(b.String()).end()
	rq := o.requests()
	if len(rq) != 2 || rq[0].Malformed != "too many header fields" || rq[1].Target != "/next" || !rq[1].Complete {
		t.Fatalf("%+v", rq)
	}
}

func TestLongLineTruncatedStaysInStep(t *testing.T) {
	o := &output{}
	long := strings.Repeat("v", MaxLine*2)
	newFeed(o).client("GET / HTTP/1.1\r\nCookie: " + long + "\r\nHost: " + long[:MaxValue+10] + "\r\n\r\nGET /2 HTTP/1.1\r\n\r\n").end()
	rq := o.requests()
	if len(rq) != 2 || !rq[0].Truncated || len(rq[0].Host) != MaxValue || !rq[1].Complete {
		t.Fatalf("%+v", rq)
	}
}

func TestInvalidContentLength(t *testing.T) {
	o := &output{}
	newFeed(o).client("GET / HTTP/1.1\r\n\r\n").
		server("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef").
		close(app.Server, false).end()
	r := o.responses()[0]
	if r.Delimit != ByClose || r.Malformed != "invalid Content-Length" || r.Body != 6 || !r.Complete {
		t.Fatalf("%+v", r)
	}
}

func TestKeepAliveRules(t *testing.T) {
	for _, tc := range []struct {
		head string
		want bool
	}{
		{"HTTP/1.1", true},
		{"HTTP/1.1\r\nConnection: close", false},
		{"HTTP/1.0", false},
		{"HTTP/1.0\r\nConnection: Keep-Alive\r\nKeep-Alive: timeout=5", true},
		{"HTTP/1.1\r\nConnection: keep-alive, Close", false},
	} {
		o := &output{}
		newFeed(o).client("GET / " + tc.head + "\r\n\r\n").end()
		if got := o.requests()[0].Persistent(); got != tc.want {
			t.Errorf("%q: persistent %v", tc.head, got)
		}
	}
}

func TestMaxPending(t *testing.T) {
	o := &output{}
	f := newFeed(o)
	for range MaxPending + 3 {
		f.client("GET / HTTP/1.1\r\n\r\n")
	}
	f.end()
	if s := o.summaries()[0]; s.Dropped != 3 || s.Unanswered != MaxPending {
		t.Fatalf("%+v", s)
	}
}

func TestRawBytesKept(t *testing.T) {
	o := &output{}
	newFeed(o).client("GET /\xff\xfe\x01x HTTP/1.1\r\nHost: \xc3\x28\r\n\r\n").end()
	r := o.requests()
	if len(r) != 1 || r[0].Target != "/\xff\xfe\x01x" || r[0].Host != "\xc3\x28" {
		// \x01 is a control byte: the request line is invalid.
		if len(r) != 0 {
			t.Fatalf("%+v", r)
		}
	}
	o = &output{}
	newFeed(o).client("GET /\xff\xfe HTTP/1.1\r\nHost: \xc3\x28\r\n\r\n").end()
	if r := o.requests(); len(r) != 1 || r[0].Target != "/\xff\xfe" || r[0].Host != "\xc3\x28" {
		t.Fatalf("%+v", r)
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		side  app.Side
		first string
		want  app.Confidence
	}{
		{app.Client, "GET / HTTP/1.1\r\n", app.Likely},
		{app.Client, "GET /", app.Likely},
		{app.Client, "PO", app.Maybe},
		{app.Client, "FOO / HTTP/1.1\r\n", app.Likely},
		{app.Client, "USER anonymous\r\n", app.No},
		{app.Client, "\x16\x03\x01", app.No},
		{app.Server, "HTTP/1.1 200 OK\r\n", app.Likely},
		{app.Server, "HTTP/1.0 2", app.Likely},
		{app.Server, "HTT", app.Maybe},
		{app.Server, "220 ftp ready\r\n", app.No},
		{app.Server, "", app.No},
		{app.Server, "ody of an earlier one\r\nHTTP/1.1 200 OK\r\n", app.Maybe},
		{app.Client, "x=1&y=2\r\nPOST /form HTTP/1.1\r\n", app.Maybe},
		{app.Client, "x=1&y=2\r\nnothing\r\n", app.No},
	} {
		if got := Probe(tc.side, []byte(tc.first), 80); got != tc.want {
			t.Errorf("Probe(%v, %q) = %v, want %v", tc.side, tc.first, got, tc.want)
		}
	}
}

func TestResponseToRequestInProgress(t *testing.T) {
	o := &output{}
	newFeed(o).client("POST /upload HTTP/1.1\r\nContent-Length: 100000\r\n\r\npartial").
		server("HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").
		close(app.Server, false).end()
	if len(o.txs) != 1 || o.txs[0].Request != "POST /upload" || o.txs[0].Error != "413" || o.summaries()[0].Unanswered != 0 {
		t.Fatalf("%+v %+v", o.txs, o.summaries())
	}
	if r := o.requests(); len(r) != 1 || r[0].Complete || r[0].Body != 7 {
		t.Fatalf("%+v", r)
	}
}

func TestResponseToUnfinishedHead(t *testing.T) {
	o := &output{}
	newFeed(o).client("GET /slow HTTP/1.1\r\nHost: a").
		server("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n").end()
	if len(o.txs) != 1 || o.txs[0].Request != "GET /slow" || o.txs[0].Error != "408" || o.summaries()[0].Unanswered != 0 {
		t.Fatalf("%+v %+v", o.txs, o.summaries())
	}
}
