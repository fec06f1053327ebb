package stall_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/internal/dtest"
	"github.com/wiresleuth/wiresleuth/detect/stall"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/synth"
)

var dets = []*detect.Detector{stall.AfterHandshake, stall.Data}

func example(t *testing.T, name string) []dtest.Capture {
	return dtest.Dir(t, corpus.Path(t, "examples", name))
}

func fact(t *testing.T, f detect.Finding, key string) string {
	t.Helper()
	v := f.Fact(key)
	if v == "" {
		t.Errorf("%s: no fact %q (facts %v)", f.ID, key, f.Facts)
	}
	return v
}

func wantFact(t *testing.T, f detect.Finding, key, want string) {
	t.Helper()
	if got := fact(t, f, key); got != want {
		t.Errorf("%s: fact %s = %q, want %q", f.ID, key, got, want)
	}
}

func only(t *testing.T, fs []detect.Finding, id string) detect.Finding {
	t.Helper()
	if len(fs) != 1 || fs[0].ID != id {
		t.Fatalf("findings %v, want exactly one %s", dtest.IDs(fs), id)
	}
	return fs[0]
}

func ms(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The GridFTP story on the real Linux stack: a firewall drops the client
// data of connections started less than 100 ms after the previous one.
func TestBurstDropAllVantages(t *testing.T) {
	fs := dtest.Run(t, dets, example(t, "burst-drop")...)
	// One finding per vantage point that shows the stall; diagnose merges
	// them. The client's is the most upstream.
	if len(dtest.With(fs, "stall.data")) != 0 {
		t.Errorf("stall.data reported: %v", dtest.IDs(fs))
	}
	ah := dtest.With(fs, "stall.after-handshake")
	if len(ah) < 2 {
		t.Fatalf("findings %v, want stall.after-handshake at client and router-in at least", dtest.IDs(fs))
	}
	f := ah[0]
	if f.Connections[0].Capture != "client" || f.Affected != 3 || f.OutOf != 7 || f.Severity != detect.Error {
		t.Errorf("first finding at %s, %d of %d, %s; want client, 3 of 7, error", f.Connections[0].Capture, f.Affected, f.OutOf, f.Severity)
	}
	wantFact(t, f, "server", "10.99.1.2:2811")
	wantFact(t, f, "sender", "client")
	wantFact(t, f, "request", "AUTH GSSAPI")
	wantFact(t, f, "stalled_bytes", "13")
	wantFact(t, f, "lost_between", "router-in,router-out")
	if r := fact(t, f, "reply"); !strings.HasPrefix(r, "421 Idle Timeout") {
		t.Errorf("reply %q", r)
	}
	if n, _ := strconv.Atoi(fact(t, f, "retransmissions")); n < 4 {
		t.Errorf("retransmissions %d, want at least 4", n)
	}
	// Spacing: the stalled ones started at most 26 ms after the previous
	// connection, the good ones at least 300 ms.
	if fm, om := ms(t, fact(t, f, "spacing_failed_max_ms")), ms(t, fact(t, f, "spacing_ok_min_ms")); fm > 30 || om < 290 {
		t.Errorf("spacing: failed up to %.1f ms, ok from %.1f ms", fm, om)
	}
	for _, w := range []string{"220 banner", "AUTH GSSAPI", "421 Idle Timeout", "router-in", "never at router-out, server", "threshold"} {
		if !strings.Contains(f.Explanation, w) {
			t.Errorf("explanation lacks %q:\n%s", w, f.Explanation)
		}
	}
	if len(f.Evidence) < 5 || !strings.Contains(f.Evidence[0].Note, "220 banner") {
		t.Errorf("evidence %+v", f.Evidence)
	}
}

// Each vantage point alone: the client's capture has the retransmissions
// (sender's view), the server's only a later ACK whose sequence number
// shows the bytes that never arrived (receiver's view), and the 421.
func TestBurstDropSingleVantage(t *testing.T) {
	caps := example(t, "burst-drop")
	for _, c := range caps {
		fs := dtest.Run(t, dets, c)
		f := only(t, fs, "stall.after-handshake")
		want := 3
		if c.Name == "router-out" || c.Name == "server" {
			want = 2 // 41104's later ACKs carry SACK and are dropped too: nothing reveals its data
		}
		if f.Affected != want {
			t.Errorf("%s: %d affected, want %d", c.Name, f.Affected, want)
		}
		wantFact(t, f, "server", "10.99.1.2:2811")
		if f.Fact("lost_between") != "" {
			t.Errorf("%s: lost_between from one capture", c.Name)
		}
		// The 421 counts as a failure at the server too: the spacing
		// threshold is the same from every vantage point.
		if f.Fact("spacing_ok_min_ms") == "" {
			t.Errorf("%s: no spacing analysis:\n%s", c.Name, f.Explanation)
		}
		if c.Name == "server" && !strings.Contains(f.Explanation, "never arrived here") {
			t.Errorf("server: explanation %s", f.Explanation)
		}
	}
}

// An MTU black hole on the real stack: full-size segments from the
// server vanish after r2-out; the client SACKs the tail and resets. Truth
// allows stall.data; it must not be called an after-handshake stall.
func TestPMTUBlackholeIsDataStall(t *testing.T) {
	fs := dtest.Run(t, dets, example(t, "pmtu-blackhole")...)
	if len(dtest.With(fs, "stall.after-handshake")) > 0 {
		t.Fatalf("findings %v", dtest.IDs(fs))
	}
	sd := dtest.With(fs, "stall.data")
	if len(sd) == 0 {
		t.Fatalf("findings %v, want stall.data", dtest.IDs(fs))
	}
	f := sd[0]
	wantFact(t, f, "sender", "server")
	wantFact(t, f, "lost_between", "r2-out,r2-in")
	if !strings.Contains(f.Explanation, "full-size") {
		t.Errorf("no full-size hint: %s", f.Explanation)
	}
}

// No lab scenario but these two stalls: healthy traffic, random loss that
// recovers, resets, lost FINs, keep-alive and not.
func TestExamplesWithoutStall(t *testing.T) {
	root := corpus.Path(t, "examples")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "burst-drop" || e.Name() == "pmtu-blackhole" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			fs := dtest.Run(t, dets, dtest.Dir(t, filepath.Join(root, e.Name()))...)
			if len(fs) > 0 {
				t.Errorf("findings %v:\n%s", dtest.IDs(fs), fs[0].Explanation)
			}
		})
	}
}

