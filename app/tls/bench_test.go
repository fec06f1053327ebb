package tls

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// BenchmarkHandshake decodes a TLS 1.3 handshake and 64 full application
// data records each way.
func BenchmarkHandshake(b *testing.B) {
	ch := record(HandshakeRecord, handshakeMsg(TypeClientHello, clientHelloBody("www.example.com", []string{"h2", "http/1.1"}, []uint16{0x0304, 0x0303})))
	sh := record(HandshakeRecord, handshakeMsg(TypeServerHello, serverHelloBody(make([]byte, 32), 0x1301, 0x0304)))
	data := record(ApplicationData, make([]byte, 1<<14))
	b.ReportAllocs()
	b.SetBytes(int64(len(ch) + len(sh) + 128*len(data)))
	out := app.Output{Sink: func(app.Transaction) {}, Record: func(app.Record) {}}
	var at app.Pos
	for b.Loop() {
		c := New(out)
		c.Bytes(app.Client, ch, at)
		c.Bytes(app.Server, sh, at)
		for range 64 {
			for d := data; len(d) > 0; {
				n := min(len(d), 1448)
				c.Bytes(app.Client, d[:n], at)
				c.Bytes(app.Server, d[:n], at)
				d = d[n:]
			}
		}
		c.End(at)
	}
}
