package duplicate

import (
	"math/rand/v2"
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

var (
	cliMAC = synth.MAC{0x02, 0, 0, 0, 0, 0x01} // the router the server normally hears from
	srvMAC = synth.MAC{0x02, 0, 0, 0, 0, 0x02}
	r2MAC  = synth.MAC{0x02, 0, 0, 0, 0, 0x03} // a second router
)

const id = "tcp.duplicate-forwarding"

// conversation is a small HTTP-like exchange: requests and responses on
// one connection, captured at the server.
func conversation(t *testing.T, lose bool) []synth.Frame {
	t.Helper()
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: netip.MustParseAddrPort("10.1.0.1:40001"), MAC: cliMAC, TTL: 63},
		Server: synth.Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:80"), MAC: srvMAC},
		Start:  replay.T0, RTT: 2 * time.Millisecond, Seed: 7,
	})
	if lose {
		c.Lose(synth.Match{From: synth.Server, Data: 1, Nth: 3})
		c.Lose(synth.Match{From: synth.Server, Data: 1, Nth: 9})
		c.Lose(synth.Match{From: synth.Client, Data: 1, Nth: 2})
	}
	c.Handshake()
	for range 3 {
		c.Send(synth.Client, 200)
		c.Send(synth.Server, 20000)
	}
	c.Close(synth.Client)
	c.Close(synth.Server)
	c.Wait(time.Second)
	return c.Capture(synth.Vantage{At: 1})
}

// forwardTwice adds, for every frame from the client, the same IP packet
// from r2 after gap, its TTL lowered by dec.
func forwardTwice(fs []synth.Frame, dec uint8, gap time.Duration) []synth.Frame {
	var out []synth.Frame
	for _, f := range fs {
		out = append(out, f)
		if synth.MAC(f.Data[6:12]) == cliMAC {
			out = append(out, synth.Frame{Time: f.Time.Add(gap), Data: replay.Copy(f.Data, r2MAC, dec)})
		}
	}
	return replay.Sort(out)
}

func run1(t *testing.T, name string, fs []synth.Frame) []detect.Finding {
	t.Helper()
	file := replay.Write(t, name+".pcap", fs)
	got, _ := replay.Diagnose(t, []*detect.Detector{Forwarding}, []string{name}, []string{file})
	return got
}

func TestForwardedByTwoRouters(t *testing.T) {
	for _, tc := range []struct {
		name string
		dec  uint8
		ttls string
	}{
		{"one-hop-further", 1, "63,62"},
		{"same-distance", 0, "63,63"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := conversation(t, false)
			got := run1(t, "server", forwardTwice(fs, tc.dec, 40*time.Microsecond))
			w := replay.WithID(got, id, detect.Warning)
			if len(w) != 1 {
				t.Fatalf("want one warning, got %+v", got)
			}
			f := w[0]
			for k, v := range map[string]string{"first_mac": "02:00:00:00:00:01", "second_mac": "02:00:00:00:00:03", "dst_mac": "02:00:00:00:00:02", "ttls": tc.ttls} {
				if f.Fact(k) != v {
					t.Errorf("fact %s = %q, want %q", k, f.Fact(k), v)
				}
			}
			if len(f.Connections) != 1 || f.Connections[0].ClientAddr != "10.1.0.1:40001" {
				t.Errorf("connections %+v", f.Connections)
			}
			if !strings.Contains(f.Explanation, "all ") || len(f.Evidence) < 2 {
				t.Errorf("explanation or evidence: %s %+v", f.Explanation, f.Evidence)
			}
			if tc.dec == 0 && !strings.Contains(f.Explanation, "same TTL") {
				t.Errorf("same-distance pair not said: %s", f.Explanation)
			}
		})
	}
}

// Retransmissions repeat a segment's payload as a new IP packet: no
// repeat, no finding, even with the copies arriving from the same MAC.
func TestRetransmissionsAreNotRepeats(t *testing.T) {
	fs := conversation(t, true)
	got := run1(t, "server", fs)
	if len(got) != 0 {
		t.Fatalf("retransmissions reported: %+v", got)
	}
}

