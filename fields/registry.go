package fields

import (
	"net/netip"

	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// ipLayer is one IP header of a packet, in tshark's order.
type ipLayer struct {
	src, dst netip.Addr
	ttl      uint8
	id       uint16
	length   int
	proto    uint8
}

// forIP calls fn for each IP layer of the given version (4 or 6): outer
// tunnel layers, the packet's own, then the one an ICMP error quotes.
func forIP(p *packet.Packet, v6 bool, fn func(l ipLayer)) {
	is := func(a netip.Addr) bool { return a.IsValid() && a.Is6() == v6 }
	for i := 0; i < p.NumEncap; i++ {
		e := &p.Encap[i]
		if is(e.Src) {
			fn(ipLayer{e.Src, e.Dst, e.TTL, e.IPID, e.IPLen, e.Proto})
		}
	}
	if p.IPVersion != 0 && is(p.Src) {
		fn(ipLayer{p.Src, p.Dst, p.TTL, uint16(p.IPID), p.IPLen, p.Proto})
	}
	if q := &p.Quoted; q.Valid && is(q.Src) {
		fn(ipLayer{q.Src, q.Dst, q.TTL, q.IPID, q.IPLen, q.Proto})
	}
}

func ipField(name string, v6 bool, get func(l ipLayer, out []Value) []Value) Field {
	return Field{Name: name, Values: func(c *Context, out []Value) []Value {
		forIP(c.P, v6, func(l ipLayer) { out = get(l, out) })
		return out
	}}
}

func addr(a netip.Addr) Value { return Value{Kind: Addr, IP: a} }

// udpLayer is one UDP header: a tunnel's, the packet's, or a quoted one.
func forUDP(p *packet.Packet, fn func(src, dst uint16, length int)) {
	for i := 0; i < p.NumEncap; i++ {
		if e := &p.Encap[i]; e.Proto == header.ProtoUDP {
			fn(e.SrcPort, e.DstPort, -1)
		}
	}
	if p.UDP != nil {
		fn(p.SrcPort, p.DstPort, p.UDP.Length())
	}
	if q := &p.Quoted; q.Valid && q.Proto == header.ProtoUDP && q.SrcPort|q.DstPort != 0 {
		fn(q.SrcPort, q.DstPort, -1)
	}
}

// tcpHeader returns the packet's TCP header, or the quoted one (with the
// quoted flag) when the packet is an ICMP error about TCP.
func tcpHeader(c *Context) (t header.TCP, quoted bool) {
	if c.P.TCP != nil {
		return c.P.TCP, false
	}
	if q := &c.P.Quoted; q.Valid && q.Proto == header.ProtoTCP && len(q.TCP) >= 8 {
		return q.TCP, true
	}
	return nil, false
}

func tcpField(name string, minLen int, get func(c *Context, t header.TCP, quoted bool, out []Value) []Value) Field {
	return Field{Name: name, Values: func(c *Context, out []Value) []Value {
		t, quoted := tcpHeader(c)
		if len(t) < minLen {
			return out
		}
		return get(c, t, quoted, out)
	}}
}

// mainTCP is a field only the packet's own, analysed TCP header has.
func mainTCP(name string, get func(c *Context, a *tcp.Annotation, out []Value) []Value) Field {
	return Field{Name: name, Values: func(c *Context, out []Value) []Value {
		if c.P.TCP == nil || c.A == nil || c.A.Quoted {
			return out
		}
		return get(c, c.A, out)
	}}
}

// analysis is a tcp.analysis field: present only when tshark shows the
// analysis tree for the segment.
func analysis(name string, get func(a *tcp.Annotation, out []Value) []Value) Field {
	return mainTCP(name, func(c *Context, a *tcp.Annotation, out []Value) []Value {
		if !a.HasRecord {
			return out
		}
		return get(a, out)
	})
}

func flag(name string, f tcp.Flags, occurrences int) Field {
	return analysis(name, func(a *tcp.Annotation, out []Value) []Value {
		if a.Flags&f != 0 {
			for range occurrences {
				out = append(out, present())
			}
		}
		return out
	})
}

func tcpFlagBit(name string, bit uint8) Field {
	return tcpField(name, 14, func(c *Context, t header.TCP, _ bool, out []Value) []Value {
		return append(out, boolean(t.Flags()&bit != 0))
	})
}

func init12(t header.TCP) int64 { return int64(uint16(t[12]&0x0f)<<8|uint16(t[13])) & 0x0fff }

func init() {
	register(
		// Frame.
		Field{Name: "frame.number", Values: func(c *Context, out []Value) []Value { return append(out, u(c.P.Frame)) }},
		Field{Name: "frame.time_epoch", Values: func(c *Context, out []Value) []Value {
			return append(out, Value{Kind: Seconds, N: int64(c.P.Time)})
		}},
		Field{Name: "frame.time_relative", Values: func(c *Context, out []Value) []Value {
			return append(out, seconds(c.P.Time.Sub(c.First)))
		}},
		Field{Name: "frame.time_delta", Values: func(c *Context, out []Value) []Value {
			return append(out, seconds(c.P.Time.Sub(c.Prev)))
		}},
		Field{Name: "frame.len", Values: func(c *Context, out []Value) []Value { return append(out, u(int64(c.P.FrameLen))) }},
		Field{Name: "frame.cap_len", Values: func(c *Context, out []Value) []Value { return append(out, u(int64(c.P.CapLen))) }},
		Field{Name: "frame.interface_id", Values: func(c *Context, out []Value) []Value {
			if !c.Pcapng {
				return out
			}
			return append(out, u(int64(c.P.Interface)))
		}},

		// Link layer.
		Field{Name: "eth.src", Values: func(c *Context, out []Value) []Value {
			return ethField(c.P, out, func(p *packet.Packet, inner bool) [6]byte {
				if inner {
					return p.InnerSrcMAC
				}
				return p.SrcMAC
			})
		}},
		Field{Name: "eth.dst", Values: func(c *Context, out []Value) []Value {
			return ethField(c.P, out, func(p *packet.Packet, inner bool) [6]byte {
				if inner {
					return p.InnerDstMAC
				}
				return p.DstMAC
			})
		}},
		Field{Name: "vlan.id", Values: func(c *Context, out []Value) []Value {
			for i := 0; i < c.P.NumVLAN; i++ {
				if c.P.VLANTPIDs[i] == header.EtherTypeVLAN {
					out = append(out, u(int64(c.P.VLANs[i])))
				}
			}
			return out
		}},

		// IPv4.
		ipField("ip.src", false, func(l ipLayer, out []Value) []Value { return append(out, addr(l.src)) }),
		ipField("ip.dst", false, func(l ipLayer, out []Value) []Value { return append(out, addr(l.dst)) }),
		ipField("ip.addr", false, func(l ipLayer, out []Value) []Value { return append(out, addr(l.src), addr(l.dst)) }),
		ipField("ip.ttl", false, func(l ipLayer, out []Value) []Value { return append(out, u(int64(l.ttl))) }),
		ipField("ip.id", false, func(l ipLayer, out []Value) []Value { return append(out, hex(int64(l.id), 4)) }),
		ipField("ip.len", false, func(l ipLayer, out []Value) []Value { return append(out, u(int64(l.length))) }),
		ipField("ip.proto", false, func(l ipLayer, out []Value) []Value { return append(out, u(int64(l.proto))) }),
		// IPv6.
		ipField("ipv6.src", true, func(l ipLayer, out []Value) []Value { return append(out, addr(l.src)) }),
		ipField("ipv6.dst", true, func(l ipLayer, out []Value) []Value { return append(out, addr(l.dst)) }),
		ipField("ipv6.addr", true, func(l ipLayer, out []Value) []Value { return append(out, addr(l.src), addr(l.dst)) }),
		ipField("ipv6.hlim", true, func(l ipLayer, out []Value) []Value { return append(out, u(int64(l.ttl))) }),
		ipField("ipv6.plen", true, func(l ipLayer, out []Value) []Value { return append(out, u(int64(l.length-40))) }),

		// UDP.
		Field{Name: "udp.srcport", Values: func(c *Context, out []Value) []Value {
			forUDP(c.P, func(s, _ uint16, _ int) { out = append(out, u(int64(s))) })
			return out
		}},
		Field{Name: "udp.dstport", Values: func(c *Context, out []Value) []Value {
			forUDP(c.P, func(_, d uint16, _ int) { out = append(out, u(int64(d))) })
			return out
		}},
		Field{Name: "udp.port", Values: func(c *Context, out []Value) []Value {
			forUDP(c.P, func(s, d uint16, _ int) { out = append(out, u(int64(s)), u(int64(d))) })
			return out
		}},
		Field{Name: "udp.length", Values: func(c *Context, out []Value) []Value {
			forUDP(c.P, func(_, _ uint16, n int) {
				if n >= 0 {
					out = append(out, u(int64(n)))
				}
			})
			return out
		}},

		// ICMP.
		Field{Name: "icmp.type", Values: func(c *Context, out []Value) []Value {
			if c.P.ICMP == nil || c.P.Proto != header.ProtoICMP {
				return out
			}
			return append(out, u(int64(c.P.ICMP.Type())))
		}},
		Field{Name: "icmp.code", Values: func(c *Context, out []Value) []Value {
			if c.P.ICMP == nil || c.P.Proto != header.ProtoICMP {
				return out
			}
			return append(out, u(int64(c.P.ICMP.Code())))
		}},
		Field{Name: "icmpv6.type", Values: func(c *Context, out []Value) []Value {
			if c.P.ICMP == nil || c.P.Proto != header.ProtoICMPv6 {
				return out
			}
			return append(out, u(int64(c.P.ICMP.Type())))
		}},
		Field{Name: "icmpv6.code", Values: func(c *Context, out []Value) []Value {
			if c.P.ICMP == nil || c.P.Proto != header.ProtoICMPv6 {
				return out
			}
			return append(out, u(int64(c.P.ICMP.Code())))
		}},

		// TCP header (also the quoted one in an ICMP error).
		tcpField("tcp.srcport", 2, func(c *Context, t header.TCP, _ bool, out []Value) []Value { return append(out, u(int64(t.SrcPort()))) }),
		tcpField("tcp.dstport", 4, func(c *Context, t header.TCP, _ bool, out []Value) []Value { return append(out, u(int64(t.DstPort()))) }),
		tcpField("tcp.port", 4, func(c *Context, t header.TCP, _ bool, out []Value) []Value {
			return append(out, u(int64(t.SrcPort())), u(int64(t.DstPort())))
		}),
		tcpField("tcp.stream", 16, func(c *Context, t header.TCP, _ bool, out []Value) []Value {
			if c.A == nil {
				return out
			}
			return append(out, u(c.A.Stream))
		}),
		tcpField("tcp.completeness", 16, func(c *Context, t header.TCP, _ bool, out []Value) []Value {
			if c.A == nil {
				return out
			}
			return append(out, u(int64(c.A.Completeness)))
		}),
		tcpField("tcp.seq", 8, func(c *Context, t header.TCP, quoted bool, out []Value) []Value {
			if quoted {
				return append(out, u(int64(t.Seq())))
			}
			if c.A == nil {
				return out
			}
			return append(out, u(int64(c.A.RelSeq)))
		}),
		tcpField("tcp.ack", 12, func(c *Context, t header.TCP, quoted bool, out []Value) []Value {
			if quoted || c.A == nil {
				return append(out, u(int64(t.Ack())))
			}
			return append(out, u(int64(c.A.RelAck)))
		}),
		tcpField("tcp.hdr_len", 13, func(c *Context, t header.TCP, _ bool, out []Value) []Value {
			return append(out, u(int64(t.HeaderLen())))
		}),
		tcpField("tcp.flags", 14, func(c *Context, t header.TCP, _ bool, out []Value) []Value { return append(out, hex(init12(t), 3)) }),
		tcpField("tcp.flags.str", 14, func(c *Context, t header.TCP, _ bool, out []Value) []Value {
			return append(out, Value{Kind: FlagsStr, N: init12(t)})
		}),
		tcpFlagBit("tcp.flags.fin", header.FlagFIN),
		tcpFlagBit("tcp.flags.syn", header.FlagSYN),
		tcpFlagBit("tcp.flags.reset", header.FlagRST),
		tcpFlagBit("tcp.flags.push", header.FlagPSH),
		tcpFlagBit("tcp.flags.ack", header.FlagACK),
		tcpFlagBit("tcp.flags.urg", header.FlagURG),
		tcpFlagBit("tcp.flags.ece", header.FlagECE),
		tcpFlagBit("tcp.flags.cwr", header.FlagCWR),
		tcpField("tcp.window_size_value", 16, func(c *Context, t header.TCP, _ bool, out []Value) []Value { return append(out, u(int64(t.Window()))) }),
		tcpField("tcp.window_size", 16, func(c *Context, t header.TCP, quoted bool, out []Value) []Value {
			if quoted || c.A == nil {
				return append(out, u(int64(t.Window())))
			}
			return append(out, u(c.A.Window))
		}),
		mainTCP("tcp.window_size_scalefactor", func(c *Context, a *tcp.Annotation, out []Value) []Value {
			if c.P.TCP.Flags()&header.FlagSYN != 0 {
				return out
			}
			if a.WinScale < 0 {
				return append(out, Value{Kind: Int, N: int64(a.WinScale)})
			}
			return append(out, Value{Kind: Int, N: 1 << a.WinScale})
		}),
		tcpField("tcp.checksum", 18, func(c *Context, t header.TCP, _ bool, out []Value) []Value {
			return append(out, hex(int64(t.Checksum()), 4))
		}),
		mainTCP("tcp.seq_raw", func(c *Context, _ *tcp.Annotation, out []Value) []Value { return append(out, u(int64(c.P.TCP.Seq()))) }),
		mainTCP("tcp.ack_raw", func(c *Context, _ *tcp.Annotation, out []Value) []Value { return append(out, u(int64(c.P.TCP.Ack()))) }),
		mainTCP("tcp.len", func(c *Context, a *tcp.Annotation, out []Value) []Value { return append(out, u(int64(a.SeqLen))) }),
		mainTCP("tcp.nxtseq", func(c *Context, a *tcp.Annotation, out []Value) []Value { return append(out, u(int64(a.NextSeq))) }),
		tcpOption("tcp.options.mss_val", func(o *header.TCPOptions, out []Value) []Value {
			if o.Has&header.HasMSS == 0 {
				return out
			}
			return append(out, u(int64(o.MSS)))
		}),
		tcpOption("tcp.options.wscale.shift", func(o *header.TCPOptions, out []Value) []Value {
			if o.Has&header.HasWScale == 0 {
				return out
			}
			return append(out, u(int64(o.WScale)))
		}),
		tcpOption("tcp.options.timestamp.tsval", func(o *header.TCPOptions, out []Value) []Value {
			if o.Has&header.HasTimestamps == 0 {
				return out
			}
			return append(out, u(int64(o.TSVal)))
		}),
		tcpOption("tcp.options.timestamp.tsecr", func(o *header.TCPOptions, out []Value) []Value {
			if o.Has&header.HasTimestamps == 0 {
				return out
			}
			return append(out, u(int64(o.TSEcr)))
		}),

		// TCP analysis (tshark's sequence analysis; see package tcp).
		flag("tcp.analysis.retransmission", tcp.Retransmission, 1),
		flag("tcp.analysis.fast_retransmission", tcp.FastRetransmission, 1),
		flag("tcp.analysis.spurious_retransmission", tcp.SpuriousRetransmission, 1),
		flag("tcp.analysis.out_of_order", tcp.OutOfOrder, 1),
		flag("tcp.analysis.lost_segment", tcp.LostSegment, 1),
		flag("tcp.analysis.ack_lost_segment", tcp.AckLostSegment, 1),
		// tshark adds both a tree item and an expert item of this name.
		flag("tcp.analysis.duplicate_ack", tcp.DuplicateAck, 2),
		flag("tcp.analysis.zero_window", tcp.ZeroWindow, 1),
		flag("tcp.analysis.zero_window_probe", tcp.ZeroWindowProbe, 1),
		flag("tcp.analysis.zero_window_probe_ack", tcp.ZeroWindowProbeAck, 1),
		flag("tcp.analysis.window_full", tcp.WindowFull, 1),
		flag("tcp.analysis.window_update", tcp.WindowUpdate, 1),
		flag("tcp.analysis.keep_alive", tcp.KeepAlive, 1),
		flag("tcp.analysis.keep_alive_ack", tcp.KeepAliveAck, 1),
		flag("tcp.analysis.reused_ports", tcp.ReusedPorts, 1),
		analysis("tcp.analysis.flags", func(a *tcp.Annotation, out []Value) []Value {
			if a.Flags != 0 {
				out = append(out, present())
			}
			return out
		}),
		analysis("tcp.analysis.duplicate_ack_num", func(a *tcp.Annotation, out []Value) []Value {
			if a.Flags&tcp.DuplicateAck == 0 {
				return out
			}
			return append(out, u(int64(a.DupAckNum)))
		}),
		analysis("tcp.analysis.duplicate_ack_frame", func(a *tcp.Annotation, out []Value) []Value {
			if a.Flags&tcp.DuplicateAck == 0 {
				return out
			}
			return append(out, u(a.DupAckFrame))
		}),
		analysis("tcp.analysis.acks_frame", func(a *tcp.Annotation, out []Value) []Value {
			if a.AcksFrame == 0 {
				return out
			}
			return append(out, u(a.AcksFrame))
		}),
		analysis("tcp.analysis.ack_rtt", func(a *tcp.Annotation, out []Value) []Value {
			if a.AcksFrame == 0 || a.AckRTT == 0 {
				return out
			}
			return append(out, seconds(a.AckRTT))
		}),
		analysis("tcp.analysis.initial_rtt", func(a *tcp.Annotation, out []Value) []Value {
			if !a.HasInitialRTT {
				return out
			}
			return append(out, seconds(a.InitialRTT))
		}),
		analysis("tcp.analysis.bytes_in_flight", func(a *tcp.Annotation, out []Value) []Value {
			if a.BytesInFlight == 0 {
				return out
			}
			return append(out, u(a.BytesInFlight))
		}),
		analysis("tcp.analysis.push_bytes_sent", func(a *tcp.Annotation, out []Value) []Value {
			if a.BytesInFlight == 0 {
				return out
			}
			return append(out, u(a.PushBytesSent))
		}),
		analysis("tcp.analysis.rto", func(a *tcp.Annotation, out []Value) []Value {
			if a.RTOFrame == 0 || a.RTO == 0 {
				return out
			}
			return append(out, seconds(a.RTO))
		}),
		analysis("tcp.analysis.rto_frame", func(a *tcp.Annotation, out []Value) []Value {
			if a.RTOFrame == 0 || a.RTO == 0 {
				return out
			}
			return append(out, u(a.RTOFrame))
		}),
	)
}

// ethField yields the outer Ethernet address and a tunnelled frame's. A
// FabricPath frame's outer addresses are tshark's cfp.* fields, not eth.*.
func ethField(p *packet.Packet, out []Value, get func(p *packet.Packet, inner bool) [6]byte) []Value {
	fabricPath := p.HasInnerMAC && p.NumEncap == 0
	if p.Layers&packet.LayerEthernet != 0 && !fabricPath {
		out = append(out, Value{Kind: MAC, HW: get(p, false)})
	}
	if p.HasInnerMAC {
		out = append(out, Value{Kind: MAC, HW: get(p, true)})
	}
	return out
}

func tcpOption(name string, get func(o *header.TCPOptions, out []Value) []Value) Field {
	return Field{Name: name, Values: func(c *Context, out []Value) []Value {
		if c.P.TCP == nil {
			return out
		}
		var o header.TCPOptions
		c.P.TCP.ParseOptions(&o)
		return get(&o, out)
	}}
}

// Protocol names work as fields that exist when the layer does, for
// display filters such as "tcp and not icmp".
func init() {
	layer := func(name string, has func(p *packet.Packet) bool) Field {
		return Field{Name: name, Values: func(c *Context, out []Value) []Value {
			if has(c.P) {
				out = append(out, present())
			}
			return out
		}}
	}
	register(
		layer("frame", func(*packet.Packet) bool { return true }),
		layer("eth", func(p *packet.Packet) bool { return p.Layers&packet.LayerEthernet != 0 }),
		layer("vlan", func(p *packet.Packet) bool { return p.NumVLAN > 0 }),
		layer("arp", func(p *packet.Packet) bool { return p.Layers&packet.LayerARP != 0 }),
		layer("ip", func(p *packet.Packet) bool { return p.Layers&packet.LayerIPv4 != 0 }),
		layer("ipv6", func(p *packet.Packet) bool { return p.Layers&packet.LayerIPv6 != 0 }),
		layer("tcp", func(p *packet.Packet) bool {
			return p.TCP != nil || p.Quoted.Valid && p.Quoted.Proto == header.ProtoTCP && len(p.Quoted.TCP) >= 8
		}),
		// A header an ICMP error quotes is a layer too, as in tshark.
		layer("udp", func(p *packet.Packet) bool {
			return p.Layers&packet.LayerUDP != 0 || p.Quoted.Valid && p.Quoted.Proto == header.ProtoUDP && p.Quoted.SrcPort|p.Quoted.DstPort != 0
		}),
		layer("icmp", func(p *packet.Packet) bool { return p.Layers&packet.LayerICMP != 0 }),
		layer("icmpv6", func(p *packet.Packet) bool { return p.Layers&packet.LayerICMPv6 != 0 }),
		layer("vxlan", func(p *packet.Packet) bool { return p.Layers&packet.LayerVXLAN != 0 }),
		layer("geneve", func(p *packet.Packet) bool { return p.Layers&packet.LayerGeneve != 0 }),
		layer("gre", func(p *packet.Packet) bool { return p.Layers&packet.LayerGRE != 0 }),
	)
}
