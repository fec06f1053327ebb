package conn

import (
	"encoding/binary"
	"net/netip"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// ipLen is the IP length Zeek counts for p: the header's total length, or
// for a reassembled datagram the reassembled length.
func ipLen(p *packet.Packet) int {
	if p.Frag == packet.Reassembled {
		switch {
		case p.TCP != nil:
			return p.IPHdrLen + len(p.TCP)
		case p.UDP != nil:
			return p.IPHdrLen + len(p.UDP)
		case p.ICMP != nil:
			return p.IPHdrLen + len(p.ICMP)
		}
	}
	return p.IPLen
}

// observeTCP is TCPAnalyzer::DeliverPacket (with the connection lookup of
// IPBasedAnalyzer::AnalyzePacket before it).
func (tr *Tracker) observeTCP(p *packet.Packet, a *tcp.Annotation, st *encapStack) {
	var s seg
	th := p.TCP
	bad := false
	if th == nil {
		// A data offset below 20 or beyond the packet: Zeek makes (or
		// finds) the connection but processes nothing
		// (TCPAnalyzer::InitConnKey needs only 20 captured bytes).
		if p.IPHdrLen > len(p.IP) || len(p.IP)-p.IPHdrLen < header.TCPMinLen {
			return
		}
		th = header.TCP(p.IP[p.IPHdrLen:])
		bad = true
	}
	s = seg{flags: th.Flags(), seq: th.Seq(), ack: th.Ack(), win: th.Window(), plen: p.PayloadLen, remaining: len(p.Payload)}
	sport, dport := th.SrcPort(), th.DstPort()
	k, d := flow.New(header.ProtoTCP, p.Src, sport, p.Dst, dport)
	key := connKey{k: k}
	c := tr.lookup(key)
	if c != nil && c.isReuse(&s) {
		tr.remove(c, EndReused)
		c = nil
	}
	if c == nil {
		c = tr.newConn(key, ProtoTCP, p, d, st)
		tr.newTCP(c)
		if tr.wantFlipTCP(&s, sport, dport) && !isBroadcast(p.Dst) {
			c.flipRoles()
		}
	} else {
		tr.checkEncap(c, st)
	}
	if bad {
		tr.common(c, d, p, false)
		return
	}
	closes := s.fin() || s.rst()
	tr.common(c, d, p, closes)
	sum := tr.transportSum(c, d, p, th.Checksum())
	if sum == packet.ChecksumBad && !tr.ignoreSums(p.Src) {
		// TCP_Endpoint::ChecksumError, then the packet is dropped.
		c.scaledLetter(d, &c.tcp.ep[d].chk, 'C')
		tr.stats.SumDropped++
		tr.tcpExtras(c, d, p, &s, a, false)
		return
	}
	c.x.rexmitZeek = false
	tr.processTCP(c, d, &s, p.Time)
	c.pkts[d]++
	c.ipBytes[d] += uint64(ipLen(p))
	if c.establishedEvent {
		c.establishedEvent = false
		tr.connEstablished(c)
	}
	tr.tcpExtras(c, d, p, &s, a, c.x.rexmitZeek)
}

// connEstablished is the connection_established handler of
// base/protocols/conn/inactivity.zeek: interactive service ports get a
// longer inactivity timeout.
func (tr *Tracker) connEstablished(c *connState) {
	if len(tr.opt.PortInactivity) == 0 {
		return
	}
	orig, resp := c.key.k.Src(c.origDir), c.key.k.Dst(c.origDir)
	svc := resp.Port
	if c.tcp.ep[c.origDir].state == Inactive && !tr.opt.ServerPorts.Has(TCP, svc) && tr.opt.ServerPorts.Has(TCP, orig.Port) {
		svc = orig.Port
	}
	if t, ok := tr.opt.PortInactivity[svc]; ok {
		tr.setInactivityTimeout(c, int64(t))
	}
}

// transportSum verifies p's transport checksum for Zeek and notes the
// verdict in host d's checksum statistics. It returns ChecksumBad for
// anything Zeek would reject.
func (tr *Tracker) transportSum(c *connState, d flow.Dir, p *packet.Packet, field uint16) packet.Checksum {
	v := p.TransportChecksum()
	s := &c.x.side[d].sums
	r := ref(p.Frame, p.Time)
	out := p.Direction == capture.DirOutbound
	switch v {
	case packet.ChecksumGood:
		s.good++
	case packet.ChecksumUnknown:
		s.unverified++
	case packet.ChecksumZero:
		if p.UDP != nil {
			// "No checksum" over IPv4 is allowed.
			s.unverified++
			return packet.ChecksumGood
		}
		w := s.wrongs()
		w.zero++
		w.wrong(0, r, out)
		return packet.ChecksumBad
	case packet.ChecksumBad:
		w := s.wrongs()
		if isPartialSum(p, field) {
			w.partial++
		} else {
			w.bad++
		}
		w.wrong(field, r, out)
	}
	return v
}

// isPartialSum reports whether a checksum field holds only the folded
// pseudo-header sum: what a sender leaves for its NIC to complete.
func isPartialSum(p *packet.Packet, field uint16) bool {
	var n int
	switch {
	case p.TCP != nil:
		n = len(p.TCP)
	case p.UDP != nil:
		n = len(p.UDP)
	default:
		return false
	}
	return field == uint16(header.PseudoHeaderSum(p.Src, p.Dst, p.Proto, n))
}

// common notes what every packet of a connection tells, whatever Zeek
// makes of it.
func (tr *Tracker) common(c *connState, d flow.Dir, p *packet.Packet, closes bool) {
	r := ref(p.Frame, p.Time)
	x := &c.x
	x.packet(d, r, closes)
	s := &x.side[d]
	s.payload += int64(p.PayloadLen)
	s.ttl.add(p.TTL, r)
	if p.IPVersion == 4 {
		s.ipid.add(uint16(p.IPID), r)
		if !ipv4SumOK(p.IP, p.IPHdrLen) {
			s.sums.wrongs().ipBad++
		}
	}
	c.lastFrame, c.lastSeen = p.Frame, p.Time
}

// noteIPDropped attributes a packet Zeek drops at the IP layer to its
// connection, if there is one, for the checksum statistics.
func (tr *Tracker) noteIPDropped(p *packet.Packet) {
	var sport, dport uint16
	switch p.Proto {
	case 6, 17:
		sport, dport = p.SrcPort, p.DstPort
	default:
		return
	}
	k, d := flow.New(p.Proto, p.Src, sport, p.Dst, dport)
	if c := tr.lookup(connKey{k: k}); c != nil {
		tr.common(c, d, p, false)
	}
}

// tcpExtras updates the troubleshooting state with a TCP segment from host
// d; zeekRexmit says Zeek counted it as a retransmission.
func (tr *Tracker) tcpExtras(c *connState, d flow.Dir, p *packet.Packet, s *seg, a *tcp.Annotation, zeekRexmit bool) {
	x := &c.x
	sd := &x.side[d]
	r := ref(p.Frame, p.Time)
	opts := p.TCP.Options()
	if hasTimestamps(opts) {
		sd.ts++
	} else {
		sd.noTS++
	}
	hs, phs := &x.hs[d], &x.hs[d.Reverse()]
	switch {
	case s.syn() && !s.ack_():
		hs.nSYN++
		if !hs.syn.Valid() {
			hs.syn = r
		}
		x.addEvidence(EvSYN, d, r)
		if !sd.opts.Seen {
			sd.opts = synOptions(p.TCP)
		}
	case s.syn():
		hs.nSYNACK++
		if !hs.synack.Valid() {
			hs.synack = r
		}
		hs.synackSeq, hs.haveSYNACK = s.seq, true
		x.addEvidence(EvSYNACK, d, r)
		if !sd.opts.Seen {
			sd.opts = synOptions(p.TCP)
		}
	case s.ack_() && phs.haveSYNACK && !hs.ack.Valid() && s.ack == phs.synackSeq+1:
		hs.ack = r
	}
	if s.plen > 0 && !s.syn() {
		if !sd.firstData.Valid() {
			sd.firstData = r
			x.addEvidence(EvFirstData, d, r)
		}
		sd.lastData = r
	}
	if s.fin() && !sd.fin.Valid() {
		sd.fin = r
		x.addEvidence(EvFIN, d, r)
	}
	if s.rst() {
		if !sd.rst.Valid() {
			sd.rst = r
		}
		x.addEvidence(EvRST, d, r)
	}
	if a != nil {
		c.annotated = true
		if a.Flags != 0 {
			if sd.analysis == nil {
				sd.analysis = new(Analysis)
			}
			sd.analysis.add(a.Flags)
		}
		if a.Flags&tcp.Retransmission != 0 {
			x.addEvidence(EvRetransmission, d, r)
		}
		if a.Flags&tcp.ZeroWindow != 0 {
			x.addEvidence(EvZeroWindow, d, r)
		}
	} else {
		if zeekRexmit {
			x.addEvidence(EvRetransmission, d, r)
		}
		if s.win == 0 && !s.rst() {
			x.addEvidence(EvZeroWindow, d, r)
		}
	}
}

// hasTimestamps reports whether TCP options carry a timestamps option.
func hasTimestamps(o []byte) bool {
	for len(o) > 0 {
		switch o[0] {
		case header.OptEnd:
			return false
		case header.OptNOP:
			o = o[1:]
			continue
		case header.OptTimestamps:
			return len(o) >= 10 && o[1] == 10
		}
		if len(o) < 2 || o[1] < 2 || int(o[1]) > len(o) {
			return false
		}
		o = o[o[1]:]
	}
	return false
}

func synOptions(t header.TCP) TCPOptions {
	var o header.TCPOptions
	t.ParseOptions(&o)
	return TCPOptions{
		Seen:          true,
		HasMSS:        o.Has&header.HasMSS != 0,
		MSS:           o.MSS,
		HasWScale:     o.Has&header.HasWScale != 0,
		WScale:        o.WScale,
		SACKPermitted: o.Has&header.HasSACKPermitted != 0,
		Timestamps:    o.Has&header.HasTimestamps != 0,
		Malformed:     o.Malformed,
	}
}

// observeUDP is UDPAnalyzer::DeliverPacket.
func (tr *Tracker) observeUDP(p *packet.Packet, st *encapStack) {
	u := p.UDP
	if u == nil {
		return
	}
	c, d := tr.udpConn(p, p.Src, p.SrcPort, p.Dst, p.DstPort, st)
	tr.common(c, d, p, false)
	if !tr.ignoreSums(p.Src) && !p.Truncated() && tr.udpSumBad(c, d, p) {
		c.udpBadChecksum(d)
		tr.stats.SumDropped++
		return
	}
	c.lastTime = p.Time
	c.udpValid(d, int64(u.Length())-header.UDPLen)
	if !c.tunnelViolated && !tr.inDetect {
		tr.detectTeredo(c, p, st)
	}
	c.pkts[d]++
	c.ipBytes[d] += uint64(ipLen(p))
}

// udpSumBad checks a UDP checksum as Zeek does, VXLAN's optional one
// included.
func (tr *Tracker) udpSumBad(c *connState, d flow.Dir, p *packet.Packet) bool {
	u := p.UDP
	pl := p.Payload
	if len(pl) > header.VXLANLen+header.EthernetLen && pl[0]&0x08 != 0 && p.DstPort == header.PortVXLAN && u.Checksum() == 0 {
		c.x.side[d].sums.unverified++
		return false
	}
	return tr.transportSum(c, d, p, u.Checksum()) == packet.ChecksumBad
}

// udpConn finds or makes the UDP connection of a packet.
func (tr *Tracker) udpConn(p *packet.Packet, src netip.Addr, sport uint16, dst netip.Addr, dport uint16, st *encapStack) (*connState, flow.Dir) {
	k, d := flow.New(header.ProtoUDP, src, sport, dst, dport)
	key := connKey{k: k}
	c := tr.lookup(key)
	if c != nil {
		tr.checkEncap(c, st)
		return c, d
	}
	c = tr.newConn(key, ProtoUDP, p, d, st)
	c.ipProto = header.ProtoUDP
	tr.setInactivityTimeout(c, int64(tr.opt.UDPInactivity))
	if tr.wantFlipUDP(sport, dport) && !isBroadcast(dst) {
		c.flipRoles()
	}
	if tr.dnsAttached(k.Dst(c.origDir).Port) {
		tr.schedule(c, tDNS, tr.now+capture.Time(tr.opt.DNSSessionTimeout))
	}
	return c, d
}

// isBroadcast: IPBasedAnalyzer::NewConn never flips a connection to a
// broadcast address.
func isBroadcast(a netip.Addr) bool {
	return a.Is4() && a.As4() == [4]byte{255, 255, 255, 255}
}

// observeICMP is ICMPAnalyzer::DeliverPacket; an ICMP error is also noted
// on the connection whose packet it quotes.
func (tr *Tracker) observeICMP(p *packet.Packet, st *encapStack) {
	ic := p.ICMP
	if ic == nil {
		return
	}
	v6 := p.Proto == header.ProtoICMPv6
	typ, code := ic.Type(), ic.Code()
	var key connKey
	var d flow.Dir
	if cp, pair := ICMPCounterpart(v6, typ); pair {
		key.k, d = flow.New(p.Proto, p.Src, uint16(typ), p.Dst, uint16(cp))
	} else {
		key.k, d = flow.New(p.Proto, p.Src, uint16(typ), p.Dst, uint16(code))
		key.oneWay = 1 + uint8(d)
	}
	c := tr.lookup(key)
	if c == nil {
		c = tr.newConn(key, ProtoICMP, p, d, st)
		tr.setInactivityTimeout(c, int64(tr.opt.ICMPInactivity))
	} else {
		tr.checkEncap(c, st)
	}
	tr.common(c, d, p, false)
	if header.IsError(v6, typ) && p.Quoted.Valid {
		tr.icmpError(p, v6, typ, code)
	}
	if !tr.ignoreSums(p.Src) && tr.transportSum(c, d, p, ic.Checksum()) == packet.ChecksumBad {
		tr.stats.SumDropped++
		return // weird bad_ICMP_checksum, no letter
	}
	c.lastTime = p.Time
	c.addLen(d, int64(p.PayloadLen))
	c.pkts[d]++
	c.ipBytes[d] += uint64(ipLen(p))
}

// icmpError notes an ICMP error on the connection of the packet it quotes.
func (tr *Tracker) icmpError(p *packet.Packet, v6 bool, typ, code uint8) {
	q := &p.Quoted
	if q.Proto != header.ProtoTCP && q.Proto != header.ProtoUDP {
		return
	}
	k, dq := flow.New(q.Proto, q.Src, q.SrcPort, q.Dst, q.DstPort)
	c := tr.lookup(connKey{k: k})
	if c == nil {
		return
	}
	tr.stats.ICMPMatched++
	x := &c.x
	x.icmpCount++
	r := ref(p.Frame, p.Time)
	x.addEvidence(EvICMPError, dq, r)
	if len(x.icmp) >= MaxICMPErrors {
		return
	}
	e := ICMPError{Ref: r, From: p.Src, V6: v6, Type: typ, Code: code, QuotedSeq: q.Seq, HasSeq: q.HasSeq, QuotedTTL: q.TTL}
	switch {
	case !v6 && typ == header.ICMPUnreachable && code == 4:
		e.MTU = p.ICMP.NextHopMTU()
	case v6 && typ == header.ICMPv6TooBig:
		e.MTU = p.ICMP.MTU6()
	}
	if x.icmp == nil {
		x.icmp = make([]icmpErr, 0, MaxICMPErrors)
	}
	x.icmp = append(x.icmp, icmpErr{ICMPError: e, about: dq})
}

// observeOther is UnknownIPTransportAnalyzer: one connection per address
// pair and protocol.
func (tr *Tracker) observeOther(p *packet.Packet, st *encapStack) {
	k, d := flow.New(p.Proto, p.Src, 0, p.Dst, 0)
	key := connKey{k: k}
	c := tr.lookup(key)
	if c == nil {
		c = tr.newConn(key, ProtoUnknown, p, d, st)
		tr.setInactivityTimeout(c, int64(tr.opt.UnknownInactivity))
	} else {
		tr.checkEncap(c, st)
	}
	tr.common(c, d, p, false)
	c.lastTime = p.Time
	c.pkts[d]++
	c.ipBytes[d] += uint64(ipLen(p))
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
