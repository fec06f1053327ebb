package progress

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// The observer allocates per stream (its state, the stalled segment's
// references), never per packet.
func TestProgressAllocsPerStream(t *testing.T) {
	file := filepath.Join(corpus.Path(t, "examples", "bulk-random-loss"), "04-server.pcap.gz")
	o := newProgressObs()
	var ms runtime.MemStats
	var mallocs uint64
	packets := 0
	_, err := pipeline.Run(file, pipeline.Options{Serial: true}, func(p *pipeline.Packet) error {
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		o.Packet(p)
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - before
		packets++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res := o.Finish().(*Result)
	streams := len(res.Flows)
	if packets < 200 || streams == 0 {
		t.Fatalf("%d packets, %d streams", packets, streams)
	}
	// A new stream costs its live entry, its flow, map growth and the
	// stalled segment's reference list.
	t.Logf("%d allocations for %d packets in %d streams", mallocs, packets, streams)
	if limit := uint64(12 * streams); mallocs > limit {
		t.Errorf("%d allocations for %d packets in %d streams, want at most %d", mallocs, packets, streams, limit)
	}
}