var (
	t0      = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	cliAddr = netip.MustParseAddr("10.1.0.1")
	srvAddr = netip.MustParseAddr("10.2.0.2")
)

func config(sport uint16, start time.Time) synth.Config {
	return synth.Config{
		Client: synth.Endpoint{Addr: netip.AddrPortFrom(cliAddr, sport)},
		Server: synth.Endpoint{Addr: netip.AddrPortFrom(srvAddr, 5001)},
		Start:  start, RTT: 20 * time.Millisecond, Seed: uint64(sport),
	}
}

// A transfer that stops mid-way: after 30 KB the path starts dropping the
// server's data (a route change, a firewall failover that lost the
// state); the server backs off until it gives up, the client resets.
func TestMidConnectionStall(t *testing.T) {
	c := synth.NewConn(config(40001, t0))
	c.Handshake()
	c.Send(synth.Client, 100)
	c.Send(synth.Server, 30000)
	c.Lose(synth.Match{From: synth.Server, Data: 1})
	c.Send(synth.Server, 20000) // retransmitted with back-off until the server gives up
	c.Wait(5 * time.Second)
	c.Reset(synth.Client)
	server := dtest.Write(t, "server.pcap", c.Capture(synth.Vantage{At: 1}))
	client := dtest.Write(t, "client.pcap", c.Capture(synth.Vantage{At: 0}))

	// The server's capture shows the stall; the client's, alone, shows
	// only silence.
	fs := dtest.Run(t, dets, dtest.Capture{Name: "server", File: server})
	f := only(t, fs, "stall.data")
	wantFact(t, f, "sender", "server")
	if n, _ := strconv.Atoi(fact(t, f, "retransmissions")); n < 5 {
		t.Errorf("retransmissions %d", n)
	}
	if !strings.Contains(f.Explanation, "reset") {
		t.Errorf("explanation: %s", f.Explanation)
	}
	if fs := dtest.Run(t, dets, dtest.Capture{Name: "client", File: client}); len(fs) != 0 {
		t.Errorf("client alone: %v", dtest.IDs(fs))
	}
	// Both: the data is seen at the server and never at the client.
	fs = dtest.Run(t, dets, dtest.Capture{Name: "client", File: client}, dtest.Capture{Name: "server", File: server})
	f = only(t, fs, "stall.data")
	wantFact(t, f, "lost_between", "server,client")
}

