package dns

import (
	"flag"
	"reflect"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

var writeSeeds = flag.Bool("seeds", false, "write fuzz seeds from testdata captures into testdata/fuzz")

// FuzzMessage decodes arbitrary datagrams, two at a time through one
// exchange (so that matching runs too).
func FuzzMessage(f *testing.F) {
	if *writeSeeds {
		conns, err := apptest.Load("testdata/dns.pcap", apptest.Options{})
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range conns {
			if c.Proto != 17 {
				continue
			}
			for i := 0; i+1 < len(c.Events); i += 2 {
				if err := apptest.WriteSeed(".", "FuzzMessage", c.Events[i].Data, c.Events[i+1].Data); err != nil {
					f.Fatal(err)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		col := run(a, b, a)
		for _, m := range apptest.Of[*Message](col) {
			if len(m.Questions) > MaxQuestions || len(m.Records) > MaxRecords {
				t.Fatal("over caps")
			}
			for _, q := range m.Questions {
				if len(q.Name) > MaxName {
					t.Fatalf("name of %d bytes", len(q.Name))
				}
			}
			for range m.Fields {
			}
		}
		if len(col.Txs) > 2 {
			t.Fatalf("%d transactions from two queries", len(col.Txs))
		}
	})
}

// byteStream delivers every Bytes call one byte at a time.
type byteStream struct{ *Stream }

func (s byteStream) Bytes(side app.Side, b []byte, at app.Pos) {
	for i := range b {
		s.Stream.Bytes(side, b[i:i+1], at)
	}
}

// FuzzStream: TCP framing does not depend on how bytes arrive.
func FuzzStream(f *testing.F) {
	if *writeSeeds {
		conns, err := apptest.Load("testdata/dns.pcap", apptest.Options{})
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range conns {
			if c.Proto == 6 {
				if err := apptest.WriteSeed(".", "FuzzStream", c.Stream(app.Client), c.Stream(app.Server), uint16(0), uint8(0)); err != nil {
					f.Fatal(err)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, client, server []byte, gapAt uint16, gapLen uint8) {
		feed := func(bytewise bool) *apptest.Collector {
			col := &apptest.Collector{}
			dec := NewStream(col.Output())
			s := app.Stream(dec)
			if bytewise {
				s = byteStream{dec}
			}
			var at app.Pos
			s.Bytes(app.Client, client, at)
			if g := int(gapAt); gapLen > 0 && g <= len(server) {
				s.Bytes(app.Server, server[:g], at)
				s.Gap(app.Server, int64(gapLen), at)
				s.Bytes(app.Server, server[g:], at)
			} else {
				s.Bytes(app.Server, server, at)
			}
			s.End(at)
			return col
		}
		if !reflect.DeepEqual(feed(false), feed(true)) {
			t.Fatal("output depends on how bytes are split")
		}
	})
}
