package conn

import (
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
)

// UDP, ICMP and unknown transports keep per side only whether a valid
// packet was seen and the payload bytes (UDPSessionAdapter::UpdateLength,
// ICMPSessionAdapter), and never reuse a connection: only timers end them.

// dnsPorts are the UDP ports the DNS analyzer attaches to.
var dnsPorts = [...]uint16{53, 137, 5353, 5355}

// wantFlipUDP is UDPAnalyzer::WantConnection: flip when the first packet
// comes from a likely server port to one that is not.
func (tr *Tracker) wantFlipUDP(sport, dport uint16) bool {
	return tr.opt.ServerPorts.Has(UDP, sport) && !tr.opt.ServerPorts.Has(UDP, dport)
}

// dnsAttached says whether Zeek's DNS analyzer (and its 10 s expiry timer)
// attaches to a new UDP connection: by responder port, when the DNS
// scripts are loaded (53/udp registered).
func (tr *Tracker) dnsAttached(respPort uint16) bool {
	if !tr.opt.ServerPorts.Has(UDP, 53) || !tr.opt.ServerPorts.Has(UDP, respPort) {
		return false
	}
	for _, p := range dnsPorts {
		if p == respPort {
			return true
		}
	}
	return false
}

// udpValid is UDPAnalyzer::DeliverPacket after a good checksum: last time,
// D/d once per side, and the side's length.
func (c *connState) udpValid(d flow.Dir, payload int64) {
	if c.isOrig(d) {
		c.checkHistory(1, 'D')
	} else {
		c.checkHistory(2, 'd')
	}
	c.addLen(d, payload)
}

func (c *connState) addLen(d flow.Dir, n int64) {
	if c.udpLen[d] < 0 {
		c.udpLen[d] = n
	} else {
		c.udpLen[d] += n
	}
}

// udpBadChecksum is UDPSessionAdapter::HandleBadChecksum: a scaled C/c.
func (c *connState) udpBadChecksum(d flow.Dir) {
	if c.udpChk[d].event() {
		c.addHistory(c.letter(d, 'C'))
	}
}

func (c *connState) simpleState() State {
	if c.proto != ProtoUDP {
		return OTH
	}
	o, r := c.udpLen[c.origDir] >= 0, c.udpLen[c.origDir.Reverse()] >= 0
	switch {
	case o && r:
		return SF
	case o:
		return S0
	case r:
		return SHR
	}
	return OTH
}

// ICMPCounterpart returns the type that answers an ICMP (v6 false) or
// ICMPv6 request/reply type, and whether there is one. Such types share a
// connection with their answers and the responder "port" is the
// counterpart type; for all others it is the code (ICMP4_counterpart and
// ICMP6_counterpart in Zeek's ICMP analyzer).
func ICMPCounterpart(v6 bool, typ uint8) (uint8, bool) {
	if !v6 {
		switch typ {
		case 8:
			return 0, true
		case 0:
			return 8, true
		case 13:
			return 14, true
		case 14:
			return 13, true
		case 15:
			return 16, true
		case 16:
			return 15, true
		case 10:
			return 9, true
		case 9:
			return 10, true
		case 17:
			return 18, true
		case 18:
			return 17, true
		}
		return 0, false
	}
	switch typ {
	case header.ICMPv6EchoRequest:
		return header.ICMPv6EchoReply, true
	case header.ICMPv6EchoReply:
		return header.ICMPv6EchoRequest, true
	case 133:
		return 134, true
	case 134:
		return 133, true
	case 135:
		return 136, true
	case 136:
		return 135, true
	case 130:
		return 131, true
	case 131:
		return 130, true
	case 139:
		return 140, true
	case 140:
		return 139, true
	case 144:
		return 145, true
	case 145:
		return 144, true
	}
	return 0, false
}
