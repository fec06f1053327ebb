package checksum

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

const id = "tcp.bad-checksum"

func one(t *testing.T, name, file string) []detect.Finding {
	t.Helper()
	got, _ := replay.Diagnose(t, []*detect.Detector{BadChecksum}, []string{name}, []string{file})
	return got
}

func wantFacts(t *testing.T, f detect.Finding, facts map[string]string) {
	t.Helper()
	for k, v := range facts {
		if got := f.Fact(k); got != v {
			t.Errorf("fact %s = %q, want %q", k, got, v)
		}
	}
}

// exchange is an HTTP-like connection; legacy makes the server send no
// TCP options after the handshake (no timestamps), so that its bare ACKs
// and FIN are 40-byte packets, padded on Ethernet.
func exchange(legacy bool, setup func(c *synth.Conn)) *synth.Conn {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: netip.MustParseAddrPort("10.1.0.1:46518"), MAC: synth.MAC{2, 0, 0, 0, 0, 1}},
		Server: synth.Endpoint{Addr: netip.MustParseAddrPort("203.0.113.9:443"), MAC: synth.MAC{2, 0, 0, 0, 0, 2}, NoTimestamps: legacy},
		Start:  replay.T0, RTT: 20 * time.Millisecond, Seed: 11,
	})
	if setup != nil {
		setup(c)
	}
	c.Handshake()
	for range 3 {
		c.Send(synth.Client, 500)
		c.Send(synth.Server, 3000)
	}
	c.Close(synth.Server)
	c.Wait(30 * time.Second)
	c.Reset(synth.Client)
	return c
}

// The OpenStack story as the brief has it: only the short, padded frames
// from the server (bare ACKs and the FIN) arrive with checksums computed
// over the padding; the client drops them, the FIN is resent again and
// again, wrong every time.
func TestPaddedFramesCorrupted(t *testing.T) {
	c := exchange(true, func(c *synth.Conn) {
		c.Fault(synth.Match{From: synth.Server, Data: -1, NoFlags: synth.SYN}, synth.Fate{Checksum: synth.BadChecksum, At: 0.5})
	})
	var fs []synth.Frame
	for _, f := range c.Capture(synth.Vantage{At: 0, Pad: true}) {
		f.Data = replay.PadSum(f.Data) // the bad ones: summed over the padding
		fs = append(fs, f)
	}
	got := one(t, "client", replay.Write(t, "client.pcap", fs))
	w := replay.WithID(got, id, detect.Warning)
	if len(w) != 1 {
		t.Fatalf("want one finding, got %+v", got)
	}
	f := w[0]
	if f.Severity != detect.Error {
		t.Errorf("severity %s: the FIN never gets through", f.Severity)
	}
	bad := f.Fact("bad")
	wantFacts(t, f, map[string]string{"src": "203.0.113.9", "dst": "10.1.0.1", "padded_bad": bad, "padded": bad, "over_padding": bad, "ip_len": "40-40"})
	if !strings.Contains(f.Fact("categories"), "fin:") || strings.Contains(f.Fact("categories"), "data") {
		t.Errorf("categories %q", f.Fact("categories"))
	}
	if !strings.Contains(f.Title, "padded frames") {
		t.Errorf("title %q", f.Title)
	}
	for _, s := range []string{"every one of them was a padded frame", "every padded frame from 203.0.113.9 was wrong", "none of the", "summed as part of the segment", "Only this direction"} {
		if !strings.Contains(f.Explanation, s) {
			t.Errorf("explanation lacks %q: %s", s, f.Explanation)
		}
	}
	if steps := strings.Join(f.NextSteps, " "); !strings.Contains(steps, "nf_conntrack_checksum") || !strings.Contains(steps, "Open vSwitch") {
		t.Errorf("next steps: %v", f.NextSteps)
	}
	// The server's own capture has them right (the damage is done after
	// it): nothing to report there.
	right := func(p *synth.Packet) { p.Checksum = synth.Checksum{} }
	if got := one(t, "server", replay.Write(t, "server.pcap", c.Capture(synth.Vantage{At: 1, Edit: right}))); len(got) != 0 {
		t.Errorf("server: %+v", got)
	}
}

// Random damage on the path: a few data segments arrive with wrong
// checksums and are dropped, their retransmissions get through.
func TestDamagedOnThePath(t *testing.T) {
	c := exchange(false, func(c *synth.Conn) {
		for _, n := range []int{2, 5} {
			c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: n}, synth.Fate{Checksum: synth.BadChecksum, At: 0.5})
		}
	})
	got := one(t, "client", replay.Write(t, "client.pcap", c.Capture(synth.Vantage{At: 0, Pad: true})))
	if len(got) != 1 || got[0].Severity != detect.Warning {
		t.Fatalf("want one warning, got %+v", got)
	}
	f := got[0]
	wantFacts(t, f, map[string]string{"bad": "2", "rejected": "2", "accepted": "0", "categories": "data:2", "padded_bad": "0"})
	if !strings.Contains(f.Explanation, "The receiver dropped them") || strings.Contains(f.Explanation, "summed as part") {
		t.Errorf("explanation: %s", f.Explanation)
	}
}

