package correlate

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// TestUDPThroughNAT: DNS-like exchanges seen before and behind a NAT that
// rewrites the client's address and port, remarks DSCP EF to 0, and loses
// some queries (the client retries them with the same bytes a second
// later); the second capture's clock is 2 minutes ahead. Every datagram
// must find its copy, every lost query be placed in the middlebox, and
// the mapping and the remarking be reported.
func TestUDPThroughNAT(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 3))
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	client, server, nat := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.2.0.2"), netip.MustParseAddr("192.0.2.7")
	type frame struct {
		t    time.Time
		data []byte
	}
	var atA, atB []frame
	mk := func(src, dst netip.Addr, sport, dport uint16, ttl, dscp uint8, id uint16, pl []byte) []byte {
		return synth.Encode(nil, &synth.Ethernet{Src: synth.MAC{2, 0, 0, 0, 0, 1}, Dst: synth.MAC{2, 0, 0, 0, 0, 2}},
			&synth.IPv4{Src: src, Dst: dst, TTL: ttl, DSCP: dscp, ID: id}, &synth.UDP{SrcPort: sport, DstPort: dport}, synth.Payload(pl))
	}
	lostWant := 0
	for i := range 60 {
		t0 := start.Add(time.Duration(i) * 200 * time.Millisecond)
		sport, nport := uint16(30000+i), uint16(40000+i)
		q := make([]byte, 30+rng.IntN(30))
		for k := range q {
			q[k] = byte(rng.Uint32())
		}
		r := make([]byte, 80+rng.IntN(120))
		for k := range r {
			r[k] = byte(rng.Uint32())
		}
		tries := 1
		if i%7 == 3 {
			tries = 2 // the first query is lost in the middlebox
			lostWant++
		}
		for try := range tries {
			ts := t0.Add(time.Duration(try) * time.Second)
			id := uint16(rng.Uint32())
			atA = append(atA, frame{ts, mk(client, server, sport, 53, 64, 46, id, q)})
			if try == tries-1 {
				atB = append(atB, frame{ts.Add(2*time.Minute + 100*time.Microsecond), mk(nat, server, nport, 53, 63, 0, id, q)})
				rid := uint16(rng.Uint32())
				atB = append(atB, frame{ts.Add(2*time.Minute + 900*time.Microsecond), mk(server, nat, 53, nport, 64, 0, rid, r)})
				atA = append(atA, frame{ts.Add(time.Millisecond), mk(server, client, 53, sport, 63, 0, rid, r)})
			}
		}
	}
	dir := t.TempDir()
	write := func(name string, fs []frame) string {
		var out []synth.Frame
		for _, f := range fs {
			out = append(out, synth.Frame{Time: f.t, Data: f.data})
		}
		p := filepath.Join(dir, name)
		if err := synth.WriteFile(p, synth.LinkEthernet, out); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := write("a.pcap", atA), write("b.pcap", atB)
	if _, err := os.Stat(b); err != nil {
		t.Fatal(err)
	}
	p := correlate([]Input{{"inside", record(t, a)}, {"outside", record(t, b)}})
	s := p.Segments()[0]
	if s.Matched != len(atB) {
		t.Errorf("%d of %d datagrams matched", s.Matched, len(atB))
	}
	if len(p.Lost()) != lostWant || len(p.Injected()) != 0 {
		t.Errorf("%d lost (want %d), %d injected", len(p.Lost()), lostWant, len(p.Injected()))
	}
	for _, e := range p.Lost() {
		if e.Vantage != 0 || e.Other != 1 || e.Packet.Kind != KindUDP || e.Packet.Dst.Port != 53 {
			t.Errorf("lost %+v", e)
		}
	}
	if len(s.Translations) != 60 || s.Translations[0].After[0].Addr != nat {
		t.Errorf("%d translations: %+v", len(s.Translations), s.Translations[:min(1, len(s.Translations))])
	}
	found := false
	for _, m := range p.Mods() {
		if m.What == "dscp" && m.Before == "EF (46)" && m.After == "CS0 (0)" {
			found = true
		}
	}
	if !found {
		t.Errorf("DSCP remarking not reported: %+v", p.Mods())
	}
	if c := p.Clock(1); !c.Known || (c.Offset-2*time.Minute).Abs() > time.Millisecond {
		t.Errorf("clock %+v", c)
	}
}
