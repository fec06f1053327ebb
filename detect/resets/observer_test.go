package resets

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// The observer allocates nothing for packets of connections it knows: a
// bulk transfer costs its stream's state and nothing per packet.
func TestObserverAllocations(t *testing.T) {
	file := filepath.Join(corpus.Path(t, "examples"), "bulk-random-loss", "01-client.pcap.gz")
	o := newObservation()
	var ms runtime.MemStats
	var mallocs uint64
	n := 0
	_, err := pipeline.Run(file, pipeline.Options{NewDecoder: conn.NewDecoder, Serial: true}, func(p *pipeline.Packet) error {
		runtime.ReadMemStats(&ms)
		before := ms.Mallocs
		o.Packet(p)
		runtime.ReadMemStats(&ms)
		if n > 10 {
			mallocs += ms.Mallocs - before
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 200 {
		t.Fatalf("only %d packets", n)
	}
	// Mallocs is process-wide: under load a few allocations have landed in
	// the window (6 in 1 run of 6; none in 70 quiet runs), from amortised
	// map growth or the runtime. One per packet cannot hide under this
	// bound.
	if limit := uint64(16); mallocs > limit {
		t.Errorf("%d allocations over %d packets of a known connection, want at most %d", mallocs, n-11, limit)
	}
	res := o.Finish().(*Result)
	if res.RSTCount != 0 || len(res.Stale) != 0 || len(res.Repeats) != 0 {
		t.Errorf("a healthy transfer: %+v", res)
	}
}
