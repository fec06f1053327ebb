package synth

import (
	"fmt"
	"testing"
)

func TestLinkTypesTshark(t *testing.T) {
	t.Parallel()
	tcp4 := func() []Layer {
		return []Layer{&IPv4{Src: cli4, Dst: srv4, DF: true}, &TCP{SrcPort: 40000, DstPort: 9000, Seq: 1, Flags: SYN, Window: 100}}
	}
	tcp6 := func() []Layer {
		return []Layer{&IPv6{Src: cli6, Dst: srv6}, &TCP{SrcPort: 40001, DstPort: 9000, Seq: 1, Flags: SYN, Window: 100}}
	}
	cases := []struct {
		lt    LinkType
		link  Layer // nil: raw IP
		proto string
	}{
		{LinkLinuxSLL, &SLL{PacketType: SLLOutgoing, Addr: cliMAC}, "sll:ethertype:"},
		{LinkLinuxSLL2, &SLL2{PacketType: SLLHost, IfIndex: 2, Addr: srvMAC}, "sll:ethertype:"},
		{LinkRaw, nil, "raw:"},
		{LinkNull, &Null{}, "null:"},
		{LinkLoop, &Null{BigEndian: true}, "null:"}, // Wireshark shares the dissector
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.lt), func(t *testing.T) {
			stack := func(l []Layer) []Layer {
				if c.link == nil {
					return l
				}
				return append([]Layer{c.link}, l...)
			}
			p := writeFrames(t, fmt.Sprintf("link%d.pcap", c.lt), c.lt, seq(Encode(nil, stack(tcp4())...), Encode(nil, stack(tcp6())...)))
			checkClean(t, p)
			checkFields(t, p, []string{"frame.protocols", "tcp.srcport", "tcp.checksum.status"},
				c.proto+"ip:tcp|40000|1", c.proto+"ipv6:tcp|40001|1")
		})
	}
	// LINKTYPE_IPV4 and LINKTYPE_IPV6 carry one IP version each.
	p := writeFrames(t, "ipv4.pcap", LinkIPv4, seq(Encode(nil, tcp4()...)))
	checkFields(t, p, []string{"frame.protocols", "tcp.srcport"}, "ip:tcp|40000")
	p = writeFrames(t, "ipv6.pcap", LinkIPv6, seq(Encode(nil, tcp6()...)))
	checkFields(t, p, []string{"frame.protocols", "tcp.srcport"}, "ipv6:tcp|40001")
}

func TestChecksumModesTshark(t *testing.T) {
	t.Parallel()
	seg := func(port uint16, c Checksum) []byte {
		return Encode(nil, eth(), &IPv4{Src: cli4, Dst: srv4}, &TCP{SrcPort: port, DstPort: 9000, Seq: 1, Flags: SYN, Window: 100, Checksum: c})
	}
	udp := func(port uint16, c Checksum) []byte {
		return Encode(nil, eth(), &IPv6{Src: cli6, Dst: srv6}, &UDP{SrcPort: port, DstPort: 9999, Checksum: c}, Payload("abc"))
	}
	p := writeFrames(t, "sums.pcap", LinkEthernet, seq(
		seg(1, Checksum{}), seg(2, BadChecksum), seg(3, FixedChecksum(0)), seg(4, OffloadChecksum),
		udp(5, Checksum{}), udp(6, BadChecksum),
		Encode(nil, eth(), &IPv4{Src: cli4, Dst: srv4, Checksum: BadChecksum}, &UDP{SrcPort: 7, DstPort: 9999}),
		Encode(nil, eth(), &IPv4{Src: cli4, Dst: srv4}, &UDP{SrcPort: 8, DstPort: 9999, Checksum: FixedChecksum(0)}),
	))
	// 0 bad, 1 good, 3 not present (UDP over IPv4 without checksum).
	checkFields(t, p, []string{"ip.checksum.status", "tcp.checksum.status", "udp.checksum.status"},
		"1|1|", "1|0|", "1|0|", "1|0|", "||1", "||0", "0||1", "1||3")
	ex := expert(t, p)
	if n := len(ex["Errors"]); n == 0 {
		t.Errorf("tshark reported no errors for bad checksums: %v", ex)
	}
	// The offload value is the folded pseudo-header sum, what Linux leaves
	// for the NIC: 10.1.0.1 + 10.2.0.2 + proto 6 + length 20.
	rows := fields(t, p, "tcp.srcport==4", "tcp.checksum")
	want := uint32(0x0a01+0x0001+0x0a02+0x0002) + 6 + 20
	if got := fmt.Sprintf("0x%04x", want); rows[0][0] != got {
		t.Errorf("offload checksum %s, want %s", rows[0][0], got)
	}
}

func TestFragmentTshark(t *testing.T) {
	t.Parallel()
	body := make([]byte, 3000)
	for i := range body {
		body[i] = byte(i)
	}
	var frames [][]byte
	f4 := Fragment(1400, 0, eth(), &IPv4{Src: cli4, Dst: srv4, ID: 777}, &UDP{SrcPort: 1000, DstPort: 9999}, Payload(body))
	f6 := Fragment(1232, 0xabcd, eth(), &IPv6{Src: cli6, Dst: srv6}, &IPv6Ext{Type: IPv6HopByHop}, &UDP{SrcPort: 1001, DstPort: 9999}, Payload(body))
	if len(f4) != 3 || len(f6) != 3 {
		t.Fatalf("got %d IPv4 and %d IPv6 fragments, want 3 each", len(f4), len(f6))
	}
	// Send the IPv4 fragments out of order: reassembly must not care.
	for _, i := range []int{2, 0, 1} {
		frames = append(frames, Encode(nil, f4[i]...))
	}
	for _, f := range f6 {
		frames = append(frames, Encode(nil, f...))
	}
	p := writeFrames(t, "frags.pcap", LinkEthernet, seq(frames...))
	checkClean(t, p)
	checkFields(t, p, []string{"ip.flags.mf", "ip.frag_offset", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ipv6.fraghdr.ident", "udp.length", "udp.checksum.status", "ip.fragment.count", "ipv6.fragment.count"},
		// Offsets print in 8-byte units.
		"0|350|||||||", "1|0|||||||", "1|175||||3008|1|3|",
		"||0|1|0x0000abcd||||", "||154|1|0x0000abcd||||", "||308|0|0x0000abcd|3008|1||3")
}
