package vantage_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/vantage"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/synth"
)

var detectors = []*detect.Detector{vantage.Lost, vantage.Injected, vantage.Modified, vantage.Latency}

// run builds datasets from captures in path order and runs the path
// detectors.
func run(t *testing.T, files []string) []detect.Finding {
	t.Helper()
	var dss []*detect.Dataset
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".gz"), ".pcap")
		if len(name) > 3 && name[2] == '-' {
			name = name[3:]
		}
		ds, err := detect.Build(detect.BuildOptions{Name: name, File: f, Detectors: detectors, NoApp: true, Captures: len(files)})
		if err != nil {
			t.Fatal(err)
		}
		dss = append(dss, ds)
	}
	fs, err := detect.Run(detectors, dss)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func example(t *testing.T, name string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(corpus.Path(t, "examples"), name, "[0-9][0-9]-*.pcap*"))
	slices.Sort(files)
	if len(files) < 2 {
		t.Fatalf("example %s has %d captures", name, len(files))
	}
	return files
}

func byID(fs []detect.Finding, id string) []detect.Finding {
	var out []detect.Finding
	for _, f := range fs {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// TestLostFIN: the OpenStack story. The server's FINs (and its bare ACKs,
// 40 bytes like them) reach router-out and never router-in; larger packets
// pass. An error, placed in the router, with the size as the difference.
func TestLostFIN(t *testing.T) {
	fs := byID(run(t, example(t, "fin-lost")), "path.lost")
	if len(fs) != 1 {
		t.Fatalf("%d path.lost findings: %+v", len(fs), fs)
	}
	f := fs[0]
	if f.Severity != detect.Error || f.Fact("segment") != "router-out→router-in" || f.Fact("trait.size") != "<=40" {
		t.Errorf("%s %q: facts %v", f.Severity, f.Title, f.Facts)
	}
	if !strings.Contains(f.Fact("kinds"), "FIN=12") || f.Fact("unrecovered") == "0" {
		t.Errorf("kinds %q, unrecovered %q", f.Fact("kinds"), f.Fact("unrecovered"))
	}
	if len(f.Evidence) == 0 || f.Evidence[0].Capture != "router-out" {
		t.Errorf("evidence %+v", f.Evidence)
	}
}

// TestLostSYN: SYNs dropped by a firewall rule in the router.
func TestLostSYN(t *testing.T) {
	fs := byID(run(t, example(t, "syn-drop")), "path.lost")
	if len(fs) != 1 || fs[0].Fact("segment") != "router-in→router-out" || fs[0].Fact("kinds") != "SYN=3" || fs[0].Severity != detect.Error {
		t.Fatalf("%+v", fs)
	}
}

// TestLostRecovered: 1% loss that TCP repairs is context, not a fault.
func TestLostRecovered(t *testing.T) {
	fs := run(t, example(t, "bulk-random-loss"))
	lost := byID(fs, "path.lost")
	if len(lost) != 1 || lost[0].Severity != detect.Info || lost[0].Fact("recovered") != "2" || lost[0].Fact("segment") != "router-out→router-in" {
		t.Fatalf("%+v", lost)
	}
	for _, f := range fs {
		if f.Severity > detect.Info {
			t.Errorf("%s %s", f.ID, f.Severity)
		}
	}
}

// TestHealthyLookAlikes: healthy paths, keep-alive and closed-port
// traffic, a refused connection, timewait reuse: nothing is lost,
// injected or changed.
func TestHealthyLookAlikes(t *testing.T) {
	for _, name := range []string{"healthy", "http-keepalive", "http-no-keepalive", "closed-port", "timewait-reuse", "oncrpc"} {
		if fs := run(t, example(t, name)); len(fs) > 0 {
			var ids []string
			for _, f := range fs {
				ids = append(ids, f.ID+" "+f.Title)
			}
			t.Errorf("%s: %s", name, strings.Join(ids, "; "))
		}
	}
}

// TestModifiedSNATClamp: source NAT and MSS clamping, as configured: info,
// naming the mapping and the clamped value.
func TestModifiedSNATClamp(t *testing.T) {
	fs := run(t, example(t, "snat-mss-clamp"))
	mod := byID(fs, "path.modified")
	if len(mod) != 1 {
		t.Fatalf("%+v", fs)
	}
	f := mod[0]
	if f.Severity != detect.Info || f.Fact("nat") != "10.99.0.2->10.99.1.1" || f.Fact("mss") != "1460->1200" {
		t.Errorf("%s: %v", f.Severity, f.Facts)
	}
	if len(fs) != 1 {
		t.Errorf("other findings: %+v", fs)
	}
}

// TestDuplicateForwardingNotLost: a second router forwarding copies sees
// one direction only; nothing is lost or injected because of it.
func TestDuplicateForwardingNotLost(t *testing.T) {
	for _, f := range run(t, example(t, "duplicate-forwarding")) {
		if f.ID == "path.lost" || f.ID == "path.injected" || f.Severity > detect.Info {
			t.Errorf("%s %s: %s", f.ID, f.Severity, f.Title)
		}
	}
}

// twoPoints writes a generated connection seen at both sides of a
// middlebox (0.4 and 0.6 on the path, one router at 0.5).
func twoPoints(t *testing.T, build func(c *synth.Conn)) []string {
	t.Helper()
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: netip.MustParseAddrPort("10.1.0.1:40000")},
		Server: synth.Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:443")},
		Start:  time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		RTT:    2 * time.Millisecond,
		Hops:   1,
	})
	build(c)
	dir := t.TempDir()
	var files []string
	for i, at := range []float64{0.4, 0.6} {
		name := filepath.Join(dir, []string{"01-fw-in.pcap", "02-fw-out.pcap"}[i])
		v := synth.Vantage{At: at}
		if i == 1 {
			v.Clock = 3 * time.Minute
		}
		if err := synth.WriteFile(name, synth.LinkEthernet, c.Capture(v)); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	if _, err := os.Stat(files[1]); err != nil {
		t.Fatal(err)
	}
	return files
}

