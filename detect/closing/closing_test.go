package closing_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/closing"
	"github.com/wiresleuth/wiresleuth/detect/internal/dtest"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/synth"
)

var (
	finDets   = []*detect.Detector{closing.FINMissing}
	reuseDets = []*detect.Detector{closing.NoReuse}
	t0        = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	cliAddr   = netip.MustParseAddr("10.1.0.1")
	srvAddr   = netip.MustParseAddr("10.2.0.2")
)

func example(t *testing.T, name string) []dtest.Capture {
	return dtest.Dir(t, corpus.Path(t, "examples", name))
}

func wantFact(t *testing.T, f detect.Finding, key, want string) {
	t.Helper()
	if got := f.Fact(key); got != want {
		t.Errorf("%s: fact %s = %q, want %q (facts %v)", f.ID, key, got, want, f.Facts)
	}
}

func only(t *testing.T, fs []detect.Finding, id string) detect.Finding {
	t.Helper()
	if len(fs) != 1 || fs[0].ID != id {
		t.Fatalf("findings %v, want exactly one %s", dtest.IDs(fs), id)
	}
	return fs[0]
}

// The OpenStack story on the real stack: the router drops the server's
// small packets, so its FINs never reach the client, which waits 4 s and
// resets.
func TestFINLostAllVantages(t *testing.T) {
	fs := dtest.Run(t, finDets, example(t, "fin-lost")...)
	if len(fs) != 4 {
		t.Fatalf("findings %v, want one per vantage point", dtest.IDs(fs))
	}
	f := fs[0]
	if f.Connections[0].Capture != "client" || f.Affected != 2 || f.Severity != detect.Warning {
		t.Errorf("first finding at %s, %d affected, %s", f.Connections[0].Capture, f.Affected, f.Severity)
	}
	wantFact(t, f, "server", "10.99.1.2:80")
	wantFact(t, f, "idle_s", "4.0")
	wantFact(t, f, "framing", "length")
	wantFact(t, f, "waiting_side_then", "reset")
	wantFact(t, f, "fins_sent", "6")
	wantFact(t, f, "lost_between", "router-out,router-in")
	for _, w := range []string{"Content-Length", "sent its FIN 6 times; all reached server, router-out; none reached router-in, client", "40-byte"} {
		if !strings.Contains(f.Explanation, w) {
			t.Errorf("explanation lacks %q:\n%s", w, f.Explanation)
		}
	}
	// Behind the lost FINs: the server's view, its FINs never acknowledged.
	srv := fs[3]
	if srv.Connections[0].Capture != "server" || !strings.Contains(srv.Title, "never acknowledged") {
		t.Errorf("server's finding: %s", srv.Title)
	}
}

// Each vantage point alone still tells: the client's by the protocol
// (Connection: close and no FIN), the server's by its unacknowledged FINs.
func TestFINLostSingleVantage(t *testing.T) {
	for _, c := range example(t, "fin-lost") {
		f := only(t, dtest.Run(t, finDets, c), "close.fin-missing")
		wantFact(t, f, "idle_s", "4.0")
		if f.Fact("lost_between") != "" {
			t.Errorf("%s: lost_between from one capture", c.Name)
		}
	}
}

// No other lab scenario has a missing FIN: healthy keep-alive traffic
// closed by the client, resets, stalls, servers that close first.
func TestExamplesWithoutMissingFIN(t *testing.T) {
	root := corpus.Path(t, "examples")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "fin-lost" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			fs := dtest.Run(t, finDets, dtest.Dir(t, filepath.Join(root, e.Name()))...)
			if len(fs) > 0 {
				t.Errorf("findings %v:\n%s", dtest.IDs(fs), fs[0].Explanation)
			}
		})
	}
}

func config(sport uint16, start time.Time) synth.Config {
	return synth.Config{
		Client: synth.Endpoint{Addr: netip.AddrPortFrom(cliAddr, sport)},
		// The legacy server of the story: no TCP timestamps, so its FINs
		// are minimum-size.
		Server: synth.Endpoint{Addr: netip.AddrPortFrom(srvAddr, 80), NoTimestamps: true},
		Start:  start, RTT: 30 * time.Millisecond, Seed: uint64(sport),
	}
}

const request = "GET /api/v1/item HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: PHP\r\n\r\n"

