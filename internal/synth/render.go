package synth

import (
	"slices"
	"time"
)

// Vantage is a capture point on a Conn's path and how it records frames.
type Vantage struct {
	At      float64  // position: 0 at the client, 1 at the server
	Link    LinkType // 0 or LinkEthernet, LinkLinuxSLL, LinkLinuxSLL2, LinkRaw or LinkLoop
	VLANs   []uint16 // 802.1Q tags on Ethernet frames (two or more: QinQ, outer first)
	Pad     bool     // pad Ethernet frames that arrived from the wire to 60 bytes
	Offload bool     // frames sent from this point carry offload checksums
	// Clock is added to every timestamp: this capture's clock offset.
	Clock time.Duration
	// Drift is the clock's rate error (1e-5: 10 ppm fast), relative to the
	// connection's start.
	Drift float64
	// Edit, when set, gets the last say over each packet as seen here:
	// NAT, sequence-number shifts, stripped options. Replace slices such as
	// Options rather than changing them in place: they are shared.
	Edit func(p *Packet)
}

// LinkType is the link type of v's frames, for the writers.
func (v *Vantage) LinkType() LinkType {
	if v.Link == LinkNull {
		return LinkEthernet
	}
	return v.Link
}

// sees reports whether the packet passes v's point and when.
func (c *Conn) sees(v *Vantage, p *Packet) (bool, time.Time, uint8) {
	s := p.start()
	dist := v.At - s
	dir := 1.0 // direction of travel along the path
	if p.From == Server {
		dist, dir = -dist, -1
	}
	if dist < 0 {
		return false, time.Time{}, 0
	}
	t := p.Sent.Add(time.Duration(dist * float64(c.owd)))
	f := p.Fate
	passed := dir*(f.At-s) >= 0 && dir*(v.At-f.At) > 0 // v lies beyond the fault point
	if f.Lost && passed {
		return false, t, 0
	}
	if f.Delay > 0 && !f.Duplicate && passed {
		t = t.Add(f.Delay)
	}
	// Routers sit at k/(Hops+1); count those strictly between s and v.
	ttl := p.TTL
	for k := 1; k <= c.cfg.Hops; k++ {
		r := float64(k) / float64(c.cfg.Hops+1)
		if dir*(r-s) > 0 && dir*(v.At-r) > 0 && ttl > 0 {
			ttl--
		}
	}
	return true, v.clock(c.cfg.Start, t), ttl
}

func (v *Vantage) clock(start, t time.Time) time.Time {
	t = t.Add(v.Clock)
	if v.Drift != 0 {
		t = t.Add(time.Duration(v.Drift * float64(t.Sub(start))))
	}
	return t
}

// Capture renders every packet logged so far as v records it, in time
// order. Frames own their data.
func (c *Conn) Capture(v Vantage) []Frame {
	var out []Frame
	for i := range c.log {
		out = c.render(&v, &c.log[i], out, false)
	}
	sortFrames(out)
	return out
}

// Take renders and forgets the logged packets that v has seen by Now, in
// time order, for streaming long runs: nothing sent later can be seen
// earlier. The frames' data is valid until the next Take.
func (c *Conn) Take(v Vantage) []Frame {
	c.arena = c.arena[:0]
	var out []Frame
	keep := c.log[:0]
	for i := range c.log {
		p := &c.log[i]
		ok, t, _ := c.sees(&v, p)
		if ok && t.After(v.clock(c.cfg.Start, c.now)) {
			keep = append(keep, *p)
			continue
		}
		if ok {
			out = c.render(&v, p, out, true)
		}
	}
	clear(c.log[len(keep):])
	c.log = keep
	// Frames point into the arena, which may have moved while growing.
	off := 0
	for i := range out {
		n := len(out[i].Data)
		out[i].Data = c.arena[off : off+n]
		off += n
	}
	sortFrames(out)
	return out
}

func sortFrames(f []Frame) {
	slices.SortStableFunc(f, func(a, b Frame) int { return a.Time.Compare(b.Time) })
}

// render appends the frame(s) v records for p.
func (c *Conn) render(v *Vantage, p *Packet, out []Frame, arena bool) []Frame {
	ok, t, ttl := c.sees(v, p)
	if !ok {
		return out
	}
	q := *p
	q.TTL = ttl
	if v.Edit != nil {
		v.Edit(&q)
	}
	local := q.start() == v.At // sent from this very point
	flags := uint32(Inbound)
	if local {
		flags = Outbound
	}
	out = append(out, Frame{Time: t, Data: c.encode(v, &q, local, arena), Flags: flags})
	if q.Fate.Duplicate {
		s := q.start()
		dir := 1.0
		if q.From == Server {
			dir = -1
		}
		if dir*(q.Fate.At-s) >= 0 && dir*(v.At-q.Fate.At) > 0 {
			d := q.Fate.Delay
			if d == 0 {
				d = 50 * time.Microsecond
			}
			out = append(out, Frame{Time: t.Add(d), Data: c.encode(v, &q, local, arena), Flags: flags})
		}
	}
	return out
}

func (c *Conn) encode(v *Vantage, p *Packet, local, arena bool) []byte {
	var buf [8]Layer
	ls := buf[:0]
	switch v.LinkType() {
	case LinkEthernet:
		ls = append(ls, &Ethernet{Src: p.SrcMAC, Dst: p.DstMAC, Pad: v.Pad && !local})
		for i, id := range v.VLANs {
			tpid := uint16(EtherTypeDot1Q)
			if i < len(v.VLANs)-1 {
				tpid = EtherTypeQinQ
			}
			ls = append(ls, &Dot1Q{TPID: tpid, VID: id})
		}
	case LinkLinuxSLL:
		pt := uint16(SLLHost)
		if local {
			pt = SLLOutgoing
		}
		ls = append(ls, &SLL{PacketType: pt, Addr: p.SrcMAC})
	case LinkLinuxSLL2:
		pt := uint8(SLLHost)
		if local {
			pt = SLLOutgoing
		}
		ls = append(ls, &SLL2{PacketType: pt, IfIndex: 2, Addr: p.SrcMAC})
	case LinkLoop:
		ls = append(ls, &Null{BigEndian: true})
	}
	if p.Custom != nil {
		ls = append(ls, p.Custom...)
	} else {
		if p.Src.Addr().Is4() {
			ls = append(ls, &IPv4{Src: p.Src.Addr(), Dst: p.Dst.Addr(), ID: p.ID, DF: p.DF, TTL: p.TTL})
		} else {
			ls = append(ls, &IPv6{Src: p.Src.Addr(), Dst: p.Dst.Addr(), HopLimit: p.TTL})
		}
		sum := p.Checksum
		if v.Offload && local {
			sum = OffloadChecksum
		}
		ls = append(ls, &TCP{SrcPort: p.Src.Port(), DstPort: p.Dst.Port(), Seq: p.Seq, Ack: p.Ack, Flags: p.Flags,
			Window: p.Window, Options: p.Options, Checksum: sum})
		if len(p.Payload) > 0 {
			ls = append(ls, Payload(p.Payload))
		}
	}
	if arena {
		n := len(c.arena)
		c.arena = Encode(c.arena, ls...)
		return c.arena[n:]
	}
	return Encode(nil, ls...)
}