// A client whose first request is lost after the handshake, every copy:
// the client's capture shows the back-off; the server's shows nothing.
func TestAfterHandshakeReceiverView(t *testing.T) {
	c := synth.NewConn(config(40002, t0))
	c.Handshake()
	c.Lose(synth.Match{From: synth.Client, Data: 1})
	c.Send(synth.Client, 300) // retransmitted until the client gives up
	c.Wait(3 * time.Second)
	c.Reset(synth.Server)
	server := dtest.Write(t, "server.pcap", c.Capture(synth.Vantage{At: 1}))
	client := dtest.Write(t, "client.pcap", c.Capture(synth.Vantage{At: 0}))
	fs := dtest.Run(t, dets, dtest.Capture{Name: "client", File: client})
	f := only(t, fs, "stall.after-handshake")
	wantFact(t, f, "sender", "client")
	wantFact(t, f, "stalled_bytes", "300")
	if !strings.Contains(f.Explanation, "reset") {
		t.Errorf("explanation: %s", f.Explanation)
	}
	// The server's capture alone never sees a byte and nothing reveals
	// that the client sent any: silence is not a stall.
	if fs := dtest.Run(t, dets, dtest.Capture{Name: "server", File: server}); len(fs) != 0 {
		t.Errorf("server alone: %v", dtest.IDs(fs))
	}
}

// Look-alike: random loss that recovers, in a bulk transfer, and a capture
// that ends right after a retransmission.
func TestRecoveredLossIsNotAStall(t *testing.T) {
	c := synth.NewConn(config(40003, t0))
	c.Handshake()
	c.Send(synth.Client, 100)
	for _, n := range []int{5, 9, 30, 31, 60} {
		c.Lose(synth.Match{From: synth.Server, Data: 1, Nth: n})
	}
	c.Send(synth.Server, 200000)
	c.Close(synth.Server)
	c.Close(synth.Client)
	for _, at := range []float64{0, 0.5, 1} {
		file := dtest.Write(t, "bulk.pcap", c.Capture(synth.Vantage{At: at}))
		if fs := dtest.Run(t, dets, dtest.Capture{Name: "v", File: file}); len(fs) != 0 {
			t.Errorf("at %.1f: %v", at, dtest.IDs(fs))
		}
	}

	// The capture ends 1.2 s after a segment was lost for good: two
	// retransmissions, too soon to call a stall.
	c = synth.NewConn(config(40004, t0))
	c.Handshake()
	c.Send(synth.Client, 100)
	c.Send(synth.Server, 20000)
	c.Lose(synth.Match{From: synth.Server, Data: 1})
	lost := c.Now()
	c.Send(synth.Server, 5000)
	var cut []synth.Frame
	for _, fr := range c.Capture(synth.Vantage{At: 1}) {
		if fr.Time.Before(lost.Add(1200 * time.Millisecond)) {
			cut = append(cut, fr)
		}
	}
	file := dtest.Write(t, "cut.pcap", cut)
	if fs := dtest.Run(t, dets, dtest.Capture{Name: "cut", File: file}); len(fs) != 0 {
		t.Errorf("capture cut during recovery: %v", dtest.IDs(fs))
	}
}

// Look-alike: a half-duplex capture (only the server's packets, as on an
// asymmetric route) of a lossy transfer: retransmissions without any
// acknowledgement to judge them by.
func TestHalfDuplexIsNotAStall(t *testing.T) {
	c := synth.NewConn(config(40005, t0))
	c.Handshake()
	c.Send(synth.Client, 100)
	c.Lose(synth.Match{From: synth.Server, Data: 1, Nth: 3})
	c.Lose(synth.Match{From: synth.Server, Data: 1, Nth: 20})
	c.Send(synth.Server, 100000)
	c.Wait(10 * time.Second)
	c.Reset(synth.Client)
	var half []synth.Frame
	for _, fr := range c.Capture(synth.Vantage{At: 0.5}) {
		if len(fr.Data) >= 34 && netip.AddrFrom4([4]byte(fr.Data[26:30])) == srvAddr {
			half = append(half, fr)
		}
	}
	file := dtest.Write(t, "half.pcap", half)
	if fs := dtest.Run(t, dets, dtest.Capture{Name: "half", File: file}); len(fs) != 0 {
		t.Errorf("half-duplex: %v", dtest.IDs(fs))
	}
}