// exchange runs one HTTP exchange on a new connection and returns it, the
// server's FIN lost on the way (at the middle of the path) when loseFIN.
func exchange(sport uint16, start time.Time, response string, loseFIN bool) *synth.Conn {
	c := synth.NewConn(config(sport, start))
	if loseFIN {
		c.Lose(synth.Match{From: synth.Server, Flags: synth.FIN})
	}
	c.Handshake()
	c.SendData(synth.Client, []byte(request))
	c.SendData(synth.Server, []byte(response))
	return c
}

func body(n int) string { return strings.Repeat("x", n) }

// The OpenStack case generated: an HTTP/1.0 response with Content-Length
// from a server that then closes; its FIN is lost; PHP waits for EOF for
// 60 s and resets. Three requests.
func TestFINMissingGenerated(t *testing.T) {
	resp := "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3000\r\n\r\n" + body(3000)
	var client, server [][]synth.Frame
	for i := range 3 {
		c := exchange(uint16(46518+i), t0.Add(time.Duration(i)*2*time.Minute), resp, true)
		c.Close(synth.Server) // retransmitted with back-off, never arrives
		c.Wait(60*time.Second - c.Now().Sub(t0.Add(time.Duration(i)*2*time.Minute)) + time.Second)
		c.Reset(synth.Client)
		client = append(client, c.Capture(synth.Vantage{At: 0, Pad: true}))
		server = append(server, c.Capture(synth.Vantage{At: 1, Pad: true}))
	}
	cf := dtest.Write(t, "vm.pcap", client...)
	sf := dtest.Write(t, "compute.pcap", server...)
	f := only(t, dtest.Run(t, finDets, dtest.Capture{Name: "vm", File: cf}), "close.fin-missing")
	if f.Affected != 3 || f.Severity != detect.Warning {
		t.Errorf("%d affected, %s", f.Affected, f.Severity)
	}
	wantFact(t, f, "framing", "length")
	wantFact(t, f, "waiting_side_then", "reset")
	if !strings.Contains(f.Explanation, "HTTP/1.0") {
		t.Errorf("explanation: %s", f.Explanation)
	}
	if f.Fact("idle_s") < "58" || f.Fact("idle_s") > "61" {
		t.Errorf("idle %s s, want about 60", f.Fact("idle_s"))
	}
	fs := dtest.Run(t, finDets, dtest.Capture{Name: "vm", File: cf}, dtest.Capture{Name: "compute", File: sf})
	if len(fs) != 2 {
		t.Fatalf("findings %v", dtest.IDs(fs))
	}
	wantFact(t, fs[0], "lost_between", "compute,vm")
	if !strings.Contains(fs[0].Explanation, "none reached vm") {
		t.Errorf("explanation: %s", fs[0].Explanation)
	}
}

// A response delimited by the close: without the FIN the client cannot
// know it has all of it. An error, not only a delay.
func TestFINMissingCloseDelimited(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body(5000)
	c := exchange(40001, t0, resp, true)
	c.Close(synth.Server)
	c.Wait(30 * time.Second)
	c.Close(synth.Client)
	file := dtest.Write(t, "c.pcap", c.Capture(synth.Vantage{At: 0}))
	f := only(t, dtest.Run(t, finDets, dtest.Capture{Name: "client", File: file}), "close.fin-missing")
	if f.Severity != detect.Error {
		t.Errorf("severity %s", f.Severity)
	}
	wantFact(t, f, "framing", "close")
	wantFact(t, f, "waiting_side_then", "closed")
	if !strings.Contains(f.Explanation, "fatal") {
		t.Errorf("explanation: %s", f.Explanation)
	}
}

// The capture ends while the client still waits (other traffic goes on
// 40 s later).
func TestFINMissingStillWaiting(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\n" + body(10)
	c := exchange(40002, t0, resp, true)
	c.Close(synth.Server)
	other := exchange(40003, t0.Add(40*time.Second), resp, false)
	file := dtest.Write(t, "c.pcap", c.Capture(synth.Vantage{At: 0}), other.Capture(synth.Vantage{At: 0}))
	f := only(t, dtest.Run(t, finDets, dtest.Capture{Name: "client", File: file}), "close.fin-missing")
	wantFact(t, f, "waiting_side_then", "still waiting at the end of the capture")
}

