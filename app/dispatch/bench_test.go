package dispatch

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// BenchmarkDecide measures holding, probing and replaying the first
// exchange of an HTTP connection, and a stream nothing recognises.
func BenchmarkDecide(b *testing.B) {
	d, err := New(Standard())
	if err != nil {
		b.Fatal(err)
	}
	req := []byte("GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n")
	resp := []byte("HTTP/1.1 204 No Content\r\n\r\n")
	junk := []byte("\x00\x17\x42binary protocol nobody here knows\x00")
	out := app.Output{}
	var at app.Pos
	b.ReportAllocs()
	for b.Loop() {
		s := d.NewStream(8080, out)
		s.Bytes(app.Client, req, at)
		s.Bytes(app.Server, resp, at)
		s.End(at)
		s = d.NewStream(9999, out)
		s.Bytes(app.Client, junk, at)
		s.Bytes(app.Server, junk, at)
		s.End(at)
	}
}
