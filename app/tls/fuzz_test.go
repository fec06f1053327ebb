package tls

import (
	"flag"
	"reflect"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

var writeSeeds = flag.Bool("seeds", false, "write fuzz seeds from testdata captures into testdata/fuzz")

// byteStream delivers every Bytes call one byte at a time.
type byteStream struct{ *Conn }

func (s byteStream) Bytes(side app.Side, b []byte, at app.Pos) {
	for i := range b {
		s.Conn.Bytes(side, b[i:i+1], at)
	}
}

// feedAll alternates pieces of at most chunk bytes from each side, with a
// server gap at gapAt.
func feedAll(client, server []byte, chunk, gapAt, gapLen int, bytewise bool) *apptest.Collector {
	col := &apptest.Collector{}
	dec := New(col.Output())
	c := app.Stream(dec)
	if bytewise {
		c = byteStream{dec}
	}
	var at app.Pos
	sent := 0
	for len(client) > 0 || len(server) > 0 {
		n := min(chunk, len(client))
		c.Bytes(app.Client, client[:n], at)
		client = client[n:]
		n = min(chunk, len(server))
		if gapLen > 0 && sent < gapAt && sent+n >= gapAt {
			n = gapAt - sent
			c.Bytes(app.Server, server[:n], at)
			c.Gap(app.Server, int64(gapLen), at)
		} else {
			c.Bytes(app.Server, server[:n], at)
		}
		server, sent = server[n:], sent+n
	}
	c.End(at)
	return col
}

func FuzzConn(f *testing.F) {
	if *writeSeeds {
		conns, err := apptest.Load("testdata/tls.pcap", apptest.Options{})
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range conns {
			if err := apptest.WriteSeed(".", "FuzzConn", c.Stream(app.Client), c.Stream(app.Server), uint16(1500), uint16(0), uint8(0)); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Fuzz(func(t *testing.T, client, server []byte, chunk, gapAt uint16, gapLen uint8) {
		n := int(chunk%2048) + 1
		a := feedAll(client, server, n, int(gapAt), int(gapLen), false)
		if b := feedAll(client, server, n, int(gapAt), int(gapLen), true); !reflect.DeepEqual(a, b) {
			t.Fatal("output depends on how bytes are split")
		}
		if len(a.Txs) > 1 {
			t.Fatalf("more than one handshake transaction: %+v", a.Txs)
		}
		for _, h := range apptest.Of[*ClientHello](a) {
			if len(h.CipherSuites) > MaxList || len(h.Extensions) > MaxList || len(h.ServerName) > MaxName {
				t.Fatal("ClientHello over caps")
			}
		}
	})
}

// FuzzHello parses arbitrary hello bodies.
func FuzzHello(f *testing.F) {
	f.Add(clientHelloBody("x.example", []string{"h2", "http/1.1"}, []uint16{0x0304, 0x0303}))
	f.Add(serverHelloBody(helloRetryRandom, 0x1301, 0x0304))
	f.Fuzz(func(t *testing.T, body []byte) {
		var ch ClientHello
		parseClientHello(&ch, body, false)
		var sh ServerHello
		parseServerHello(&sh, body, true, []byte{1})
		if len(ch.ALPN) > MaxList || len(ch.SupportedVersions) > MaxList {
			t.Fatal("over caps")
		}
		_ = sessionID(body)
	})
}