// Look-alikes: nothing is missing when the server promised nothing.
func TestFINMissingLookAlikes(t *testing.T) {
	cases := map[string]func() *synth.Conn{
		// Keep-alive: the server keeps the connection open on purpose; the
		// client closes its idle pooled connection after 5 s.
		"keep-alive pool": func() *synth.Conn {
			c := exchange(41001, t0, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"+body(100), false)
			c.Wait(5 * time.Second)
			c.Close(synth.Client)
			c.Close(synth.Server)
			return c
		},
		// The client resets at once after a complete response (curl with
		// SO_LINGER 0), before the server's FIN — lost or not — matters.
		"client resets at once": func() *synth.Conn {
			c := exchange(41002, t0, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n\r\n"+body(100), true)
			c.Reset(synth.Client)
			return c
		},
		// A long-lived connection of an unknown protocol that the client
		// closes after half an hour of silence.
		"idle unknown protocol": func() *synth.Conn {
			c := synth.NewConn(config(41003, t0))
			c.Handshake()
			c.SendData(synth.Client, []byte{0x16, 0x03, 0x01, 0, 4, 1, 2, 3, 4})
			c.Send(synth.Server, 2000)
			c.Wait(30 * time.Minute)
			c.Close(synth.Client)
			c.Close(synth.Server)
			return c
		},
		// The server closes properly after Connection: close.
		"server closes": func() *synth.Conn {
			c := exchange(41004, t0, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n\r\n"+body(100), false)
			c.Close(synth.Server)
			c.Wait(3 * time.Second)
			c.Close(synth.Client)
			return c
		},
		// The client closes first (half-close) and the server answers
		// with its own FIN later.
		"client closes first": func() *synth.Conn {
			c := exchange(41005, t0, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"+body(100), false)
			c.Wait(2 * time.Second)
			c.Close(synth.Client)
			c.Wait(2 * time.Second)
			c.Close(synth.Server)
			return c
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			c := mk()
			for _, at := range []float64{0, 1} {
				file := dtest.Write(t, "c.pcap", c.Capture(synth.Vantage{At: at}))
				if fs := dtest.Run(t, finDets, dtest.Capture{Name: "v", File: file}); len(fs) != 0 {
					t.Errorf("at %.0f: %v: %s", at, dtest.IDs(fs), fs[0].Explanation)
				}
			}
		})
	}
}

// The F5 story's Go 1.4.3 problem on the real stack: keep-alive asked,
// Connection: close answered, the server closes first, five times.
func TestNoReuseLab(t *testing.T) {
	fs := dtest.Run(t, reuseDets, example(t, "http-no-keepalive")...)
	if len(fs) != 4 {
		t.Fatalf("findings %v, want one per vantage point", dtest.IDs(fs))
	}
	f := fs[0]
	if f.Severity != detect.Warning || f.Affected != 5 || f.OutOf != 5 {
		t.Errorf("%s, %d of %d", f.Severity, f.Affected, f.OutOf)
	}
	wantFact(t, f, "server", "10.99.1.2:80")
	wantFact(t, f, "connections", "5")
	wantFact(t, f, "requests", "5")
	wantFact(t, f, "handshakes_per_request", "1.00")
	wantFact(t, f, "first_closer", "server")
	wantFact(t, f, "server_connection_close", "5")
	wantFact(t, f, "keep_alive_asked", "5")
	if !strings.Contains(f.Explanation, "TIME_WAIT") {
		t.Errorf("explanation: %s", f.Explanation)
	}
}

func TestNoReuseNotOnReuse(t *testing.T) {
	root := corpus.Path(t, "examples")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "http-no-keepalive" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			if fs := dtest.Run(t, reuseDets, dtest.Dir(t, filepath.Join(root, e.Name()))...); len(fs) > 0 {
				t.Errorf("findings %v:\n%s", dtest.IDs(fs), fs[0].Explanation)
			}
		})
	}
}

func requests(t *testing.T, n int, req, resp string, clientFirst bool) string {
	t.Helper()
	var all [][]synth.Frame
	for i := range n {
		c := synth.NewConn(config(uint16(42000+i), t0.Add(time.Duration(i)*time.Second)))
		c.Handshake()
		c.SendData(synth.Client, []byte(req))
		c.SendData(synth.Server, []byte(resp))
		if clientFirst {
			c.Close(synth.Client)
			c.Close(synth.Server)
		} else {
			c.Close(synth.Server)
			c.Close(synth.Client)
		}
		all = append(all, c.Capture(synth.Vantage{At: 0}))
	}
	return dtest.Write(t, fmt.Sprintf("reuse-%d.pcap", n), all...)
}