// TestInjectedRST: a middlebox resets the connection in the server's
// name; the RST appears between fw-out and fw-in, with a TTL the server's
// own packets do not have.
func TestInjectedRST(t *testing.T) {
	files := twoPoints(t, func(c *synth.Conn) {
		c.Handshake()
		c.Send(synth.Client, 300)
		c.Send(synth.Server, 3000)
		rst := c.Template(synth.Server)
		rst.Flags, rst.TTL, rst.Origin, rst.Options = synth.RST|synth.ACK, 250, 0.5, nil
		c.Inject(rst)
		c.Wait(time.Second)
	})
	fs := run(t, files)
	inj := byID(fs, "path.injected")
	if len(inj) != 1 {
		t.Fatalf("%+v", fs)
	}
	f := inj[0]
	if f.Severity != detect.Warning || f.Fact("segment") != "fw-out→fw-in" || f.Fact("kinds") != "RST=1" || f.Fact("ttl_injected") != "250" || f.Fact("ttl_genuine") != "63" {
		t.Errorf("%s: %v", f.Severity, f.Facts)
	}
}

// TestLatencyEpisode: the server's data waits 150 ms in a queue inside
// the middlebox for a while: a queueing episode between fw-out and fw-in.
func TestLatencyEpisode(t *testing.T) {
	files := twoPoints(t, func(c *synth.Conn) {
		c.Handshake()
		for i := range 12 {
			if i == 6 {
				c.Fault(synth.Match{From: synth.Server, Data: 1}, synth.Fate{Delay: 150 * time.Millisecond, At: 0.5})
			}
			c.Send(synth.Client, 200)
			c.Send(synth.Server, 20000)
		}
		c.Close(synth.Client)
		c.Wait(time.Second)
	})
	fs := run(t, files)
	lat := byID(fs, "path.latency")
	if len(lat) != 1 {
		t.Fatalf("%+v", fs)
	}
	f := lat[0]
	if f.Severity != detect.Warning || f.Fact("segment") != "fw-out→fw-in" || f.Fact("episodes") == "0" {
		t.Errorf("%s: %v", f.Severity, f.Facts)
	}
	if len(byID(fs, "path.lost")) > 0 || len(byID(fs, "path.injected")) > 0 {
		t.Errorf("delay taken for loss: %+v", fs)
	}
}

