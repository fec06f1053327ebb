package pmtu

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/internal/replay"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/synth"
)

const id = "path.pmtu-blackhole"

func diagnose(t *testing.T, names []string, files []string) []detect.Finding {
	t.Helper()
	got, _ := replay.Diagnose(t, []*detect.Detector{Blackhole}, names, files)
	return got
}

func one(t *testing.T, name, file string) []detect.Finding {
	t.Helper()
	return diagnose(t, []string{name}, []string{file})
}

func wantFacts(t *testing.T, f detect.Finding, facts map[string]string) {
	t.Helper()
	for k, v := range facts {
		if got := f.Fact(k); got != v {
			t.Errorf("fact %s = %q, want %q", k, got, v)
		}
	}
}

// The lab scenario, every vantage point: the sender's view is reported
// (at r2-out and the server; diagnose merges them), the receiver's view
// upstream is not, and the full-size packets are located between r2-out
// and r2-in.
func TestLabPMTUBlackhole(t *testing.T) {
	dir := corpus.Path(t, "examples", "pmtu-blackhole")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	names := []string{"client", "r1-in", "r1-out", "r2-in", "r2-out", "server"}
	got := diagnose(t, names, files)
	if len(got) != 2 {
		t.Fatalf("want the sender's view at r2-out and server, got %d: %+v", len(got), got)
	}
	for i, f := range got {
		if f.Severity != detect.Error || f.Connections[0].Capture != names[4+i] {
			t.Errorf("finding %d: %s at %s", i, f.Severity, f.Connections[0].Capture)
		}
		wantFacts(t, f, map[string]string{"sender": "10.99.1.2:80", "receiver": "10.99.0.2:40001", "stuck_ip_len": "1500",
			"largest_acked_ip_len": "812", "mss_sender": "1460", "mss_receiver": "1460", "icmp": "none", "lost_between": "r2-out,r2-in"})
		for _, s := range []string{"sequence 434", "812-byte packet sent after it got through", "dropped between r2-out and r2-in"} {
			if !strings.Contains(f.Explanation, s) {
				t.Errorf("explanation lacks %q: %s", s, f.Explanation)
			}
		}
		steps := strings.Join(f.NextSteps, "\n")
		for _, s := range []string{"--clamp-mss-to-pmtu", "type 3 code 4", "tracepath", "tcp_mtu_probing"} {
			if !strings.Contains(steps, s) {
				t.Errorf("next steps lack %q", s)
			}
		}
	}
	// The client alone: the receiver's view.
	got = one(t, "client", files[0])
	if len(got) != 1 || got[0].Fact("view") != "receiver" || got[0].Fact("hole_bytes") != "7240" || got[0].Fact("largest_seen_ip_len") != "812" {
		t.Fatalf("client alone: %+v", got)
	}
}

// Captures made by testdata/make-captures.sh on the real stack.
func TestRealCaptures(t *testing.T) {
	for _, tc := range []struct {
		file  string
		view  string // "" no finding
		sev   detect.Severity
		facts map[string]string
	}{
		{"icmp-dropped-at-sender-server", "sender", detect.Error, map[string]string{"icmp": "fragmentation-needed from 10.99.1.1 mtu 1280", "stuck_ip_len": "1500", "largest_acked_ip_len": "812"}},
		{"icmp-dropped-at-sender-client", "receiver", detect.Error, map[string]string{"hole_bytes": "7240"}},
		{"mtu-probing-server", "recovered", detect.Warning, map[string]string{"stuck_ip_len": "1500", "largest_acked_ip_len": "1076"}},
		{"mtu-probing-client", "", 0, nil}, // the hole is filled by the smaller resends
		{"ipv6-blackhole-server", "sender", detect.Error, map[string]string{"stuck_ip_len": "1500", "mss_sender": "1440", "sender": "[fd99:1::2]:80"}},
		{"ipv6-blackhole-client", "receiver", detect.Error, nil},
		{"pmtud-works-server", "", 0, nil}, // ICMP arrives, the sender adapts
		{"pmtud-works-client", "", 0, nil},
		{"mss-clamp-server", "", 0, nil}, // no segment needs the small link
		{"mss-clamp-client", "", 0, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := one(t, tc.file, filepath.Join("testdata", tc.file+".pcap"))
			if tc.view == "" {
				if len(got) != 0 {
					t.Fatalf("false finding: %s", got[0].Title)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one finding, got %+v", got)
			}
			f := got[0]
			if f.Severity != tc.sev {
				t.Errorf("severity %s, want %s", f.Severity, tc.sev)
			}
			if tc.view == "recovered" && !strings.Contains(f.Title, "until resent smaller") ||
				tc.view == "receiver" && f.Fact("view") != "receiver" ||
				tc.view == "sender" && f.Fact("transmissions") == "" {
				t.Errorf("view %s: %s %+v", tc.view, f.Title, f.Facts)
			}
			wantFacts(t, f, tc.facts)
			if len(f.Evidence) < 2 || len(f.Connections) != 1 {
				t.Errorf("evidence %d, connections %d", len(f.Evidence), len(f.Connections))
			}
		})
	}
	// Client and server together: only the sender's view.
	got := diagnose(t, []string{"client", "server"}, []string{"testdata/icmp-dropped-at-sender-client.pcap", "testdata/icmp-dropped-at-sender-server.pcap"})
	if len(got) != 1 || got[0].Connections[0].Capture != "server" {
		t.Fatalf("two vantage points: %+v", got)
	}
}

