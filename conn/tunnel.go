package conn

import (
	"bytes"
	"encoding/binary"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

// Tunnels: an outer UDP tunnel is an ordinary UDP connection in Zeek's
// log; the packets inside it are looked up as connections of their own,
// with the tunnel as their parent. Zeek decapsulates by the outer
// connection's responder port, or finds Teredo by content.

type tunnel uint8

const (
	tunNone tunnel = iota
	tunVXLAN
	tunGeneve
	tunTeredo
	tunAYIYA
	tunGTP
	tunGRE
	tunIPinIP
)

var tunnelNames = [...]string{"", "vxlan", "geneve", "teredo", "ayiya", "gtpv1", "gre", "ip"}

func tunnelKind(l packet.Layers) tunnel {
	switch {
	case l.Has(packet.LayerVXLAN):
		return tunVXLAN
	case l.Has(packet.LayerGeneve):
		return tunGeneve
	case l.Has(packet.LayerTeredo):
		return tunTeredo
	case l.Has(packet.LayerAYIYA):
		return tunAYIYA
	case l.Has(packet.LayerGTP):
		return tunGTP
	case l.Has(packet.LayerGRE):
		return tunGRE
	}
	return tunIPinIP
}

// portTunnel is the tunnel Zeek's UDP analyzer dispatches to by responder
// port (the packet analyzers' registered ports).
func portTunnel(port uint16) tunnel {
	switch port {
	case header.PortVXLAN:
		return tunVXLAN
	case header.PortGeneve:
		return tunGeneve
	case header.PortTeredo:
		return tunTeredo
	case header.PortAYIYA:
		return tunAYIYA
	case 2152, 2123:
		return tunGTP
	}
	return tunNone
}

// ipTunnelID identifies an IP-in-IP or GRE hop: its unordered address pair
// and kind (EncapsulatingConn compares IP tunnels so).
func ipTunnelID(e *packet.Encap) uint64 {
	a, b := e.Src.As16(), e.Dst.As16()
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	h := uint64(14695981039346656037) // FNV-1a
	add := func(b byte) { h = (h ^ uint64(b)) * 1099511628211 }
	add(byte(tunnelKind(e.Kind)))
	for i := range a {
		add(a[i])
	}
	for i := range b {
		add(b[i])
	}
	return h | 1<<63
}

// outerUDP runs the outer UDP packet of a UDP tunnel layer e. It returns
// the outer connection (nil if Zeek drops the packet), the packet's
// direction, and whether Zeek decapsulates it.
func (tr *Tracker) outerUDP(p *packet.Packet, e *packet.Encap, st *encapStack, kind tunnel) (*connState, flow.Dir, bool) {
	u := e.UDP
	if len(u) < header.UDPLen {
		return nil, 0, false
	}
	c, d := tr.udpConn(p, e.Src, e.SrcPort, e.Dst, e.DstPort, st)
	tr.commonOuter(c, d, p, e)
	payload := u[header.UDPLen:]
	if !tr.ignoreSums(e.Src) && !p.Truncated() {
		vxlanZero := len(payload) > header.VXLANLen+header.EthernetLen && payload[0]&0x08 != 0 && e.DstPort == header.PortVXLAN && u.Checksum() == 0
		if !vxlanZero && tr.outerSumBad(c, d, p, e) {
			c.udpBadChecksum(d)
			tr.stats.SumDropped++
			return nil, d, false
		}
	}
	c.lastTime = p.Time
	c.udpValid(d, int64(u.Length())-header.UDPLen)
	if c.tunnelViolated {
		return c, d, false
	}
	zk := portTunnel(c.key.k.Dst(c.origDir).Port)
	if zk == tunNone && kind == tunTeredo && looksLikeTeredo(payload) {
		zk = tunTeredo
	}
	if zk == tunNone {
		return c, d, false
	}
	if zk == tunTeredo {
		if _, ok := teredoInner(payload); !ok {
			c.tunnelViolated = true // an analyzer violation: no more decapsulation
			return c, d, false
		}
	}
	c.service = tunnelNames[zk]
	return c, d, true
}

// outerSumBad checks an outer UDP checksum, noting the verdict.
func (tr *Tracker) outerSumBad(c *connState, d flow.Dir, p *packet.Packet, e *packet.Encap) bool {
	s := &c.x.side[d].sums
	r := ref(p.Frame, p.Time)
	switch e.UDPChecksum() {
	case packet.ChecksumGood:
		s.good++
	case packet.ChecksumBad:
		w := s.wrongs()
		field := e.UDP.Checksum()
		if field == uint16(header.PseudoHeaderSum(e.Src, e.Dst, header.ProtoUDP, int(e.UDP.Length()))) {
			w.partial++
		} else {
			w.bad++
		}
		w.wrong(field, r, p.Direction == capture.DirOutbound)
		return true
	default:
		s.unverified++
	}
	return false
}

// commonOuter is common for the outer packet of a tunnel layer.
func (tr *Tracker) commonOuter(c *connState, d flow.Dir, p *packet.Packet, e *packet.Encap) {
	r := ref(p.Frame, p.Time)
	x := &c.x
	x.packet(d, r, false)
	s := &x.side[d]
	s.payload += int64(e.UDP.Length()) - header.UDPLen
	switch {
	case e.IPVersion == 4 && len(e.IP) >= header.IPv4MinLen:
		s.ttl.add(e.IP[8], r)
		s.ipid.add(binary.BigEndian.Uint16(e.IP[4:]), r)
		if !ipv4SumOK(e.IP, e.IPHdrLen) {
			s.sums.wrongs().ipBad++
		}
	case e.IPVersion == 6 && len(e.IP) >= header.IPv6Len:
		s.ttl.add(e.IP[7], r)
	}
	c.lastFrame, c.lastSeen = p.Frame, p.Time
}

// looksLikeTeredo is the content test for Teredo on a port that is not
// 3544: optional authentication and origin indication headers, then an
// IPv6 packet that fills the datagram exactly (or a bubble).
func looksLikeTeredo(d []byte) bool {
	if len(d) < header.IPv6Len {
		return false
	}
	o := 0
	if d[0] == 0 && d[1] == 1 {
		o = 13 + int(d[2]) + int(d[3])
	}
	if len(d) >= o+2 && d[o] == 0 && d[o+1] == 0 {
		o += 8
	}
	if len(d) < o+header.IPv6Len || d[o]>>4 != 6 {
		return false
	}
	plen := int(binary.BigEndian.Uint16(d[o+4:]))
	return len(d)-o == plen+header.IPv6Len || d[o+6] == header.ProtoNoNext && plen == 0
}

// teredoInner returns the IPv6 packet of a Teredo payload as Zeek's Teredo
// analyzer accepts it: its length must fill the datagram, except a bubble
// with trailing bytes (weird Teredo_bubble_with_payload).
func teredoInner(d []byte) ([]byte, bool) {
	o := 0
	if len(d) >= 4 && d[0] == 0 && d[1] == 1 {
		o = 13 + int(d[2]) + int(d[3])
	}
	if len(d) >= o+2 && d[o] == 0 && d[o+1] == 0 {
		o += 8
	}
	if o > len(d) {
		return nil, false
	}
	in := d[o:]
	if len(in) < header.IPv6Len || in[0]>>4 != 6 {
		return nil, false
	}
	plen := int(binary.BigEndian.Uint16(in[4:]))
	if len(in) != plen+header.IPv6Len {
		if len(in) > plen+header.IPv6Len && in[6] == header.ProtoNoNext && plen == 0 {
			return in, true
		}
		return nil, false
	}
	return in, true
}

// detectTeredo decapsulates Teredo that the decoder left as UDP: on a
// responder port of 3544, or found by content on another port.
func (tr *Tracker) detectTeredo(c *connState, p *packet.Packet, st *encapStack) {
	zk := portTunnel(c.key.k.Dst(c.origDir).Port)
	if zk == tunNone && looksLikeTeredo(p.Payload) {
		zk = tunTeredo
	}
	if zk != tunTeredo {
		return
	}
	in, ok := teredoInner(p.Payload)
	if !ok {
		c.tunnelViolated = true
		return
	}
	c.service = tunnelNames[tunTeredo]
	tr.innerFrame = capture.Frame{Number: p.Frame, Time: p.Time, Data: in, OrigLen: len(in), LinkType: capture.LinkRaw, Interface: p.Interface, Direction: p.Direction}
	q := &tr.inner
	tr.innerDec.Decode(&tr.innerFrame, q)
	st2 := *st
	st2.push(c.id<<3|uint64(tunTeredo), true)
	tr.inDetect = true
	var outer [packet.MaxEncap]pendingCount
	n := tr.outerLayers(q, &st2, &outer)
	if n >= 0 {
		tr.observeIP(q, nil, &st2)
	} else {
		n = -n - 1
	}
	for i := n - 1; i >= 0; i-- {
		o := &outer[i]
		o.c.pkts[o.d]++
		o.c.ipBytes[o.d] += uint64(o.ipLen)
	}
	tr.inDetect = false
}
