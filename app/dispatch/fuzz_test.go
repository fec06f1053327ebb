package dispatch

import (
	"flag"
	"reflect"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/dns"
	"github.com/wiresleuth/wiresleuth/app/ftp"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
	"github.com/wiresleuth/wiresleuth/app/tls"
)

var writeSeeds = flag.Bool("seeds", false, "write fuzz seeds from the decoders' captures into testdata/fuzz")

// FuzzStream: whatever the bytes and however they are cut, the decoder
// chosen produces exactly what it produces when fed directly.
func FuzzStream(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 204 No Content\r\n\r\n"), uint8(1), uint16(80))
	f.Add([]byte("USER a\r\n"), []byte("220 x\r\n331 y\r\n"), uint8(3), uint16(2811))
	f.Add([]byte{0, 29, 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}, []byte{}, uint8(2), uint16(53))
	f.Add([]byte{22, 3, 1, 0, 5, 1, 0, 0, 1, 3}, []byte{21, 3, 3, 0, 2, 2, 70}, uint8(4), uint16(443))
	if *writeSeeds {
		for _, pcap := range []string{"../http1/testdata/http.pcap", "../ftp/testdata/ftp.pcap", "../tls/testdata/tls.pcap", "../dns/testdata/dns.pcap"} {
			conns, err := apptest.Load(pcap, apptest.Options{})
			if err != nil {
				f.Fatal(err)
			}
			for i, c := range conns {
				if c.Proto != 6 || i%3 != 0 {
					continue // a sample is enough
				}
				if err := apptest.WriteSeed(".", "FuzzStream", c.Stream(app.Client), c.Stream(app.Server), uint8(40), c.Server.Port()); err != nil {
					f.Fatal(err)
				}
			}
		}
	}
	d, err := New(Standard())
	if err != nil {
		f.Fatal(err)
	}
	direct := map[string]func(app.Output) app.Stream{
		"http": func(o app.Output) app.Stream { return http1.New(o) },
		"ftp":  func(o app.Output) app.Stream { return ftp.New(o) },
		"tls":  func(o app.Output) app.Stream { return tls.New(o) },
		"dns":  func(o app.Output) app.Stream { return dns.NewStream(o) },
	}
	f.Fuzz(func(t *testing.T, client, server []byte, chunk uint8, port uint16) {
		n := int(chunk%64) + 1
		feed := func(s app.Stream) {
			c, sv := client, server
			frame := int64(0)
			for len(c) > 0 || len(sv) > 0 {
				frame++
				k := min(n, len(sv))
				s.Bytes(app.Server, sv[:k], app.Pos{Frame: frame})
				sv = sv[k:]
				k = min(n, len(c))
				s.Bytes(app.Client, c[:k], app.Pos{Frame: frame})
				c = c[k:]
			}
			s.Close(app.Client, false, app.Pos{Frame: frame + 1})
			s.End(app.Pos{Frame: frame + 2})
		}
		var got apptest.Collector
		s := d.NewStream(port, got.Output())
		feed(s)
		if s.Protocol() == "" {
			if len(got.Recs)+len(got.Txs) != 0 {
				t.Fatal("output without a decoder")
			}
			return
		}
		var ref apptest.Collector
		feed(direct[s.Protocol()](ref.Output()))
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("%s: dispatched output differs from direct decoding", s.Protocol())
		}
	})
}