// A SPAN session that mirrors both directions of a port repeats frames
// byte for byte: context (info) at most, never a warning.
func TestIdenticalMirrorCopies(t *testing.T) {
	var out []synth.Frame
	for _, f := range conversation(t, true) {
		out = append(out, f, synth.Frame{Time: f.Time.Add(3 * time.Microsecond), Data: f.Data})
	}
	got := run1(t, "span", replay.Sort(out))
	if w := replay.WithID(got, id, detect.Warning); len(w) != 0 {
		t.Fatalf("mirror copies reported as a fault: %+v", w)
	}
	info := replay.WithID(got, id, detect.Info)
	if len(info) != 1 || !strings.Contains(info[0].Title, "artefact") || len(info[0].Connections) != 0 {
		t.Fatalf("want one info about the capture, without connections: %+v", got)
	}
}

// A capture on a router's only interface (router on a stick), or on both of
// its interfaces in one pcapng, sees each packet come in and go out: the
// second copy leaves the device the first was addressed to, TTL one
// lower. Routing, not a fault.
func TestRouterTraversal(t *testing.T) {
	router := synth.MAC{0x02, 0, 0, 0, 0, 0x0a}
	fs := conversation(t, false)
	var stick, twoIfaces []synth.Frame
	for _, f := range fs {
		in := synth.Frame{Time: f.Time, Data: append([]byte(nil), f.Data...)}
		replay.SetDst(in.Data, router)
		out := synth.Frame{Time: f.Time.Add(20 * time.Microsecond), Data: replay.Copy(f.Data, router, 1)}
		stick = append(stick, in, out)
		// Two interfaces with their own MACs: in on 0, out on 1.
		out2 := synth.Frame{Time: out.Time, Data: replay.Copy(f.Data, synth.MAC{0x02, 0, 0, 0, 0, 0x0b}, 1), Interface: 1}
		twoIfaces = append(twoIfaces, in, out2)
	}
	if got := run1(t, "stick", replay.Sort(stick)); len(got) != 0 {
		t.Errorf("router on a stick reported: %+v", got)
	}
	file := replay.WritePcapng(t, "router.pcapng", 2, replay.Sort(twoIfaces))
	if got, _ := replay.Diagnose(t, []*detect.Detector{Forwarding}, []string{"router"}, []string{file}); len(got) != 0 {
		t.Errorf("capture on both interfaces of a router reported: %+v", got)
	}
}

// Copies that arrive later than Window are not repeats.
func TestOutsideWindow(t *testing.T) {
	fs := conversation(t, false)
	if got := run1(t, "late", forwardTwice(fs, 1, Window+time.Millisecond)); len(got) != 0 {
		t.Fatalf("copies %v apart reported: %+v", Window+time.Millisecond, got)
	}
}

// Fewer than MinRepeats repeats (a failover moment) are not reported.
func TestFewRepeats(t *testing.T) {
	fs := conversation(t, false)
	var out []synth.Frame
	n := 0
	for _, f := range fs {
		out = append(out, f)
		if synth.MAC(f.Data[6:12]) == cliMAC && n < MinRepeats-1 {
			out = append(out, synth.Frame{Time: f.Time.Add(30 * time.Microsecond), Data: replay.Copy(f.Data, r2MAC, 1)})
			n++
		}
	}
	if got := run1(t, "few", replay.Sort(out)); len(got) != 0 {
		t.Fatalf("%d repeats reported: %+v", n, got)
	}
}

// The lab scenario (iptables TEE on r1 to r2, which forwards the copies to
// the server): the finding is at the server, names r2's MAC and the TTLs,
// and says that r1-out shows where duplication starts; r2's own capture
// (packets in from r1, out to the server) is not a fault by itself.
func TestLabDuplicateForwarding(t *testing.T) {
	dir := corpus.Path(t, "examples", "duplicate-forwarding")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	names := []string{"client", "r1-in", "r1-out", "r2", "server"}
	got, _ := replay.Diagnose(t, []*detect.Detector{Forwarding}, names, files)
	w := replay.WithID(got, id, detect.Warning)
	if len(w) != 1 {
		t.Fatalf("want one warning, got %d: %+v", len(w), got)
	}
	f := w[0]
	if f.Connections[0].Capture != "server" || f.Fact("second_mac") != "02:00:0a:63:01:03" || f.Fact("first_mac") != "02:00:0a:63:01:01" || f.Fact("ttls") != "63,62" {
		t.Errorf("finding: %+v", f)
	}
	for _, s := range []string{"At r1-out, 02:00:0a:63:01:01 sends each of these packets to two next hops", "At r2, the packets arrive from 02:00:0a:63:01:01", "all 16 packets"} {
		if !strings.Contains(f.Explanation, s) {
			t.Errorf("explanation lacks %q: %s", s, f.Explanation)
		}
	}
	// Each capture alone.
	for i, want := range []int{0, 0, 1, 0, 1} {
		got, _ := replay.Diagnose(t, []*detect.Detector{Forwarding}, names[i:i+1], files[i:i+1])
		if n := len(replay.WithID(got, id, detect.Warning)); n != want {
			t.Errorf("%s alone: %d warnings, want %d: %+v", names[i], n, want, got)
		}
	}
}

