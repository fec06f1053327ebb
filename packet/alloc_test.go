package packet_test

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/packet"
)

// loadFrames reads all frames of a capture into memory.
func loadFrames(t testing.TB, name string) []*capture.Frame {
	t.Helper()
	r, err := capture.Open(corpus.Path(t, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*capture.Frame
	for f, err := range r.Frames() {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f.Clone())
	}
	return out
}

// TestDecodeAllocFree asserts that decoding an unfragmented packet, tunnelled
// or not, allocates nothing.
func TestDecodeAllocFree(t *testing.T) {
	for _, name := range []string{"http-veth.pcap", "http-any-sll2.pcap", "vxlan.pcap", "geneve.pcap", "gre.pcap", "qinq.pcap", "icmp.pcap", "raw-ip.pcap"} {
		frames := loadFrames(t, name)
		d := packet.NewDecoder()
		var p packet.Packet
		i := 0
		allocs := testing.AllocsPerRun(len(frames)*3, func() {
			d.Decode(frames[i%len(frames)], &p)
			i++
		})
		if allocs != 0 {
			t.Errorf("%s: %.2f allocations per packet", name, allocs)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	frames := loadFrames(b, "http-veth.pcap")
	d := packet.NewDecoder()
	var p packet.Packet
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Decode(frames[i%len(frames)], &p)
		i++
	}
}

// BenchmarkGopacketDLP decodes the same frames with gopacket's
// DecodingLayerParser (Ethernet, IPv4, IPv6, TCP, UDP), the fastest
// gopacket path, for comparison with BenchmarkDecode.
func BenchmarkGopacketDLP(b *testing.B) {
	frames := loadFrames(b, "http-veth.pcap")
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		tcp     layers.TCP
		udp     layers.UDP
		payload gopacket.Payload
	)
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &udp, &payload)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		parser.DecodeLayers(frames[i%len(frames)].Data, &decoded)
		i++
	}
}
