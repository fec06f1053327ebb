package packet_test

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/packet"
)

// FuzzDecode feeds arbitrary frame bytes under each link type and checks
// the decoder's promises: no panic, payload within the frame, lengths
// consistent.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"http-veth.pcap", "vxlan.pcap", "geneve.pcap", "gre.pcap", "gretap.pcap", "qinq.pcap", "vlan.pcap", "icmp.pcap", "frag.pcap", "raw-ip.pcap", "http-any.pcap", "http-any-sll2.pcap"} {
		for i, fr := range loadFrames(f, name) {
			if i < 6 {
				f.Add(uint16(fr.LinkType), fr.Data)
			}
		}
	}
	links := []capture.LinkType{capture.LinkEthernet, capture.LinkRaw, capture.LinkNull, capture.LinkLinuxSLL, capture.LinkLinuxSLL2, capture.LinkRadiotap, capture.LinkIPv6}
	d := packet.NewDecoder()
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		fr := &capture.Frame{Number: 1, Data: data, OrigLen: len(data), LinkType: links[int(lt)%len(links)]}
		var p packet.Packet
		d.Decode(fr, &p)
		if len(p.Payload) > len(data) && p.Frag != packet.Reassembled {
			t.Fatalf("payload %d bytes from a %d-byte frame", len(p.Payload), len(data))
		}
		if p.PayloadLen < 0 {
			t.Fatalf("negative payload length %d", p.PayloadLen)
		}
		if p.Padding < 0 || p.Padding > len(data) {
			t.Fatalf("padding %d", p.Padding)
		}
		p.TransportChecksum()
		p.IPChecksum()
	})
}
