package synth

import (
	"net/netip"
	"testing"
	"time"
)

var (
	t0      = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	cliMAC  = MAC{0x02, 0, 0, 0, 0, 1}
	srvMAC  = MAC{0x02, 0, 0, 0, 0, 2}
	cli4    = netip.MustParseAddr("10.1.0.1")
	srv4    = netip.MustParseAddr("10.2.0.2")
	rtr4    = netip.MustParseAddr("10.9.0.254")
	cli6    = netip.MustParseAddr("2001:db8::1")
	srv6    = netip.MustParseAddr("2001:db8::2")
	vtepA   = netip.MustParseAddr("192.168.50.1")
	vtepB   = netip.MustParseAddr("192.168.50.2")
	linuxOp = []TCPOption{OptMSS(1460), OptSACKPermitted(), OptTimestamps(1000, 0), OptNOP(), OptWScale(7)}
)

func seq(frames ...[]byte) []Frame {
	out := make([]Frame, len(frames))
	for i, f := range frames {
		out[i] = Frame{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: f}
	}
	return out
}

func eth() *Ethernet { return &Ethernet{Src: cliMAC, Dst: srvMAC} }

func syn4() []Layer {
	return []Layer{&IPv4{Src: cli4, Dst: srv4, ID: 0x1234, DF: true, TTL: 63, DSCP: 46, ECN: 2},
		&TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, Flags: SYN, Window: 64240, Options: linuxOp}}
}

