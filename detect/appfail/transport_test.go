package appfail

import (
	"path/filepath"
	"testing"

	"github.com/wiresleuth/wiresleuth/detect/internal/dtest"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// The transport observer allocates nothing for the packets of a stream it
// knows once the stream's recent-segment memory is full: a bulk transfer
// costs its stream's state and nothing per packet.
func TestTransportAllocations(t *testing.T) {
	file := filepath.Join(corpus.Path(t, "examples"), "bulk-random-loss", "01-client.pcap.gz")
	o := Transport.New()
	mallocs, n := dtest.PacketAllocs(t, file, 41, func(p *pipeline.Packet) { o.Packet(p) })
	if n < 190 {
		t.Fatalf("only %d packets", n)
	}
	if limit := uint64(16); mallocs > limit { // see PacketAllocs
		t.Errorf("%d allocations over %d packets of a known connection, want at most %d", mallocs, n, limit)
	}
	res := o.Finish().(*TransportResult)
	if len(res.TCP) != 1 {
		t.Fatalf("%d streams", len(res.TCP))
	}
	v := res.TCP[0]
	s := v.Side(flow.Endpoint{Addr: v.A.Addr, Port: v.A.Port})
	if s != 0 || !v.HasData[1] || !v.Covered[1].Valid() || v.Retransmits[1] == 0 || len(v.recent[1]) != recentSegments {
		t.Errorf("server side: data %v, covered %v, %d retransmits, %d recent", v.HasData[1], v.Covered[1], v.Retransmits[1], len(v.recent[1]))
	}
	// The last data segment's acknowledgement is known by its frame.
	last := v.recent[1][len(v.recent[1])-1]
	if ack, known := v.AckOf(1, last.frame); !known || !ack.Valid() || ack.Frame <= last.frame {
		t.Errorf("AckOf(%d) = %v, %v", last.frame, ack, known)
	}
	if _, known := v.AckOf(1, 1); known {
		t.Error("frame 1 is no data segment")
	}
}
