package correlate

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

// Options bound what a Recorder keeps.
type Options struct {
	// MaxPackets caps the packets recorded per capture (0:
	// DefaultMaxPackets). Later packets are counted in Capture.NotRecorded
	// and not correlated.
	MaxPackets int
}

// DefaultMaxPackets is the default cap: about 600 MB of signatures and
// correlation state per capture.
const DefaultMaxPackets = 8 << 20

// Kind is what a packet is, for counting and wording.
type Kind uint8

const (
	KindSYN    Kind = iota // SYN without ACK
	KindSYNACK             // SYN with ACK
	KindData               // TCP segment with payload (no SYN, FIN or RST)
	KindACK                // TCP segment without payload, SYN, FIN or RST
	KindFIN                // FIN, with or without data
	KindRST                // RST
	KindICMP               // ICMP or ICMPv6
	KindUDP                // UDP datagram
	KindOther              // another IP protocol
	NumKinds
)

var kindNames = [...]string{"SYN", "SYN-ACK", "data", "bare ACK", "FIN", "RST", "ICMP", "UDP", "other"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// Bits of sig.bits.
const (
	bitFromB  = 1 << iota // sent by the connection's responder (side B)
	bitDF                 // IPv4 don't fragment
	bitH16                // h16 is valid (the first min(16, len) payload bytes were captured)
	bitH64                // h64 is valid
	bitEncap              // carried in a tunnel or VLAN-tagged at this point
	bitV6                 // IPv6
	bitQuoted             // ICMP error: seq is the quoted segment's
)

// Option bits of sig.opts.
const (
	optMSS = 1 << iota
	optWS
	optSACKOK
	optSACK
	optTS
	optMD5
	optOther
	optMalformed
)

// sig is the compact signature of one IP packet.
type sig struct {
	t        int64  // capture time, ns
	frame    uint32 // frame number
	flow     uint32 // index in Capture.flows
	seq, ack uint32 // TCP; ICMP errors: quoted seq and type<<8|code; echo: seq and type<<8|code
	tsval    uint32
	h16, h64 uint32 // payload hashes
	ipid     uint16
	plen     uint16 // transport payload length on the wire (TCP segment length, UDP payload, ICMP body)
	iplen    uint16
	win      uint16
	mss      uint16
	flags    uint8 // TCP flags
	ttl      uint8
	tos      uint8
	opts     uint8
	wscale   uint8
	pad      uint8 // Ethernet padding bytes (capped at 255)
	bits     uint8
	kind     Kind
}

func (s *sig) fromB() int { return int(s.bits & bitFromB) }

// connRec is one connection (a TCP connection from SYN to close, a UDP or
// ICMP exchange) as one capture saw it. Side A opened it (the SYN's
// sender, else the first packet's sender).
type connRec struct {
	key     flow.Key
	aIsKeyA bool
	proto   uint8
	start   int64
	end     int64
	n       [2]uint32 // packets from A, from B
	isn     [2]uint32
	hasISN  [2]bool
	// first and count index this connection's packets in Capture.order.
	first, count uint32
}

// ends returns the connection's endpoints, A first.
func (c *connRec) ends() (a, b flow.Endpoint) {
	if c.aIsKeyA {
		return c.key.A(), c.key.B()
	}
	return c.key.B(), c.key.A()
}

// Recorder gathers the signatures of one capture's packets during its
// single pass. It keeps no reference to packet buffers.
type Recorder struct {
	opt    Options
	c      *Capture
	byKey  map[flow.Key]uint32
	opts   header.TCPOptions
	seenAt bool
}

// NewRecorder starts recording one capture.
func NewRecorder(opt Options) *Recorder {
	if opt.MaxPackets <= 0 {
		opt.MaxPackets = DefaultMaxPackets
	}
	return &Recorder{opt: opt, c: &Capture{}, byKey: map[flow.Key]uint32{}}
}

// skipAddr reports addresses whose packets never cross a router:
// multicast, broadcast, link-local and unspecified.
func skipAddr(a netip.Addr) bool {
	if a.Is4() {
		b := a.As4()
		if b == [4]byte{255, 255, 255, 255} {
			return true
		}
	}
	return !a.IsValid() || a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast()
}

// Packet records one decoded packet. It may be called with any packet of
// the capture (non-IP frames only extend the capture's time span).
func (r *Recorder) Packet(p *packet.Packet) {
	c := r.c
	t := int64(p.Time)
	if !r.seenAt || t < c.Start {
		c.Start = t
	}
	if !r.seenAt || t > c.End {
		c.End = t
	}
	r.seenAt = true
	c.Frames++
	if p.IPVersion == 0 || p.Frag == packet.FragmentPart || p.Problem != packet.NoProblem && p.Proto == 0 {
		return
	}
	if skipAddr(p.Src) || skipAddr(p.Dst) {
		return
	}
	if len(c.sigs) >= r.opt.MaxPackets || p.Frame > 1<<32-1 {
		c.NotRecorded++
		return
	}
	s := sig{t: t, frame: uint32(p.Frame), ttl: p.TTL, tos: p.TOS, iplen: clamp16(p.IPLen), pad: uint8(min(p.Padding, 255))}
	if p.IPVersion == 4 {
		s.ipid = uint16(p.IPID)
		if p.DF {
			s.bits |= bitDF
		}
	} else {
		s.bits |= bitV6
		s.ipid = uint16(p.IPID ^ p.IPID>>16)
	}
	if p.NumEncap > 0 || p.NumVLAN > 0 {
		s.bits |= bitEncap
	}
	var key flow.Key
	var dir flow.Dir
	switch {
	case p.TCP != nil:
		tc := p.TCP
		s.seq, s.ack, s.flags, s.win = tc.Seq(), tc.Ack(), tc.Flags(), tc.Window()
		if !tc.Has(header.FlagACK) {
			s.ack = 0
		}
		s.plen = clamp16(p.PayloadLen)
		tc.ParseOptions(&r.opts)
		o := &r.opts
		if o.Has&header.HasMSS != 0 {
			s.opts |= optMSS
			s.mss = o.MSS
		}
		if o.Has&header.HasWScale != 0 {
			s.opts |= optWS
			s.wscale = o.WScale
		}
		if o.Has&header.HasSACKPermitted != 0 {
			s.opts |= optSACKOK
		}
		if o.Has&header.HasSACK != 0 {
			s.opts |= optSACK
		}
		if o.Has&header.HasTimestamps != 0 {
			s.opts |= optTS
			s.tsval = o.TSVal
		}
		if o.Has&header.HasMD5 != 0 {
			s.opts |= optMD5
		}
		if o.Has&(header.HasMPTCP|header.HasFastOpen|header.HasOther) != 0 {
			s.opts |= optOther
		}
		if o.Malformed {
			s.opts |= optMalformed
		}
		switch f := s.flags; {
		case f&header.FlagRST != 0:
			s.kind = KindRST
		case f&header.FlagSYN != 0 && f&header.FlagACK != 0:
			s.kind = KindSYNACK
		case f&header.FlagSYN != 0:
			s.kind = KindSYN
		case f&header.FlagFIN != 0:
			s.kind = KindFIN
		case s.plen > 0:
			s.kind = KindData
		default:
			s.kind = KindACK
		}
		key, dir = flow.New(p.Proto, p.Src, p.SrcPort, p.Dst, p.DstPort)
	case p.UDP != nil:
		s.kind = KindUDP
		s.plen = clamp16(p.PayloadLen)
		key, dir = flow.New(p.Proto, p.Src, p.SrcPort, p.Dst, p.DstPort)
	case p.ICMP != nil:
		s.kind = KindICMP
		ic := p.ICMP
		s.plen = clamp16(p.PayloadLen)
		s.ack = uint32(ic.Type())<<8 | uint32(ic.Code())
		v6 := p.Proto == header.ProtoICMPv6
		q := &p.Quoted
		switch {
		case header.IsError(v6, ic.Type()) && q.Valid:
			// An error belongs to the connection of the packet it
			// quotes and travels against it.
			if skipAddr(q.Src) || skipAddr(q.Dst) {
				return
			}
			s.bits |= bitQuoted
			s.seq = q.Seq
			s.tsval = uint32(q.IPID)<<8 | uint32(q.Proto)
			var qd flow.Dir
			key, qd = flow.New(q.Proto, q.Src, q.SrcPort, q.Dst, q.DstPort)
			dir = qd.Reverse()
			// The quote is translated by NAT along with the connection:
			// hash only what does not change (the ICMP header).
			s.plen = clamp16(p.PayloadLen)
			p = nil
		case isEcho(v6, ic.Type()) && len(ic) >= header.ICMPLen:
			id := ic.EchoID()
			s.seq = uint32(ic.EchoSeq())
			key, dir = flow.New(p.Proto, p.Src, id, p.Dst, id)
		default:
			key, dir = flow.New(p.Proto, p.Src, 0, p.Dst, 0)
		}
	default:
		s.kind = KindOther
		s.plen = clamp16(p.IPLen - p.IPHdrLen)
		key, dir = flow.New(p.Proto, p.Src, 0, p.Dst, 0)
	}
	if p != nil {
		s.hashPayload(p.Payload, int(s.plen))
	}
	if len(c.sigs) == cap(c.sigs) {
		// Double (append grows large slices by a quarter, copying more).
		grown := make([]sig, len(c.sigs), max(4096, 2*cap(c.sigs)))
		copy(grown, c.sigs)
		c.sigs = grown
	}
	c.sigs = append(c.sigs, s)
	r.assign(key, dir, &c.sigs[len(c.sigs)-1])
}

func isEcho(v6 bool, t uint8) bool {
	if v6 {
		return t == header.ICMPv6EchoRequest || t == header.ICMPv6EchoReply
	}
	return t == header.ICMPEchoRequest || t == header.ICMPEchoReply
}

func clamp16(n int) uint16 {
	if n < 0 {
		return 0
	}
	if n > 0xffff {
		return 0xffff
	}
	return uint16(n)
}

// hashPayload fills h16 and h64 from what was captured of the payload.
func (s *sig) hashPayload(pl []byte, wire int) {
	if n := min(wire, 16); len(pl) >= n {
		s.h16 = hashBytes(pl[:n])
		s.bits |= bitH16
	}
	if n := min(wire, 64); len(pl) >= n {
		s.h64 = hashBytes(pl[:n])
		s.bits |= bitH64
	}
}

// assign puts s into its connection, starting a new one for a SYN with a
// new initial sequence number on a reused 4-tuple.
func (r *Recorder) assign(key flow.Key, dir flow.Dir, s *sig) {
	c := r.c
	i, ok := r.byKey[key]
	if ok && s.kind == KindSYN {
		cr := &c.conns[i]
		fromA := (dir == flow.AtoB) == cr.aIsKeyA
		if !fromA || cr.hasISN[0] && cr.isn[0] != s.seq || cr.n[1] > 0 && !cr.hasISN[0] {
			ok = false
		}
	}
	if !ok {
		i = uint32(len(c.conns))
		cr := connRec{key: key, proto: key.Proto(), start: s.t, end: s.t, aIsKeyA: dir == flow.AtoB}
		if s.kind == KindSYNACK {
			cr.aIsKeyA = !cr.aIsKeyA
		}
		c.conns = append(c.conns, cr)
		r.byKey[key] = i
	}
	cr := &c.conns[i]
	s.flow = i
	side := 0
	if (dir == flow.AtoB) != cr.aIsKeyA {
		side = 1
		s.bits |= bitFromB
	}
	cr.n[side]++
	cr.start = min(cr.start, s.t)
	cr.end = max(cr.end, s.t)
	if (s.kind == KindSYN || s.kind == KindSYNACK) && !cr.hasISN[side] {
		cr.isn[side], cr.hasISN[side] = s.seq, true
	}
}

// Finish ends the recording and returns the capture's signatures.
func (r *Recorder) Finish() *Capture {
	c := r.c
	r.byKey = nil
	// Index packets by connection (counting sort: stable, linear).
	c.order = make([]uint32, len(c.sigs))
	off := uint32(0)
	for i := range c.conns {
		cr := &c.conns[i]
		cr.first = off
		off += cr.n[0] + cr.n[1]
	}
	fill := make([]uint32, len(c.conns))
	for i := range c.sigs {
		f := c.sigs[i].flow
		cr := &c.conns[f]
		c.order[cr.first+fill[f]] = uint32(i)
		fill[f]++
	}
	for i := range c.conns {
		c.conns[i].count = fill[i]
	}
	return c
}

// Capture is what a Recorder kept of one capture.
type Capture struct {
	// Start and End are the times of the first and last frames.
	Start, End int64
	// Frames counts every frame seen; NotRecorded the IP packets beyond
	// Options.MaxPackets.
	Frames      int64
	NotRecorded int64

	sigs  []sig
	conns []connRec
	order []uint32 // packet indexes grouped by connection, in time order within each
}

// Packets returns the number of packets recorded.
func (c *Capture) Packets() int { return len(c.sigs) }

// connPackets returns the indexes of a connection's packets.
func (c *Capture) connPackets(f uint32) []uint32 {
	cr := &c.conns[f]
	return c.order[cr.first : cr.first+cr.count]
}

// Time returns the capture time of a recorded packet.
func (c *Capture) timeOf(i uint32) capture.Time { return capture.Time(c.sigs[i].t) }

// hashBytes is a small, fast, deterministic 32-bit hash of up to a few
// dozen bytes (8 at a time, multiply-xorshift mixing).
func hashBytes(b []byte) uint32 {
	h := uint64(len(b))*0x9e3779b97f4a7c15 ^ 0x243f6a8885a308d3
	for len(b) >= 8 {
		h = mix(h ^ binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	var tail uint64
	for i, x := range b {
		tail |= uint64(x) << (8 * i)
	}
	h = mix(h ^ tail ^ uint64(len(b))<<59)
	return uint32(h ^ h>>32)
}

// mix is a 64-bit finaliser (from splitmix64).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// key64 combines values into a 64-bit key.
func key64(vs ...uint64) uint64 {
	h := uint64(0x51ed270b27f1e5a3)
	for _, v := range vs {
		h = mix(h ^ v + bits.RotateLeft64(h, 17))
	}
	return h
}
