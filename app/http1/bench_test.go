package http1

import (
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// keepAliveExchange is one request and a 1 KiB response on a reused
// connection, as curl and a typical server send them.
var (
	benchReq  = []byte("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n")
	benchResp = []byte("HTTP/1.1 200 OK\r\nServer: bench\r\nDate: Sat, 21 Nov 2026 08:59:10 GMT\r\nContent-Type: text/html\r\nContent-Length: 1024\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n" + strings.Repeat("x", 1024))
)

// BenchmarkConn decodes 100 keep-alive exchanges per connection, each
// message in one segment.
func BenchmarkConn(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(100 * (len(benchReq) + len(benchResp))))
	out := app.Output{Sink: func(app.Transaction) {}, Record: func(app.Record) {}}
	var at app.Pos
	for b.Loop() {
		c := New(out)
		for range 100 {
			c.Bytes(app.Client, benchReq, at)
			c.Bytes(app.Server, benchResp, at)
		}
		c.End(at)
	}
}

// BenchmarkConnChunked decodes one chunked response of 64 chunks delivered
// in 1448-byte segments.
func BenchmarkConnChunked(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
	for range 64 {
		sb.WriteString("400\r\n" + strings.Repeat("y", 1024) + "\r\n")
	}
	sb.WriteString("0\r\n\r\n")
	resp := []byte(sb.String())
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	out := app.Output{}
	var at app.Pos
	for b.Loop() {
		c := New(out)
		c.Bytes(app.Client, benchReq, at)
		for r := resp; len(r) > 0; {
			n := min(len(r), 1448)
			c.Bytes(app.Server, r[:n], at)
			r = r[n:]
		}
		c.End(at)
	}
}
