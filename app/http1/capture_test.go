package http1

import (
	"reflect"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

// byFirstTarget decodes each connection of a capture on its own and indexes
// the results by the target of its first request.
func byFirstTarget(t *testing.T, path string, opt apptest.Options) map[string]*output {
	t.Helper()
	conns, err := apptest.Load(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*output{}
	for _, c := range conns {
		o := &output{}
		c.Replay(New(o.out()), 0)
		if rs := o.requests(); len(rs) > 0 {
			m[rs[0].Target] = o
		}
	}
	return m
}

// TestCaptureConnections checks, on the real traffic of testdata/http.pcap,
// what capture.sh set up for each connection.
func TestCaptureConnections(t *testing.T) {
	m := byFirstTarget(t, "testdata/http.pcap", apptest.Options{})
	sum := func(target string) *ConnSummary {
		o := m[target]
		if o == nil || len(o.summaries()) != 1 {
			t.Fatalf("no single connection starting with %s", target)
		}
		return o.summaries()[0]
	}
	// curl asks for keep-alive and the HTTP/1.1 server honours it.
	if s := sum("/len/a"); !s.KeepAliveAsked() || !s.Reused() || s.Requests != 2 || s.ServerClose != 0 {
		t.Errorf("keep-alive connection: %+v", s)
	}
	// The HTTP/1.0 server refuses: one request, then it closes first.
	for _, target := range []string{"/len/b", "/len/c"} {
		if s := sum(target); !s.KeepAliveAsked() || s.Reused() || s.ServerClose != 1 || s.FirstCloser != app.Server {
			t.Errorf("%s: HTTP/1.0 server connection: %+v", target, s)
		}
	}
	if s := sum("/missing"); s.KeepAliveAsked() || s.ClientClose != 1 {
		t.Errorf("Connection: close: %+v", s)
	}
	if s := sum("/len/d"); s.KeepAliveAsked() {
		t.Errorf("HTTP/1.0 client does not ask for keep-alive: %+v", s)
	}
	// Close-delimited responses, completed by the server's FIN.
	for _, target := range []string{"/close", "/raw"} {
		s := sum(target)
		if s.LastDelimit != ByClose || !s.LastComplete || s.CloseDelimitedOpen || s.FirstCloser != app.Server {
			t.Errorf("%s: close-delimited: %+v", target, s)
		}
	}
	// HEAD, 204 and 304 have no body even when a length is announced.
	for _, target := range []string{"/len/e", "/nocontent"} {
		for _, r := range m[target].responses() {
			if r.Code == 503 {
				continue
			}
			if r.Delimit != NoBody || r.Body != 0 || !r.Complete {
				t.Errorf("%s: response %d should have no body: %+v", target, r.Code, r)
			}
		}
	}
	// 100 Continue before the 201.
	if rs := m["/post"].responses(); len(rs) != 2 || !rs[0].Interim || rs[0].Code != 100 || rs[1].Code != 201 || rs[0].Seq != rs[1].Seq {
		t.Errorf("expect 100-continue: %+v", rs)
	}
	// Five pipelined requests in one write, answered in order.
	pipe := m["/len/1"]
	var got []string
	for _, tx := range pipe.txs {
		got = append(got, tx.Request+" → "+tx.Reply)
	}
	want := []string{"GET /len/1 → 200 OK", "HEAD /len/2 → 200 OK", "GET /chunked → 200 OK",
		"GET /nocontent → 204 No Content", "GET /missing → 404 Not Found"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pipelined exchanges:\n got %q\nwant %q", got, want)
	}
	if rs := pipe.responses(); len(rs) == 5 && (rs[2].Delimit != Chunked || rs[2].Body != int64(len("first chunk\nsecond, longer chunk of text\n"))+3000) {
		t.Errorf("chunked response: %+v", rs[2])
	}
}

// TestCaptureIncremental replays the capture one byte at a time and in odd
// pieces: the output must not depend on how bytes arrive.
func TestCaptureIncremental(t *testing.T) {
	whole := decodeCapture(t, "testdata/http.pcap", apptest.Options{}, 0)
	for _, chunk := range []int{1, 2, 7, 100} {
		got := decodeCapture(t, "testdata/http.pcap", apptest.Options{}, chunk)
		if !reflect.DeepEqual(got, whole) {
			t.Fatalf("chunk %d: output differs from whole segments", chunk)
		}
	}
}

// TestCaptureGapInBody drops the frame that carried the first pipelined
// response's Content-Length body: the decoder skips the gap and stays in
// step, so every later response still pairs with its request.
func TestCaptureGapInBody(t *testing.T) {
	const pcap = "testdata/http.pcap"
	conns, err := apptest.Load(pcap, apptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The pipelined connection's second server segment is the first body.
	var drop int64
	for _, c := range conns {
		if b := c.Stream(app.Client); len(b) > 0 && string(b[:10]) == "GET /len/1" {
			n := 0
			for _, e := range c.Events {
				if e.Kind == apptest.Bytes && e.Side == app.Server {
					if n++; n == 2 {
						drop = e.At.Frame
					}
				}
			}
		}
	}
	if drop == 0 {
		t.Fatal("pipelined connection not found")
	}
	m := byFirstTarget(t, pcap, apptest.Options{Drop: func(f int64) bool { return f == drop }})
	pipe := m["/len/1"]
	rs := pipe.responses()
	if len(rs) != 5 {
		t.Fatalf("got %d responses", len(rs))
	}
	if !rs[0].BodyGap || !rs[0].Complete || rs[0].Body != 72 {
		t.Errorf("first response should be complete with a gap: %+v", rs[0])
	}
	for i, r := range rs {
		if r.Seq != i+1 || r.AfterGap {
			t.Errorf("response %d paired with request %d (after gap %v)", i+1, r.Seq, r.AfterGap)
		}
	}
	if s := pipe.summaries()[0]; s.Gaps[app.Server] != 1 || s.Resyncs[app.Server] != 0 {
		t.Errorf("summary: %+v", s)
	}
}

// TestCaptureMissingFIN: in testdata/missing-fin.pcap (capture-missing-fin.sh)
// the server's FIN is dropped after a close-delimited response, and curl
// gives up after its 2 s timeout: the response cannot be known complete.
func TestCaptureMissingFIN(t *testing.T) {
	m := byFirstTarget(t, "testdata/missing-fin.pcap", apptest.Options{})
	o := m["/fin"]
	if o == nil {
		t.Fatal("no /fin connection")
	}
	s := o.summaries()[0]
	if !s.CloseDelimitedOpen || s.LastComplete || s.LastDelimit != ByClose || s.Closed[app.Server] ||
		!s.AnyClosed || s.FirstCloser != app.Client {
		t.Fatalf("summary: %+v", s)
	}
	r := o.responses()[0]
	if s.LastData != r.LastData {
		t.Errorf("summary's last data %v, response's %v", s.LastData, r.LastData)
	}
	if idle := s.ClosedAt[app.Client].Time.Sub(s.LastData.Time); idle < 1900*time.Millisecond || idle > 2500*time.Millisecond {
		t.Errorf("client waited %v after the last byte, curl -m 2 waits 2 s", idle)
	}
	if len(o.txs) != 1 || o.txs[0].Status != app.StatusIncomplete || r.Body != int64(len("complete answer, but only the FIN can say so\n")) {
		t.Errorf("transaction %+v, body %d", o.txs, r.Body)
	}
}
