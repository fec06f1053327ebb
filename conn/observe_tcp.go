package conn

import (
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
		if !c.annotated {
			c.stream = int32(a.Stream)
		}
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
