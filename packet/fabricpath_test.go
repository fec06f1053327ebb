package packet_test

import (
	"path/filepath"
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/packet"
)

// TestFabricPathFCSByLength: Zeek's cisco-fabric-path trace has FabricPath
// frames without an FCS. By default the decoder cuts 4 bytes as tshark
// does and loses the UDP header; with FabricPathFCSByLength it goes by the
// IP length, as Zeek does.
func TestFabricPathFCSByLength(t *testing.T) {
	path := filepath.Join(corpus.Peers(t), "zeek", "cisco-fabric-path.pcap")
	for _, byLength := range []bool{false, true} {
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		d := packet.NewDecoder()
		d.FabricPathFCSByLength = byLength
		var p packet.Packet
		udp := 0
		for f, err := range r.Frames() {
			if err != nil {
				t.Fatal(err)
			}
			d.Decode(f, &p)
			if p.Frame <= 32 && p.UDP != nil {
				udp++
			}
		}
		r.Close()
		// Frames 1-32 are 16 plain Ethernet and 16 FabricPath UDP packets.
		if want := map[bool]int{false: 16, true: 32}[byLength]; udp != want {
			t.Errorf("FabricPathFCSByLength=%v: %d UDP packets in frames 1-32, want %d", byLength, udp, want)
		}
	}
}
