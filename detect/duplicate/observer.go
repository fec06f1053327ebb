package duplicate

import (
	"encoding/binary"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// Bounds of the observation: the window of recent packets a repeat is
// looked for in, and what the result keeps.
const (
	ringSize  = 8192 // recent packets remembered
	tableSize = 2 * ringSize
	// Window is the longest time between two copies that still counts as
	// a repeat. Copies forwarded by two devices or mirrored by a switch
	// arrive within microseconds to milliseconds of each other; a TCP
	// retransmission comes at least a retransmission timeout (200 ms on
	// Linux) later and is a new IP packet anyway.
	Window     = 500 * time.Millisecond
	MaxGroups  = 64 // kinds of repeat told apart per capture
	MaxFlows   = detect.MaxConnections
	MaxSamples = 3 // pairs of frames kept per group
	sigBytes   = 64
)

// Kind is what differs between two copies of one IP packet.
type Kind uint8

const (
	// Forwarded: the copies come from different link-layer sources (or,
	// with the same source, different TTLs) and go to the same
	// destination: two devices forward the same traffic. The fault.
	Forwarded Kind = iota + 1
	// Fanout: one device sends the same packet to two next hops (iptables
	// TEE, a traffic mirror): where duplication starts.
	Fanout
	// Traversal: the packet seen before and after one hop — the second
	// copy leaves the device the first was addressed to, or the capture
	// host itself sent it on, or it was captured on two interfaces or
	// VLANs. Routing seen from both sides, not a fault.
	Traversal
	// Identical: the same frame twice (same MACs, TTL, interface): a SPAN
	// session mirroring both directions of a port, or a capture on several
	// bridge ports. An artefact of the capture.
	Identical
	// Unclassified: the copies differ in a way that fits none of the above
	// (no link-layer addresses to compare, the same link addresses with
	// another TTL).
	Unclassified
)

func (k Kind) String() string {
	return [...]string{"", "forwarded", "fanout", "traversal", "identical", "unclassified"}[k]
}

// Copy describes one copy of a packet.
type Copy struct {
	conn.Ref
	Src, Dst  [6]byte // link-layer source and destination
	HasMAC    bool
	TTL       uint8
	Interface int
	VLAN      uint16
	Outbound  bool // the capture marks it as sent by the capturing host
}

// Flow is one direction of a flow whose packets were repeated.
type Flow struct {
	Proto    uint8
	Src, Dst flow.Endpoint
	Repeats  int64 // packets repeated
}

// Group gathers the repeats of one kind between the same link-layer
// addresses.
type Group struct {
	Kind Kind
	// First and Second are the first repeat's earlier and later copy;
	// the group's key is their link-layer addresses (and, without link
	// addresses, the TTL difference).
	First, Second Copy
	// Repeats counts packets seen again (a packet seen three times
	// counts twice).
	Repeats int64
	// Triples counts packets seen more than twice.
	Triples int64
	// TTLPairs are the distinct (earlier, later) TTL pairs, at most 4.
	TTLPairs [][2]uint8
	// MinGap and MaxGap bound the time between the copies; SumGap sums it.
	MinGap, MaxGap, SumGap time.Duration
	// Flows are the flow directions repeated (at most MaxFlows);
	// MoreFlows counts the others.
	Flows     []Flow
	MoreFlows int64
	// Samples are pairs of frames (earlier, later), the first few.
	Samples [][2]conn.Ref
}

// MeanGap is the average time between copies.
func (g *Group) MeanGap() time.Duration {
	if g.Repeats == 0 {
		return 0
	}
	return g.SumGap / time.Duration(g.Repeats)
}

// HasFlow reports whether the group repeated packets between the two
// endpoints (either way).
func (g *Group) HasFlow(a, b flow.Endpoint) bool {
	for _, f := range g.Flows {
		if f.Src == a && f.Dst == b || f.Src == b && f.Dst == a {
			return true
		}
	}
	return false
}

// Result is what Copies found in one capture.
type Result struct {
	// Packets counts the TCP and UDP packets considered; Repeats those
	// that repeated an earlier one within Window.
	Packets, Repeats int64
	Groups           []*Group
	// Ungrouped counts repeats not kept because MaxGroups was reached.
	Ungrouped int64
}

// Copies is the observer: it finds IP packets seen more than once.
var Copies = &detect.Observer{
	Name: "duplicate.copies",
	Doc:  "the same IP packet seen more than once within " + Window.String() + ", classified by what differs between the copies",
	New:  func() detect.Observation { return newObservation() },
}

// entry is a recent packet.
type entry struct {
	sig    uint64
	copy   Copy
	copies uint8
}

// slot of the open-addressing index from signature to ring position; pos
// is the insertion number plus one (0: empty).
type slot struct {
	sig uint64
	pos uint64
}

type observation struct {
	ring  [ringSize]entry
	table [tableSize]slot
	n     uint64 // insertions so far
	res   Result
}

func newObservation() *observation { return &observation{} }

// Packet looks for p among the recent packets.
func (o *observation) Packet(pp *pipeline.Packet) {
	p := pp.Packet
	if p.TCP == nil && p.UDP == nil || p.Frag == packet.FragmentPart || len(p.IP) < p.IPHdrLen {
		return
	}
	if p.TCP != nil && pp.TCP != nil && pp.TCP.Quoted {
		return
	}
	o.res.Packets++
	sig := signature(p)
	c := Copy{Ref: conn.Ref{Frame: p.Frame, Time: p.Time}, HasMAC: p.Layers.Has(packet.LayerEthernet), TTL: p.TTL,
		Interface: p.Interface, Outbound: p.Direction == capture.DirOutbound}
	if c.HasMAC {
		c.Src, c.Dst = p.SrcMAC, p.DstMAC
	}
	if p.NumVLAN > 0 {
		c.VLAN = p.VLANs[p.NumVLAN-1]
	}
	if i, ok := o.lookup(sig); ok {
		e := &o.ring[(o.table[i].pos-1)&(ringSize-1)]
		if gap := p.Time.Sub(e.copy.Time); gap >= 0 && gap <= Window {
			o.res.Repeats++
			e.copies++
			o.repeat(e, &c, p, gap)
			return
		}
		o.remove(i)
	}
	o.insert(sig, c)
}

// signature hashes what two forwarded copies of one IP packet share: the
// IP header without TTL (hop limit), header checksum and traffic class, and
// the first bytes after it (the transport header with its checksum, which
// covers the payload).
func signature(p *packet.Packet) uint64 {
	ip := p.IP
	h := uint64(0x9e3779b97f4a7c15) ^ uint64(len(ip))
	if p.IPVersion == 4 && len(ip) >= 20 {
		h = mix(h, uint64(ip[0])<<56|uint64(binary.BigEndian.Uint16(ip[2:]))<<32|uint64(binary.BigEndian.Uint32(ip[4:])))
		h = mix(h, uint64(ip[9]))
		h = mix(h, uint64(binary.BigEndian.Uint64(ip[12:])))
	} else if p.IPVersion == 6 && len(ip) >= 40 {
		h = mix(h, uint64(binary.BigEndian.Uint32(ip[0:])&0xf00fffff)<<32|uint64(binary.BigEndian.Uint16(ip[4:]))<<8|uint64(ip[6]))
		for i := 8; i < 40; i += 8 {
			h = mix(h, binary.BigEndian.Uint64(ip[i:]))
		}
		h = mix(h, uint64(p.IPID))
	} else {
		h = mix(h, uint64(p.IPVersion))
	}
	rest := ip[p.IPHdrLen:]
	if len(rest) > sigBytes {
		rest = rest[:sigBytes]
	}
	for len(rest) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64(rest))
		rest = rest[8:]
	}
	var tail uint64
	for i, b := range rest {
		tail |= uint64(b) << (8 * i)
	}
	return mix(h, tail^uint64(len(rest))<<56)
}

