package dispatch

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/dns"
	"github.com/wiresleuth/wiresleuth/app/ftp"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
	"github.com/wiresleuth/wiresleuth/app/tls"
)

// recorder is a protocol decoder that logs every call it gets, standing in
// for a decoder from another package (app/oncrpc registers the same way).
type recorder struct{ log *[]string }

func (r recorder) Bytes(side app.Side, b []byte, at app.Pos) {
	*r.log = append(*r.log, fmt.Sprintf("bytes %v %q @%d", side, b, at.Frame))
}
func (r recorder) Gap(side app.Side, n int64, at app.Pos) {
	*r.log = append(*r.log, fmt.Sprintf("gap %v %d @%d", side, n, at.Frame))
}
func (r recorder) Close(side app.Side, reset bool, at app.Pos) {
	*r.log = append(*r.log, fmt.Sprintf("close %v %v @%d", side, reset, at.Frame))
}
func (r recorder) End(at app.Pos) { *r.log = append(*r.log, fmt.Sprintf("end @%d", at.Frame)) }

// echoProtocol recognises "ECHO" from either side, Likely on port 7.
func echoProtocol(log *[]string) app.Protocol {
	return app.Protocol{
		Name: "echo",
		Probe: func(side app.Side, first []byte, port uint16) app.Confidence {
			switch {
			case len(first) >= 4 && string(first[:4]) == "ECHO" && port == 7:
				return app.Likely
			case len(first) >= 4 && string(first[:4]) == "ECHO":
				return app.Maybe
			}
			return app.No
		},
		NewStream: func(app.Sink) app.Stream { return recorder{log} },
	}
}

func TestNewRejectsBadLists(t *testing.T) {
	var log []string
	for _, list := range [][]app.Protocol{
		{{Name: "x"}},
		{echoProtocol(&log), echoProtocol(&log)},
		{{Name: "y", Probe: func(app.Side, []byte, uint16) app.Confidence { return app.No }}},
	} {
		if _, err := New(list); !errors.Is(err, ErrProtocol) {
			t.Errorf("%v: err %v", list, err)
		}
	}
}

// TestReplayKeepsOrder: an explicitly listed foreign protocol is chosen and
// gets every held call once, in order, with its position.
func TestReplayKeepsOrder(t *testing.T) {
	var log []string
	d, err := New(append(Standard(), echoProtocol(&log)))
	if err != nil {
		t.Fatal(err)
	}
	s := d.NewStream(9, app.Output{})
	s.Bytes(app.Client, []byte("EC"), app.Pos{Frame: 1})
	s.Bytes(app.Client, []byte("HO "), app.Pos{Frame: 2})
	s.Gap(app.Client, 5, app.Pos{Frame: 3}) // forces the decision: Maybe is enough
	s.Bytes(app.Server, []byte("reply"), app.Pos{Frame: 4})
	s.Close(app.Server, true, app.Pos{Frame: 5})
	s.End(app.Pos{Frame: 6})
	want := []string{`bytes client "EC" @1`, `bytes client "HO " @2`, "gap client 5 @3", `bytes server "reply" @4`, "close server true @5", "end @6"}
	if s.Protocol() != "echo" || !reflect.DeepEqual(log, want) {
		t.Fatalf("protocol %q, log:\n%q\nwant\n%q", s.Protocol(), log, want)
	}
}

