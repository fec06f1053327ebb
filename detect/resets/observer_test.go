package resets

import (
	"path/filepath"
	"testing"

	"github.com/wiresleuth/wiresleuth/detect/internal/dtest"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// The observer allocates nothing for packets of connections it knows: a
// bulk transfer costs its stream's state and nothing per packet.
func TestObserverAllocations(t *testing.T) {
	file := filepath.Join(corpus.Path(t, "examples"), "bulk-random-loss", "01-client.pcap.gz")
	o := newObservation()
	mallocs, n := dtest.PacketAllocs(t, file, 11, func(p *pipeline.Packet) { o.Packet(p) })
	if n < 190 {
		t.Fatalf("only %d packets", n)
	}
	if limit := uint64(16); mallocs > limit { // see PacketAllocs
		t.Errorf("%d allocations over %d packets of a known connection, want at most %d", mallocs, n, limit)
	}
	res := o.Finish().(*Result)
	if res.RSTCount != 0 || len(res.Stale) != 0 || len(res.Repeats) != 0 {
		t.Errorf("a healthy transfer: %+v", res)
	}
}
