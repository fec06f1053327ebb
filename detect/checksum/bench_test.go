package checksum

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/detect/internal/replay"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// workload is a bulk transfer with random loss (SACK, retransmissions)
// and captures with offload checksums with checksums left for offload.
func workload(tb testing.TB) *replay.Replayer {
	return replay.NewReplayer(replay.Concat(
		replay.Packets(tb, corpus.Path(tb, "examples", "bulk-random-loss", "04-server.pcap.gz")),
		replay.Packets(tb, corpus.Path(tb, "testdata", "http-veth.pcap"))))
}

// Once its connections are tracked, the observation allocates nothing per
// packet.
func TestObserverAllocs(t *testing.T) {
	r := workload(t)
	o := Verdicts.New()
	r.Lap(o)
	if n := testing.AllocsPerRun(20, func() { r.Lap(o) }); n != 0 {
		t.Fatalf("%.1f allocations per lap of %d packets", n, len(r.Pkts))
	}
}

func BenchmarkObserver(b *testing.B) {
	r := workload(b)
	o := Verdicts.New()
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
