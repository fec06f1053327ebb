package conn

import (
	"net/netip"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

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
