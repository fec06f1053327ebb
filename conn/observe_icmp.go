package conn

import (
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

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