// No scenario but duplicate-forwarding, no repository capture and no peer
// trace repeats packets the way two forwarders do.
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
	m, _ := filepath.Glob(filepath.Join("testdata", "*.pcap"))
	files = append(files, m...)
	for _, f := range files {
		if strings.Contains(f, "duplicate-forwarding") || strings.Contains(f, "two-forwarders") {
			continue
		}
		got, _ := replay.Diagnose(t, []*detect.Detector{Forwarding}, []string{filepath.Base(f)}, []string{f})
		if w := replay.WithID(got, id, detect.Warning); len(w) > 0 {
			t.Errorf("%s: %s", f, w[0].Title)
		}
	}
}

// The signature index against a map: random inserts, lookups and
// evictions through the ring.
func TestIndexAgainstModel(t *testing.T) {
	o := newObservation()
	rng := rand.New(rand.NewPCG(1, 1))
	live := map[uint64]uint64{} // sig -> insertion number
	for i := range 3 * ringSize {
		// Few distinct high bits: many collisions in the table.
		sig := rng.Uint64N(3*ringSize)<<32 | uint64(rng.IntN(64))
		if j, ok := o.lookup(sig); ok {
			o.remove(j)
		}
		o.insert(sig, Copy{})
		live[sig] = uint64(i)
		if i%1021 == 0 || i == 3*ringSize-1 {
			for s, n := range live {
				j, ok := o.lookup(s)
				inRing := uint64(i)-n < ringSize
				if ok != inRing {
					t.Fatalf("step %d: sig %x inserted at %d: found %v, in ring %v", i, s, n, ok, inRing)
				}
				if ok && o.table[j].pos != n+1 {
					t.Fatalf("step %d: sig %x points at %d, want %d", i, s, o.table[j].pos, n+1)
				}
				if !inRing {
					delete(live, s)
				}
			}
		}
	}
}

// Captures made by testdata/make-captures.sh on the real stack.
func TestRealCaptures(t *testing.T) {
	got := run1file(t, "two-forwarders")
	w := replay.WithID(got, id, detect.Warning)
	if len(w) != 1 {
		t.Fatalf("two-forwarders: want one warning, got %+v", got)
	}
	f := w[0]
	macs := f.Fact("first_mac") + "," + f.Fact("second_mac")
	if macs != "02:00:0a:63:0b:01,02:00:0a:63:0b:03" && macs != "02:00:0a:63:0b:03,02:00:0a:63:0b:01" || f.Fact("ttls") != "63,63" || f.Fact("dst_mac") != "02:00:0a:63:0b:02" {
		t.Errorf("two-forwarders: %+v", f.Facts)
	}
	if !strings.Contains(f.Explanation, "same TTL") {
		t.Errorf("two-forwarders: %s", f.Explanation)
	}
	// r1 captured on its any interface (Linux cooked v2): every packet
	// in and out of the router. Nothing to report.
	if got := run1file(t, "router-any"); len(got) != 0 {
		t.Errorf("router-any: %+v", got)
	}
	// A monitor port mirroring ingress and egress of both switch ports.
	got = run1file(t, "span")
	if len(got) != 1 || got[0].Severity != detect.Info {
		t.Errorf("span: want one info, got %+v", got)
	}
}

func run1file(t *testing.T, name string) []detect.Finding {
	t.Helper()
	got, _ := replay.Diagnose(t, []*detect.Detector{Forwarding}, []string{name}, []string{filepath.Join("testdata", name+".pcap")})
	return got
}
