package conn

import (
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

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