func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	return h ^ h>>29
}

func (o *observation) lookup(sig uint64) (int, bool) {
	for i := int(sig & (tableSize - 1)); ; i = (i + 1) & (tableSize - 1) {
		s := &o.table[i]
		if s.pos == 0 {
			return i, false
		}
		if s.sig == sig {
			return i, true
		}
	}
}

// remove deletes table slot i, shifting later entries of its probe run
// back (linear probing without tombstones).
func (o *observation) remove(i int) {
	for {
		o.table[i] = slot{}
		j := i
		for {
			j = (j + 1) & (tableSize - 1)
			s := o.table[j]
			if s.pos == 0 {
				return
			}
			home := int(s.sig & (tableSize - 1))
			// s may move to i if its home is not in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				o.table[i] = s
				i = j
				break
			}
		}
	}
}

// insert adds a packet, evicting the oldest when the ring is full.
func (o *observation) insert(sig uint64, c Copy) {
	pos := o.n & (ringSize - 1)
	if o.n >= ringSize {
		old := &o.ring[pos]
		if i, ok := o.lookup(old.sig); ok && o.table[i].pos == o.n-ringSize+1 {
			o.remove(i)
		}
	}
	o.ring[pos] = entry{sig: sig, copy: c}
	o.n++
	i, _ := o.lookup(sig)
	o.table[i] = slot{sig: sig, pos: o.n}
}

