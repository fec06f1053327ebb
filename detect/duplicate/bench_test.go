package duplicate

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/detect/internal/replay"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// workload is a bulk transfer with loss and a conversation whose client
// packets all arrive twice.
func workload(tb testing.TB) *replay.Replayer {
	r := replay.NewReplayer(replay.Concat(
		replay.Packets(tb, corpus.Path(tb, "examples", "bulk-random-loss", "04-server.pcap.gz")),
		replay.Packets(tb, corpus.Path(tb, "examples", "duplicate-forwarding", "05-server.pcap"))))
	r.Shift = true // time moves on: each lap's packets are new, the repeats within a lap repeats
	return r
}

// The observation allocates nothing per packet once its groups exist.
func TestObserverAllocs(t *testing.T) {
	r := workload(t)
	o := Copies.New()
	r.Lap(o)
	if n := testing.AllocsPerRun(20, func() { r.Lap(o) }); n != 0 {
		t.Fatalf("%.1f allocations per lap of %d packets", n, len(r.Pkts))
	}
}

func BenchmarkObserver(b *testing.B) {
	r := workload(b)
	o := Copies.New()
	r.Lap(o)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		r.Lap(o)
		n += len(r.Pkts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/packet")
}