func newConn(t *testing.T) *synth.Conn {
	return synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: netip.MustParseAddrPort("10.1.0.1:40001")},
		Server: synth.Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:80")},
		Start:  replay.T0, RTT: 5 * time.Millisecond, Seed: 3,
	})
}

// Random loss of full-size segments that later get through, and a path
// that stops delivering anything (the peer or the route gone) after small
// responses passed: neither is a blackhole.
func TestLookAlikes(t *testing.T) {
	t.Run("random-loss", func(t *testing.T) {
		c := newConn(t)
		for _, n := range []int{3, 4, 17, 40} {
			c.Lose(synth.Match{From: synth.Server, Data: 1, Nth: n})
		}
		c.Handshake()
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 300)
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 200000)
		c.Close(synth.Client)
		c.Wait(2 * time.Second)
		for _, at := range []float64{0, 1} {
			f := replay.Write(t, "loss.pcap", c.Capture(synth.Vantage{At: at}))
			if got := one(t, "loss", f); len(got) != 0 {
				t.Errorf("at %v: %s", at, got[0].Title)
			}
		}
	})
	t.Run("path-gone", func(t *testing.T) {
		c := newConn(t)
		c.Handshake()
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 300)
		c.Send(synth.Client, 100)
		c.Lose(synth.Match{From: synth.Server, Data: 1}) // everything from now on
		c.Send(synth.Server, 8000)
		c.Wait(20 * time.Second)
		c.Reset(synth.Client)
		for _, at := range []float64{0, 1} {
			f := replay.Write(t, "gone.pcap", c.Capture(synth.Vantage{At: at}))
			got, dss := replay.Diagnose(t, []*detect.Detector{Blackhole}, []string{"gone"}, []string{f})
			if len(got) != 0 {
				t.Errorf("at %v: %s", at, got[0].Title)
			}
			// At the server the stuck segment is a candidate: what keeps
			// it out is that nothing smaller got through after it.
			if n := len(result(dss[0]).Candidates); at == 1 && n != 1 {
				t.Errorf("at the server: %d candidates, want the stuck segment", n)
			}
		}
	})
}

// Every lab scenario but pmtu-blackhole, each capture alone and all
// together, the repository's captures and the peers' traces: no finding.
func TestNoFalseFindings(t *testing.T) {
	dirs, _ := filepath.Glob(corpus.Path(t, "examples", "*"))
	for _, d := range dirs {
		if filepath.Base(d) == "pmtu-blackhole" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(d, "*.pcap*"))
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f))
			if got := one(t, f, f); len(got) > 0 {
				t.Errorf("%s: %s", f, got[0].Title)
			}
		}
		if got := diagnose(t, names, files); len(got) > 0 {
			t.Errorf("%s: %s", d, got[0].Title)
		}
	}
	var files []string
	for _, pat := range []string{"testdata/*.pcap*", "testdata/*.pcapng"} {
		m, _ := filepath.Glob(corpus.Path(t, pat))
		files = append(files, m...)
	}
	peers := corpus.Peers(t)
	for _, pat := range []string{"zeek/*.pcap*", "wireshark/captures/*.pcap*"} {
		m, _ := filepath.Glob(filepath.Join(peers, pat))
		files = append(files, m...)
	}
	for _, f := range files {
		if got := one(t, filepath.Base(f), f); len(got) > 0 {
			t.Errorf("%s: %s", f, got[0].Title)
		}
	}
}