// classify says what differs between an earlier copy a and a later one b.
func classify(a, b *Copy) Kind {
	srcEq, dstEq := a.Src == b.Src, a.Dst == b.Dst
	sameLink := a.Interface == b.Interface && a.VLAN == b.VLAN
	switch {
	case srcEq && dstEq && a.TTL == b.TTL && a.Outbound == b.Outbound:
		return Identical // also across interfaces: two taps of one segment
	case !sameLink || a.Outbound || b.Outbound:
		return Traversal
	case !a.HasMAC || !b.HasMAC:
		return Unclassified
	case b.Src == a.Dst:
		return Traversal
	case dstEq && !srcEq:
		return Forwarded
	case srcEq && !dstEq && a.TTL == b.TTL:
		return Fanout
	}
	return Unclassified
}

func (o *observation) repeat(e *entry, c *Copy, p *packet.Packet, gap time.Duration) {
	k := classify(&e.copy, c)
	g := o.group(k, &e.copy, c)
	if g == nil {
		o.res.Ungrouped++
		return
	}
	g.Repeats++
	if e.copies == 2 {
		g.Triples++
	}
	g.SumGap += gap
	if g.Repeats == 1 || gap < g.MinGap {
		g.MinGap = gap
	}
	g.MaxGap = max(g.MaxGap, gap)
	pair := [2]uint8{e.copy.TTL, c.TTL}
	if len(g.TTLPairs) < 4 && !containsPair(g.TTLPairs, pair) {
		g.TTLPairs = append(g.TTLPairs, pair)
	}
	if len(g.Samples) < MaxSamples {
		g.Samples = append(g.Samples, [2]conn.Ref{e.copy.Ref, c.Ref})
	}
	src := flow.Endpoint{Addr: p.Src, Port: p.SrcPort}
	dst := flow.Endpoint{Addr: p.Dst, Port: p.DstPort}
	for i := range g.Flows {
		if f := &g.Flows[i]; f.Proto == p.Proto && f.Src == src && f.Dst == dst {
			f.Repeats++
			return
		}
	}
	if len(g.Flows) < MaxFlows {
		g.Flows = append(g.Flows, Flow{Proto: p.Proto, Src: src, Dst: dst, Repeats: 1})
	} else {
		g.MoreFlows++
	}
}

func containsPair(ps [][2]uint8, p [2]uint8) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// group finds or makes the group of a repeat: same kind, same link-layer
// addresses on both copies, or without them the same TTL difference.
func (o *observation) group(k Kind, a, b *Copy) *Group {
	for _, g := range o.res.Groups {
		if g.Kind != k || g.First.HasMAC != a.HasMAC {
			continue
		}
		if a.HasMAC && g.First.Src == a.Src && g.First.Dst == a.Dst && g.Second.Src == b.Src && g.Second.Dst == b.Dst {
			return g
		}
		if !a.HasMAC && int(g.First.TTL)-int(g.Second.TTL) == int(a.TTL)-int(b.TTL) {
			return g
		}
	}
	if len(o.res.Groups) >= MaxGroups {
		return nil
	}
	g := &Group{Kind: k, First: *a, Second: *b}
	o.res.Groups = append(o.res.Groups, g)
	return g
}

// Finish returns the *Result.
func (o *observation) Finish() any {
	r := o.res
	return &r
}