func TestEthernetLayersTshark(t *testing.T) {
	t.Parallel()
	tcp := func(sport uint16, f uint8) *TCP {
		return &TCP{SrcPort: sport, DstPort: 9000, Seq: 1001, Ack: 5001, Flags: f, Window: 502}
	}
	ip := func() *IPv4 { return &IPv4{Src: cli4, Dst: srv4, DF: true} }
	inner := func(sport uint16) []Layer {
		return []Layer{&Ethernet{Src: MAC{2, 0, 0, 0, 1, 1}, Dst: MAC{2, 0, 0, 0, 1, 2}}, ip(), tcp(sport, PSH|ACK), Payload("hello")}
	}
	frames := [][]byte{
		// 1: Linux-like SYN with IPv4 options (router alert), DSCP EF, ECN ECT(0).
		Encode(nil, append([]Layer{eth(), &IPv4{Src: cli4, Dst: srv4, ID: 0x1234, DF: true, TTL: 63, DSCP: 46, ECN: 2,
			Options: []byte{0x94, 4, 0, 0}}}, syn4()[1:]...)...),
		// 2: 802.1Q tag, UDP.
		Encode(nil, eth(), &Dot1Q{VID: 100, Priority: 5}, &IPv4{Src: cli4, Dst: srv4}, &UDP{SrcPort: 33333, DstPort: 9999}, Payload("datagram")),
		// 3: QinQ, IPv6, SACK blocks.
		Encode(nil, eth(), &Dot1Q{TPID: EtherTypeQinQ, VID: 300}, &Dot1Q{VID: 20}, &IPv6{Src: cli6, Dst: srv6, FlowLabel: 0x12345},
			&TCP{SrcPort: 40001, DstPort: 4443, Seq: 7, Ack: 9, Flags: ACK, Window: 1000,
				Options: []TCPOption{OptNOP(), OptNOP(), OptSACK(3000, 4000, 5000, 6000)}}),
		// 4: a bare ACK padded to 60 bytes; IP ID 0.
		Encode(nil, &Ethernet{Src: cliMAC, Dst: srvMAC, Pad: true}, ip(), tcp(40002, ACK)),
		// 5: VXLAN.
		Encode(nil, append([]Layer{eth(), &IPv4{Src: vtepA, Dst: vtepB}, &UDP{SrcPort: 50000}, &VXLAN{VNI: 4242}}, inner(40003)...)...),
		// 6: Geneve with one option (class 0x0102, type 0x80, 4 bytes of data).
		Encode(nil, append([]Layer{eth(), &IPv4{Src: vtepA, Dst: vtepB}, &UDP{SrcPort: 50001}, &Geneve{VNI: 77,
			Options: []byte{0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef}}}, inner(40004)...)...),
		// 7: GRE with key and sequence, IPv4 inside.
		Encode(nil, eth(), &IPv4{Src: vtepA, Dst: vtepB}, &GRE{KeyPresent: true, Key: 99, SeqPresent: true, Seq: 5, ChecksumPresent: true},
			ip(), tcp(40005, PSH|ACK), Payload("gre")),
		// 8: GRE carrying Ethernet (transparent bridging).
		Encode(nil, append([]Layer{eth(), &IPv4{Src: vtepA, Dst: vtepB}, &GRE{}}, inner(40006)...)...),
		// 9: ICMP port unreachable quoting the SYN from a router.
		Encode(nil, &Ethernet{Src: srvMAC, Dst: cliMAC}, &IPv4{Src: rtr4, Dst: cli4, TTL: 255}, &ICMPv4{Type: 3, Code: 3},
			Quote(28, syn4()...)),
		// 10: ICMPv6 packet too big quoting a full segment.
		Encode(nil, &Ethernet{Src: srvMAC, Dst: cliMAC}, &IPv6{Src: srv6, Dst: cli6}, &ICMPv6{Type: 2, Rest: 1280},
			Quote(1232, &IPv6{Src: cli6, Dst: srv6}, &TCP{SrcPort: 40007, DstPort: 4443, Seq: 9, Ack: 7, Flags: ACK, Window: 100},
				Payload(make([]byte, 1400)))),
		// 11: IPv6 hop-by-hop (router alert) and destination options.
		Encode(nil, eth(), &IPv6{Src: cli6, Dst: srv6}, &IPv6Ext{Type: IPv6HopByHop, Data: []byte{5, 2, 0, 0}},
			&IPv6Ext{Type: IPv6DestOpts}, &UDP{SrcPort: 1, DstPort: 2}, Payload("x")),
		// 12: ICMP echo request.
		Encode(nil, eth(), &IPv4{Src: cli4, Dst: srv4}, &ICMPv4{Type: 8, Rest: 0x00010002}, Payload("ping")),
	}
	p := writeFrames(t, "layers.pcap", LinkEthernet, seq(frames...))
	checkClean(t, p)
	checkFields(t, p, []string{"frame.protocols", "frame.len", "ieee8021ad.id", "vlan.id", "ip.id", "ip.ttl", "ip.dsfield.dscp", "ip.dsfield.ecn", "ip.flags.df",
		"ip.opt.type", "ip.checksum.status", "ipv6.flow", "tcp.srcport", "tcp.options.mss_val", "tcp.options.wscale.shift",
		"tcp.options.timestamp.tsval", "tcp.options.sack_le", "tcp.options.sack_re", "tcp.checksum.status", "udp.checksum.status", "eth.padding"},
		"eth:ethertype:ip:tcp|78|||0x1234|63|46|2|1|148|1||40000|1460|7|1000|||1||",
		"eth:ethertype:vlan:ethertype:ip:udp:data|54||100|0x0000|64|0|0|0||1|||||||||1|",
		"eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ipv6:tcp|102|300|20||||||||0x012345|40001||||3000,5000|4000,6000|1||",
		"eth:ethertype:ip:tcp|60|||0x0000|64|0|0|1||1||40002||||||1||000000000000",
		"eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp:data|109|||0x0000,0x0000|64,64|0,0|0,0|0,1||1,1||40003||||||1|1|",
		"eth:ethertype:ip:udp:geneve:eth:ethertype:ip:tcp:data|117|||0x0000,0x0000|64,64|0,0|0,0|0,1||1,1||40004||||||1|1|",
		"eth:ethertype:ip:gre:ip:tcp:data|93|||0x0000,0x0000|64,64|0,0|0,0|0,1||1,1||40005||||||1||",
		"eth:ethertype:ip:gre:eth:ethertype:ip:tcp:data|97|||0x0000,0x0000|64,64|0,0|0,0|0,1||1,1||40006||||||1||",
		"eth:ethertype:ip:icmp:ip:tcp|70|||0x0000,0x1234|255,63|0,46|0,2|0,1||1,1||40000||||||||",
		// Wireshark marks the TCP checksum in a truncated quote bad
		// (it cannot verify it) without raising expert info.
		"eth:ethertype:ipv6:icmpv6:ipv6:tcp:data|1294||||||||||0x000000,0x000000|40007||||||0||",
		"eth:ethertype:ipv6:ipv6.hopopts:ipv6.dstopts:udp:data|79||||||||||0x000000||||||||1|",
		"eth:ethertype:ip:icmp:data|46|||0x0000|64|0|0|0||1||||||||||",
	)
	checkFields(t, p, []string{"vxlan.vni", "geneve.vni", "geneve.option.class", "gre.key", "gre.sequence_number", "gre.checksum.status",
		"icmp.type", "icmp.code", "icmp.checksum.status", "icmp.mtu", "icmpv6.type", "icmpv6.mtu", "icmpv6.checksum.status", "ipv6.opt.type"},
		"|||||||||||||", "|||||||||||||", "|||||||||||||", "|||||||||||||",
		"4242|||||||||||||",
		"|0x00004d|0x0102|||||||||||",
		"|||0x00000063|5|1||||||||",
		"|||||||||||||",
		"||||||3|3|1|||||",
		"||||||||||2|1280|1|",
		"|||||||||||||0x05,0x01,0x01", // router alert, PadN (hop-by-hop), PadN (destination)
		"||||||8|0|1|||||",
	)
}