func TestNoReuseGenerated(t *testing.T) {
	ka := "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + body(20)
	// Both sides allow keep-alive, the client closes every connection
	// after one request: it does not pool. Worth knowing, not a fault.
	f := only(t, dtest.Run(t, reuseDets, dtest.Capture{Name: "c", File: requests(t, 6, request, ka, true)}), "conn.no-reuse")
	if f.Severity != detect.Info {
		t.Errorf("client that does not pool: %s", f.Severity)
	}
	wantFact(t, f, "first_closer", "client")
	// The server closes first although it said nothing: a warning.
	f = only(t, dtest.Run(t, reuseDets, dtest.Capture{Name: "c", File: requests(t, 4, request, ka, false)}), "conn.no-reuse")
	if f.Severity != detect.Warning {
		t.Errorf("server closes first: %s", f.Severity)
	}
	// Not enough connections to tell.
	if fs := dtest.Run(t, reuseDets, dtest.Capture{Name: "c", File: requests(t, 2, request, ka, false)}); len(fs) != 0 {
		t.Errorf("two connections: %v", dtest.IDs(fs))
	}
	// The client did not ask for keep-alive (ab without -k).
	req10 := "GET / HTTP/1.0\r\nHost: x\r\n\r\n"
	resp10 := "HTTP/1.0 200 OK\r\nContent-Length: 20\r\n\r\n" + body(20)
	if fs := dtest.Run(t, reuseDets, dtest.Capture{Name: "c", File: requests(t, 6, req10, resp10, false)}); len(fs) != 0 {
		t.Errorf("HTTP/1.0 without keep-alive: %v", dtest.IDs(fs))
	}
	reqClose := "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	if fs := dtest.Run(t, reuseDets, dtest.Capture{Name: "c", File: requests(t, 6, reqClose, ka, false)}); len(fs) != 0 {
		t.Errorf("client asked to close: %v", dtest.IDs(fs))
	}
}

// Real-stack look-alikes from detect/stall/testdata (make-captures.sh): an
// idle keep-alive connection with TCP keep-alive probes closed by the
// client, clients that reset as soon as their Connection: close response
// is in, a receiver that stops reading, a stalled download.
func TestRealStackLookAlikes(t *testing.T) {
	for _, name := range []string{"zero-window", "keepalive-idle", "reset-after-response", "stall-midstream"} {
		caps := dtest.Dir(t, corpus.Path(t, "detect", "stall", "testdata", name))
		for _, dets := range [][]*detect.Detector{finDets, reuseDets} {
			if fs := dtest.Run(t, dets, caps...); len(fs) != 0 {
				t.Errorf("%s: %v: %s", name, dtest.IDs(fs), fs[0].Explanation)
			}
		}
	}
}

// onlyFrom keeps the frames an address sent: a half-duplex capture.
func onlyFrom(frames []synth.Frame, src netip.Addr) []synth.Frame {
	var out []synth.Frame
	for _, fr := range frames {
		if len(fr.Data) >= 34 && netip.AddrFrom4([4]byte(fr.Data[26:30])) == src {
			out = append(out, fr)
		}
	}
	return out
}

// Half-duplex captures (one direction only, as on an asymmetric route)
// say nothing about FINs or reuse.
func TestHalfDuplex(t *testing.T) {
	ka := "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + body(20)
	closeResp := "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 20\r\n\r\n" + body(20)
	for _, src := range []netip.Addr{cliAddr, srvAddr} {
		var all [][]synth.Frame
		for i := range 5 {
			c := exchange(uint16(43000+i), t0.Add(time.Duration(i)*20*time.Second), ka, false)
			c.Close(synth.Client)
			c.Close(synth.Server)
			all = append(all, onlyFrom(c.Capture(synth.Vantage{At: 0.5}), src))
		}
		c := exchange(43100, t0.Add(200*time.Second), closeResp, true)
		c.Close(synth.Server)
		c.Wait(10 * time.Second)
		c.Reset(synth.Client)
		all = append(all, onlyFrom(c.Capture(synth.Vantage{At: 0.5}), src))
		file := dtest.Write(t, "half.pcap", all...)
		for _, dets := range [][]*detect.Detector{finDets, reuseDets} {
			if fs := dtest.Run(t, dets, dtest.Capture{Name: "half", File: file}); len(fs) != 0 {
				t.Errorf("only %s's packets: %v: %s", src, dtest.IDs(fs), fs[0].Explanation)
			}
		}
	}
}
