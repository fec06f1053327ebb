package ftp

import (
	"flag"
	"reflect"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

var writeSeeds = flag.Bool("seeds", false, "write fuzz seeds from testdata captures into testdata/fuzz")

// feedAll interleaves client and server bytes line-ish: alternating pieces
// of at most chunk bytes, with a server gap at gapAt; all at one position so
// that output depends only on the bytes and the interleaving.
// With bytewise set, each piece is further delivered one byte at a time.
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
		n := min(chunk, len(server))
		if gapLen > 0 && sent < gapAt && sent+n >= gapAt {
			n = gapAt - sent
			c.Bytes(app.Server, server[:n], at)
			c.Gap(app.Server, int64(gapLen), at)
		} else {
			c.Bytes(app.Server, server[:n], at)
		}
		server, sent = server[n:], sent+n
		n = min(chunk, len(client))
		c.Bytes(app.Client, client[:n], at)
		client = client[n:]
	}
	c.Close(app.Server, false, at)
	c.End(at)
	return col
}

// byteStream delivers every Bytes call one byte at a time.
type byteStream struct{ *Conn }

func (s byteStream) Bytes(side app.Side, b []byte, at app.Pos) {
	for i := range b {
		s.Conn.Bytes(side, b[i:i+1], at)
	}
}

// FuzzConn: no panic, caps hold, and splitting each piece further into
// single bytes changes nothing.
func FuzzConn(f *testing.F) {
	if *writeSeeds {
		conns, err := apptest.Load("testdata/ftp.pcap", apptest.Options{})
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range conns {
			if c.Server.Port() == 21 || c.Server.Port() == 2811 {
				if err := apptest.WriteSeed(".", "FuzzConn", c.Stream(app.Client), c.Stream(app.Server), uint8(64), uint16(0), uint8(0)); err != nil {
					f.Fatal(err)
				}
			}
		}
	}
	f.Add([]byte("USER a\r\nPASV\r\n"), []byte("220-x\r\n220 y\r\n331 p\r\n227 (1,2,3,4,5,6)\r\n"), uint8(5), uint16(9), uint8(3))
	f.Fuzz(func(t *testing.T, client, server []byte, chunk uint8, gapAt uint16, gapLen uint8) {
		n := int(chunk%32) + 1
		a := feedAll(client, server, n, int(gapAt), int(gapLen), false)
		if b := feedAll(client, server, n, int(gapAt), int(gapLen), true); !reflect.DeepEqual(a, b) {
			t.Fatal("output depends on how bytes are split")
		}
		for _, r := range apptest.Of[*Reply](a) {
			if len(r.Text) > MaxValue || len(r.More) > MaxText || r.Code < 100 || r.Code > 699 {
				t.Fatalf("reply over caps: %d %d %d", len(r.Text), len(r.More), r.Code)
			}
		}
		for _, c := range apptest.Of[*Command](a) {
			if len(c.Arg) > MaxValue || len(c.Data) > MaxData {
				t.Fatalf("command over caps")
			}
		}
		s := apptest.Of[*ConnSummary](a)
		if len(s) != 1 || len(s[0].Data) > MaxData || s[0].Commands != len(apptest.Of[*Command](a)) {
			t.Fatalf("summary %+v", s)
		}
	})
}

// FuzzLineSplit: a server stream decodes the same whole and byte by byte.
func FuzzLineSplit(f *testing.F) {
	f.Add([]byte("220-a\r\n b\r\n220 c\r\n421 bye\r\n"))
	f.Fuzz(func(t *testing.T, server []byte) {
		run := func(chunk int) *apptest.Collector {
			col := &apptest.Collector{}
			c := New(col.Output())
			var at app.Pos
			for b := server; len(b) > 0; {
				n := min(chunk, len(b))
				c.Bytes(app.Server, b[:n], at)
				b = b[n:]
			}
			c.End(at)
			return col
		}
		if !reflect.DeepEqual(run(len(server)+1), run(1)) {
			t.Fatal("output depends on splitting")
		}
	})
}
