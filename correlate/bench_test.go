package correlate

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// benchFiles generates (once, cached in the temporary directory) two
// captures of about a million packets each: 4,400 HTTP-like connections
// seen on both sides of a middlebox that loses 0.5% of data segments, with
// the second capture's clock 1.5 s ahead and drifting 20 ppm.
func benchFiles(tb testing.TB) (string, string) {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), "wiresleuth-correlate-bench-v1")
	a, b := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	if _, err := os.Stat(b); err == nil {
		return a, b
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tmpA, tmpB := a+".tmp", b+".tmp"
	fa, err := os.Create(tmpA)
	if err != nil {
		tb.Fatal(err)
	}
	fb, err := os.Create(tmpB)
	if err != nil {
		tb.Fatal(err)
	}
	wa, _ := synth.NewPcapWriter(fa, synth.PcapOptions{LinkType: synth.LinkEthernet, Nanosecond: true})
	wb, _ := synth.NewPcapWriter(fb, synth.PcapOptions{LinkType: synth.LinkEthernet, Nanosecond: true})
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	total := 0
	for i := 0; total < 1_000_000; i++ {
		cfg := synth.Config{
			Client: synth.Endpoint{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(30000+i%30000))},
			Server: synth.Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:443")},
			Start:  start.Add(time.Duration(i) * 300 * time.Millisecond),
			RTT:    time.Millisecond,
			Hops:   1,
			Seed:   uint64(i),
		}
		c := synth.NewConn(cfg)
		if i%2 == 0 {
			c.Lose(synth.Match{From: synth.Server, Data: 1, Nth: 3 + i%20})
		}
		c.Handshake()
		for range 5 {
			c.Send(synth.Client, 300)
			c.Send(synth.Server, 40000)
		}
		c.Close(synth.Client)
		c.Wait(100 * time.Millisecond)
		fra := c.Capture(synth.Vantage{At: 0.3})
		frb := c.Capture(synth.Vantage{At: 0.7, Clock: 1500 * time.Millisecond, Drift: 20e-6})
		for _, f := range fra {
			if err := wa.WriteFrame(f); err != nil {
				tb.Fatal(err)
			}
		}
		for _, f := range frb {
			if err := wb.WriteFrame(f); err != nil {
				tb.Fatal(err)
			}
		}
		total += len(fra)
	}
	if err := fa.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := fb.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmpA, a); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmpB, b); err != nil {
		tb.Fatal(err)
	}
	return a, b
}

// BenchmarkCorrelate matches two captures of a million packets each (the
// signatures are recorded once, outside the timing).
//
//	go test ./correlate -run '^$' -bench Correlate -benchtime 3x
func BenchmarkCorrelate(b *testing.B) {
	fa, fb := benchFiles(b)
	in := []Input{{"a", record(b, fa)}, {"b", record(b, fb)}}
	b.ReportAllocs()
	var p *Path
	for b.Loop() {
		p = correlate(in)
	}
	b.StopTimer()
	n := in[0].Capture.Packets() + in[1].Capture.Packets()
	s := p.Segments()[0]
	b.ReportMetric(float64(n), "packets")
	b.ReportMetric(float64(s.Matched), "matched")
	b.ReportMetric(float64(len(p.Lost())), "lost")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/packet")
}

// BenchmarkRecord is the Recorder's share of a dataset pass: decoding one
// capture of a million packets with and without it.
//
//	go test ./correlate -run '^$' -bench Record -benchtime 3x
func BenchmarkRecord(b *testing.B) {
	fa, _ := benchFiles(b)
	for _, withRec := range []bool{false, true} {
		b.Run(fmt.Sprintf("recorder=%v", withRec), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := NewRecorder(Options{})
				_, err := pipeline.Run(fa, pipeline.Options{NewDecoder: conn.NewDecoder}, func(p *pipeline.Packet) error {
					if withRec {
						r.Packet(p.Packet)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				r.Finish()
			}
		})
	}
}

// TestRecorderAllocs: recording a packet allocates nothing beyond the
// amortised growth of the signature slice and the connection table.
func TestRecorderAllocs(t *testing.T) {
	g := generate(t, synthCase{name: "allocs", vlan: -1, sll2: -1, pad: -1, hops: 1, conns: 5})
	d := packet.NewDecoder()
	var pkts []*packet.Packet
	for i, f := range g.frames[1][:50] {
		p := &packet.Packet{}
		d.Decode(&capture.Frame{Number: int64(i + 1), Time: capture.Time(f.f.Time.UnixNano()), Data: f.f.Data, OrigLen: len(f.f.Data), LinkType: capture.LinkType(synth.LinkEthernet)}, p)
		pkts = append(pkts, p)
	}
	r := NewRecorder(Options{})
	for _, p := range pkts {
		r.Packet(p)
	}
	if r.c.Packets() != 50 {
		t.Fatalf("recorded %d of 50 packets", r.c.Packets())
	}
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		r.Packet(pkts[i%len(pkts)])
		i++
	})
	if allocs > 0.01 {
		t.Errorf("%.2f allocations per packet", allocs)
	}
	if n := unsafe.Sizeof(sig{}); n > 56 {
		t.Errorf("a signature takes %d bytes", n)
	}
}