// Look-alike: a long-lived connection idle for ten minutes between
// exchanges, closed normally.
func TestIdleConnectionIsNotAStall(t *testing.T) {
	c := synth.NewConn(config(40006, t0))
	c.Handshake()
	c.Send(synth.Client, 200)
	c.Send(synth.Server, 3000)
	c.Wait(10 * time.Minute)
	c.Send(synth.Client, 200)
	c.Send(synth.Server, 3000)
	c.Wait(7 * time.Minute) // past the observer's idle horizon
	c.Close(synth.Client)
	c.Close(synth.Server)
	file := dtest.Write(t, "idle.pcap", c.Capture(synth.Vantage{At: 0}))
	if fs := dtest.Run(t, dets, dtest.Capture{Name: "idle", File: file}); len(fs) != 0 {
		t.Errorf("idle connection: %v", dtest.IDs(fs))
	}
}

// Captures made on the real stack by testdata/make-captures.sh.
func testdata(t *testing.T, name string) []dtest.Capture {
	return dtest.Dir(t, filepath.Join("testdata", name))
}

// A download the router stops forwarding after 40 KB (connbytes): the
// server backs off, the client times out and closes; its FINs are not
// acknowledged either (the router drops everything the server sends).
func TestRealStackMidstream(t *testing.T) {
	caps := testdata(t, "stall-midstream")
	fs := dtest.Run(t, dets, caps...)
	if len(dtest.With(fs, "stall.after-handshake")) > 0 || len(fs) != 2 {
		t.Fatalf("findings %v, want stall.data at router-out and server", dtest.IDs(fs))
	}
	f := fs[0]
	if f.Connections[0].Capture != "router-out" {
		t.Errorf("first finding at %s", f.Connections[0].Capture)
	}
	wantFact(t, f, "sender", "server")
	wantFact(t, f, "lost_between", "router-out,router-in")
	if n, _ := strconv.Atoi(fact(t, f, "retransmissions")); n < 4 {
		t.Errorf("retransmissions %d", n)
	}
	if strings.Contains(f.Explanation, "MTU") {
		t.Errorf("MTU hint without a size-dependent drop: %s", f.Explanation)
	}
	// The client alone sees only silence after the last byte it got.
	if fs := dtest.Run(t, dets, caps[0]); len(fs) != 0 {
		t.Errorf("client alone: %v", dtest.IDs(fs))
	}
}

// Real-stack look-alikes: a receiver that stops reading (zero window,
// persist probes, then a reset), an idle keep-alive connection with TCP
// keep-alive probes, clients that reset as soon as the response is in.
func TestRealStackLookAlikes(t *testing.T) {
	for _, name := range []string{"zero-window", "keepalive-idle", "reset-after-response"} {
		caps := testdata(t, name)
		if fs := dtest.Run(t, dets, caps...); len(fs) != 0 {
			t.Errorf("%s: %v: %s", name, dtest.IDs(fs), fs[0].Explanation)
		}
		for _, c := range caps {
			if fs := dtest.Run(t, dets, c); len(fs) != 0 {
				t.Errorf("%s/%s: %v", name, c.Name, dtest.IDs(fs))
			}
		}
	}
}

// The data arrives but the receiver's acknowledgements are lost on the
// way back: both captures see the data, so it is the ACKs that vanish.
func TestLostAcknowledgements(t *testing.T) {
	c := synth.NewConn(config(40007, t0))
	c.Handshake()
	c.Send(synth.Client, 100)
	c.Send(synth.Server, 20000)
	c.Lose(synth.Match{From: synth.Client})
	c.Send(synth.Server, 10000)
	c.Wait(3 * time.Second)
	client := dtest.Write(t, "client.pcap", c.Capture(synth.Vantage{At: 0}))
	server := dtest.Write(t, "server.pcap", c.Capture(synth.Vantage{At: 1}))
	fs := dtest.Run(t, dets, dtest.Capture{Name: "client", File: client}, dtest.Capture{Name: "server", File: server})
	f := only(t, fs, "stall.data")
	if f.Fact("lost_between") != "" || !strings.Contains(f.Explanation, "acknowledgements on the way back") {
		t.Errorf("lost_between %q; explanation: %s", f.Fact("lost_between"), f.Explanation)
	}
}