// Checksum offload, seen in the sender's own capture: partial sums, a
// constant placeholder, or other values the receiver accepts. Never a
// fault; one note (info) without connections, so that diagnose never
// merges it with a fault seen elsewhere.
func TestOffloadArtefacts(t *testing.T) {
	c := exchange(false, nil)
	n := uint16(0)
	for _, tc := range []struct {
		name string
		v    synth.Vantage
		want string
	}{
		{"partial", synth.Vantage{At: 0, Offload: true}, "pseudo-header sum"},
		{"constant", synth.Vantage{At: 0, Edit: func(p *synth.Packet) {
			if p.From == synth.Client {
				p.Checksum = synth.FixedChecksum(0xbeef)
			}
		}}, "constant placeholder"},
		{"accepted", synth.Vantage{At: 0, Edit: func(p *synth.Packet) {
			if p.From == synth.Client {
				n += 7919
				p.Checksum = synth.FixedChecksum(n)
			}
		}}, "acknowledged without a resend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := one(t, tc.name, replay.Write(t, tc.name+".pcap", c.Capture(tc.v)))
			if w := replay.WithID(got, id, detect.Warning); len(w) != 0 {
				t.Fatalf("offload reported as a fault: %s", w[0].Explanation)
			}
			if len(got) != 1 || got[0].Fact("hosts") != "10.1.0.1" || len(got[0].Connections) != 0 || !strings.Contains(got[0].Explanation, tc.want) {
				t.Fatalf("want one info about 10.1.0.1 saying %q, got %+v", tc.want, got)
			}
		})
	}
}

// Zeek's checksum traces: corruption (one SYN each) is reported, the
// offload-style localhost trace and edited traces are not.
func TestZeekTraces(t *testing.T) {
	dir := filepath.Join(corpus.Peers(t), "zeek")
	for _, tc := range []struct {
		file string
		sev  detect.Severity // Info: at most info
	}{
		{"ip4-tcp-bad-chksum.pcap", detect.Warning},
		{"ip6-tcp-bad-chksum.pcap", detect.Warning},
		{"tcp-syn-bad-checksum.pcap", detect.Warning},
		{"localhost-bad-chksum.pcap", detect.Info},
		{"tcp-http-padding.pcap", detect.Info},
		{"ldap-simpleauth.pcap", detect.Info},
	} {
		got := one(t, tc.file, filepath.Join(dir, tc.file))
		w := replay.WithID(got, id, detect.Warning)
		switch {
		case tc.sev == detect.Warning && (len(w) != 1 || !strings.Contains(w[0].Fact("categories"), "syn:1") || w[0].Fact("bad") != "1"):
			t.Errorf("%s: want a warning about one SYN, got %+v", tc.file, got)
		case tc.sev == detect.Info && (len(w) != 0 || len(got) != 1):
			t.Errorf("%s: want one info, got %+v", tc.file, got)
		}
	}
}

// Captures made by testdata/make-captures.sh: the real stack on both ends,
// a userspace switch between them that pads short frames and computes
// their checksums over the padding.
func TestRealPaddingBug(t *testing.T) {
	got := one(t, "client", "testdata/padsum-client.pcap")
	w := replay.WithID(got, id, detect.Warning)
	if len(w) != 1 || w[0].Severity != detect.Error {
		t.Fatalf("client: want one error, got %+v", got)
	}
	f := w[0]
	bad := f.Fact("bad")
	wantFacts(t, f, map[string]string{"src": "10.99.1.2", "dst": "10.99.0.2", "padded": bad, "padded_bad": bad, "over_padding": bad})
	if got := one(t, "server", "testdata/padsum-server.pcap"); len(got) != 0 {
		t.Fatalf("server: %+v", got)
	}
}

// No warning on any lab scenario, repository capture or peer trace other
// than the ones made with bad checksums.
func TestNoFalseFindings(t *testing.T) {
	var files []string
	for _, pat := range []string{"examples/*/*.pcap*", "testdata/*.pcap*", "testdata/*.pcapng"} {
		m, _ := filepath.Glob(corpus.Path(t, pat))
		files = append(files, m...)
	}
	peers := corpus.Peers(t)
	for _, pat := range []string{"zeek/*.pcap*", "wireshark/captures/*.pcap*"} {
		m, _ := filepath.Glob(filepath.Join(peers, pat))
		files = append(files, m...)
	}
	m, _ := filepath.Glob("testdata/*server.pcap")
	files = append(files, m...)
	for _, f := range files {
		if strings.Contains(f, "bad-chksum") || strings.Contains(f, "bad-checksum") {
			continue
		}
		if w := replay.WithID(one(t, filepath.Base(f), f), id, detect.Warning); len(w) > 0 {
			t.Errorf("%s: %s", f, w[0].Title)
		}
	}
}