// TestNoLatencyFinding: steady delays, even with a clock offset of
// minutes between the captures, are no finding.
func TestNoLatencyFinding(t *testing.T) {
	files := twoPoints(t, func(c *synth.Conn) {
		c.Handshake()
		for range 12 {
			c.Send(synth.Client, 200)
			c.Send(synth.Server, 20000)
		}
		c.Close(synth.Client)
		c.Wait(time.Second)
	})
	if fs := run(t, files); len(fs) > 0 {
		t.Errorf("%+v", fs)
	}
}

// TestFirewallRejects: the middlebox drops the client's SYNs and answers
// each with ICMP administratively prohibited: SYNs lost between fw-in and
// fw-out, ICMP errors injected there, nothing else.
func TestFirewallRejects(t *testing.T) {
	fw := netip.MustParseAddr("10.9.0.254")
	files := twoPoints(t, func(c *synth.Conn) {
		c.Fault(synth.Match{From: synth.Client, Flags: synth.SYN}, synth.Fate{Lost: true, At: 0.5})
		c.Handshake()
		for _, p := range c.Packets() {
			if p.Flags&synth.SYN == 0 {
				continue
			}
			c.Inject(synth.Packet{From: synth.Server, Origin: 0.5, Sent: p.Sent.Add(time.Millisecond), TTL: 255, Custom: []synth.Layer{
				&synth.IPv4{Src: fw, Dst: p.Src.Addr(), TTL: 255}, &synth.ICMPv4{Type: 3, Code: 13},
				synth.Quote(28, &synth.IPv4{Src: p.Src.Addr(), Dst: p.Dst.Addr(), DF: true, TTL: p.TTL}, &synth.TCP{SrcPort: p.Src.Port(), DstPort: p.Dst.Port(), Seq: p.Seq, Flags: synth.SYN}),
			}})
		}
		c.Wait(time.Second)
	})
	// The reference traffic: the same hosts on another port, before and
	// after, so both captures were running while the SYNs passed.
	ok := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: netip.MustParseAddrPort("10.1.0.1:40001")},
		Server: synth.Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:80")},
		Start:  time.Date(2025, 3, 1, 11, 59, 59, 0, time.UTC),
		RTT:    2 * time.Millisecond,
		Hops:   1,
	})
	ok.Handshake()
	ok.Send(synth.Client, 100)
	ok.Send(synth.Server, 1000)
	ok.Wait(10 * time.Second)
	ok.Send(synth.Client, 100)
	ok.Send(synth.Server, 1000)
	ok.Close(synth.Client)
	ok.Wait(time.Second)
	appendFrames(t, files[0], ok.Capture(synth.Vantage{At: 0.4}))
	appendFrames(t, files[1], ok.Capture(synth.Vantage{At: 0.6, Clock: 3 * time.Minute}))
	fs := run(t, files)
	lost, inj := byID(fs, "path.lost"), byID(fs, "path.injected")
	if len(lost) != 1 || lost[0].Fact("segment") != "fw-in→fw-out" || !strings.HasPrefix(lost[0].Fact("kinds"), "SYN=") {
		t.Errorf("lost: %+v", lost)
	}
	if len(inj) != 1 || inj[0].Fact("segment") != "fw-out→fw-in" || !strings.HasPrefix(inj[0].Fact("kinds"), "ICMP=") {
		t.Errorf("injected: %+v", inj)
	}
}

// appendFrames rewrites a capture with more frames after its own.
func appendFrames(t *testing.T, file string, more []synth.Frame) {
	t.Helper()
	old, err := readFrames(file)
	if err != nil {
		t.Fatal(err)
	}
	all := append(old, more...)
	slices.SortStableFunc(all, func(a, b synth.Frame) int { return a.Time.Compare(b.Time) })
	if err := synth.WriteFile(file, synth.LinkEthernet, all); err != nil {
		t.Fatal(err)
	}
}

func readFrames(file string) ([]synth.Frame, error) {
	r, err := capture.Open(file)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []synth.Frame
	for f, err := range r.Frames() {
		if err != nil {
			return out, err
		}
		out = append(out, synth.Frame{Time: f.Time.UTC(), Data: slices.Clone(f.Data)})
	}
	return out, nil
}
