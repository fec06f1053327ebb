package tcp_test

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

func decoded(t testing.TB, name string) []*packet.Packet {
	t.Helper()
	r, err := capture.Open(corpus.Path(t, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := packet.NewDecoder()
	var out []*packet.Packet
	for f, err := range r.Frames() {
		if err != nil {
			t.Fatal(err)
		}
		p := new(packet.Packet)
		d.Decode(f.Clone(), p)
		out = append(out, p)
	}
	return out
}

// TestAnalyzeAllocFree asserts that analysing segments of conversations
// already known allocates nothing: the capture is replayed with its clock
// shifted so every conversation stays live.
func TestAnalyzeAllocFree(t *testing.T) {
	pkts := decoded(t, "http-veth.pcap")
	a := tcp.NewAnalyzer(tcp.Config{})
	var ann tcp.Annotation
	for _, p := range pkts {
		a.Analyze(p, &ann)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(pkts)*4, func() {
		a.Analyze(pkts[i%len(pkts)], &ann)
		i++
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per segment", allocs)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	pkts := decoded(b, "http-veth.pcap")
	a := tcp.NewAnalyzer(tcp.Config{})
	var ann tcp.Annotation
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.Analyze(pkts[i%len(pkts)], &ann)
		i++
	}
}
