package http1

import (
	"flag"
	"reflect"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

var writeSeeds = flag.Bool("seeds", false, "write fuzz seeds from testdata captures into testdata/fuzz")

// feedAll sends the client bytes, then the server bytes with a gap of gapLen
// bytes at offset gapAt, in pieces of at most chunk bytes (0: whole), all at
// one position, so the output depends only on the bytes.
func feedAll(client, server []byte, chunk int, gapAt, gapLen int) *output {
	o := &output{}
	c := New(o.out())
	at := app.Pos{Frame: 1}
	send := func(side app.Side, b []byte) {
		for chunk > 0 && len(b) > chunk {
			c.Bytes(side, b[:chunk], at)
			b = b[chunk:]
		}
		c.Bytes(side, b, at)
	}
	send(app.Client, client)
	if gapLen > 0 && gapAt <= len(server) {
		send(app.Server, server[:gapAt])
		c.Gap(app.Server, int64(gapLen), at)
		send(app.Server, server[gapAt:])
	} else {
		send(app.Server, server)
	}
	c.Close(app.Server, false, at)
	c.End(at)
	return o
}

// FuzzConn checks that no input panics, that memory stays bounded, that the
// output does not depend on how bytes are split, and that pairing is sane.
func FuzzConn(f *testing.F) {
	if *writeSeeds {
		conns, err := apptest.Load("testdata/http.pcap", apptest.Options{})
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range conns {
			if err := apptest.WriteSeed(".", "FuzzConn", c.Stream(app.Client), c.Stream(app.Server), uint8(3), uint16(0), uint8(0)); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), uint8(1), uint16(20), uint8(4))
	f.Fuzz(func(t *testing.T, client, server []byte, chunk uint8, gapAt uint16, gapLen uint8) {
		whole := feedAll(client, server, 0, int(gapAt), int(gapLen))
		split := feedAll(client, server, int(chunk%16)+1, int(gapAt), int(gapLen))
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("output depends on chunking")
		}
		seq := 0
		for _, r := range whole.requests() {
			if r.Seq != seq+1 {
				t.Fatalf("request numbers not consecutive: %d after %d", r.Seq, seq)
			}
			seq = r.Seq
			if len(r.Target) > MaxValue || len(r.Host) > MaxValue+2+MaxValue {
				t.Fatalf("kept value over its cap")
			}
		}
		for _, r := range whole.responses() {
			if r.Seq > seq || r.Code < 100 || r.Code > 999 {
				t.Fatalf("response %+v", r)
			}
		}
		if s := whole.summaries(); len(s) != 1 || s[0].Requests != seq {
			t.Fatalf("summary %+v", s)
		}
	})
}