func TestWaitsForBothSidesOrLikely(t *testing.T) {
	var log []string
	d, _ := New(append(Standard(), echoProtocol(&log)))
	// FTP on an unusual port: the greeting alone is only Maybe, the
	// client's USER settles it.
	s := d.NewStream(5021, app.Output{})
	s.Bytes(app.Server, []byte("220 hello\r\n"), app.Pos{Frame: 1})
	if s.Protocol() != "" {
		t.Fatalf("decided on a Maybe: %q", s.Protocol())
	}
	s.Bytes(app.Client, []byte("USER x\r\n"), app.Pos{Frame: 2})
	if s.Protocol() != "ftp" {
		t.Fatalf("got %q", s.Protocol())
	}
	// Nothing matches: no decoder, nothing forwarded.
	s = d.NewStream(5000, app.Output{})
	s.Bytes(app.Client, []byte("\x00\x01binary"), app.Pos{Frame: 1})
	s.Bytes(app.Server, []byte("\x02\x03"), app.Pos{Frame: 2})
	s.End(app.Pos{Frame: 3})
	if s.Protocol() != "" || s.Decoder() != nil || len(log) != 0 {
		t.Fatalf("got %q %v %q", s.Protocol(), s.Decoder(), log)
	}
	// A large first call: decided at MaxProbe, the rest passed straight on.
	log = nil
	s = d.NewStream(7, app.Output{})
	big := append([]byte("ECHO"), make([]byte, 3*MaxProbe)...)
	s.Bytes(app.Client, big, app.Pos{Frame: 1})
	// The first MaxProbe bytes were held and replayed, the rest passed on.
	if len(log) != 2 || len(log[0])+len(log[1]) < len(big) {
		t.Fatalf("log %d entries", len(log))
	}
}

// expected is the protocol each capture's connections should get, by the
// server port capture.sh used.
func expected(port uint16) string {
	switch port {
	case 8080, 8081, 8082:
		return "http"
	case 21, 2811:
		return "ftp"
	case 4433, 4434, 4435, 4436:
		return "tls"
	case 53:
		return "dns"
	}
	return "" // FTP data connections: file contents, no protocol
}

// TestCaptures dispatches every connection of the four packages' captures,
// whole and byte by byte, checks the protocol chosen and that the output
// equals the one of the right decoder fed directly.
func TestCaptures(t *testing.T) {
	d, err := New(Standard())
	if err != nil {
		t.Fatal(err)
	}
	direct := map[string]func(app.Output) app.Stream{
		"http": func(o app.Output) app.Stream { return http1.New(o) },
		"ftp":  func(o app.Output) app.Stream { return ftp.New(o) },
		"tls":  func(o app.Output) app.Stream { return tls.New(o) },
		"dns":  func(o app.Output) app.Stream { return dns.NewStream(o) },
	}
	counts := map[string]int{}
	for _, pcap := range []string{"../http1/testdata/http.pcap", "../ftp/testdata/ftp.pcap", "../tls/testdata/tls.pcap", "../dns/testdata/dns.pcap"} {
		conns, err := apptest.Load(pcap, apptest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range conns {
			want := expected(c.Server.Port())
			if c.Proto == 17 {
				var got, ref apptest.Collector
				g := d.NewDatagrams(c.Server.Port(), got.Output())
				c.ReplayDatagrams(g)
				c.ReplayDatagrams(dns.NewDatagrams(ref.Output()))
				if g.Protocol() != want || !reflect.DeepEqual(got, ref) {
					t.Errorf("%s udp %v: got %q", pcap, c.Server, g.Protocol())
				}
				counts["udp "+g.Protocol()]++
				continue
			}
			for _, chunk := range []int{0, 1} {
				var got, ref apptest.Collector
				s := d.NewStream(c.Server.Port(), got.Output())
				c.Replay(s, chunk)
				if len(c.Stream(app.Client)) == 0 && len(c.Stream(app.Server)) == 0 {
					want = "" // refused, or a readiness probe nobody spoke on
				}
				if s.Protocol() != want {
					t.Errorf("%s %v→%v chunk %d: got %q, want %q", pcap, c.Client, c.Server, chunk, s.Protocol(), want)
					continue
				}
				if f := direct[s.Protocol()]; f != nil {
					c.Replay(f(ref.Output()), chunk)
					if !reflect.DeepEqual(got, ref) {
						t.Errorf("%s %v: dispatched output differs from direct decoding", pcap, c.Server)
					}
				}
				if chunk == 0 {
					counts[s.Protocol()]++
				}
			}
		}
	}
	t.Logf("connections by protocol: %v", counts)
}
