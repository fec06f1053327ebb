package conn

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Tracker follows the connections of one capture (or of several merged in
// time order). Feed it every decoded packet in capture order with Observe,
// then call Finish. Each connection's
// Record goes to the callback once final: closed and lingered, timed out,
// replaced by a new connection on the same 4-tuple, or at the end of the
// capture. State is held for live connections only.
//
// A Tracker is not safe for concurrent use. The callback must not call
// back into the Tracker.
type Tracker struct {
	opt         Options
	emit        func(*Record)
	table       map[connKey]*connState
	free        []*connState
	timers      timerHeap
	now         capture.Time
	terminating bool
	nextID      uint64
	stats       Stats

	// Teredo found by content on other ports is decoded here.
	innerDec   *packet.Decoder
	inner      packet.Packet
	innerFrame capture.Frame
	inDetect   bool
}

// Stats counts what a Tracker did.
type Stats struct {
	Packets     int64 // packets observed
	Records     int64 // records emitted
	Live        int   // connections live now
	PeakLive    int   // most connections live at once
	IPDropped   int64 // packets dropped for a bad IPv4 header (checksum, TSO length) as Zeek drops them
	SumDropped  int64 // packets dropped for a bad transport checksum
	ICMPMatched int64 // ICMP errors matched to a live connection
}

// New returns a Tracker with options opt that hands each finished record
// to emit.
func New(opt Options, emit func(*Record)) *Tracker {
	if opt.ServerPorts == nil {
		opt.ServerPorts = BarePorts()
	}
	return &Tracker{opt: opt, emit: emit, table: make(map[connKey]*connState), innerDec: packet.NewDecoder()}
}

// Stats returns the counters so far.
func (tr *Tracker) Stats() Stats {
	s := tr.stats
	s.Live = len(tr.table)
	return s
}

// Now is the tracker's network time: the latest packet time seen.
func (tr *Tracker) Now() capture.Time { return tr.now }

// encapStack is the tunnel stack of a packet, outermost first: an identity
// per hop (Connection::CheckEncapsulation compares them) and the UID source
// of the innermost hop, which becomes a tunnel parent (set_conn adds the
// last EncapsulatingConn's uid): a UDP tunnel's connection, or for IP-in-IP
// and GRE the tunnel itself, whose UID Zeek logs in tunnel.log only.
type encapStack struct {
	ids  [packet.MaxEncap]uint64
	n    int8
	last uint64 // 0: not tunnelled
}

func (s *encapStack) push(id uint64, udpConn bool) {
	if int(s.n) < len(s.ids) {
		s.ids[s.n] = id
		s.n++
	}
	if udpConn {
		s.last = id >> 3
	} else {
		s.last = id
	}
}

// Observe processes one decoded packet and its TCP annotation (nil when
// there is none). p's views are used only during the call.
func (tr *Tracker) Observe(p *packet.Packet, a *tcp.Annotation) {
	tr.stats.Packets++
	// Every packet moves network time on and fires the timers due
	// (run_state::detail::dispatch_packet), IP or not.
	tr.advance(p.Time)
	if p.IPVersion == 0 && p.NumEncap == 0 {
		return
	}
	var st encapStack
	var outer [packet.MaxEncap]pendingCount
	n := tr.outerLayers(p, &st, &outer)
	if n >= 0 {
		tr.observeIP(p, a, &st)
	} else {
		n = -n - 1
	}
	// The outer packets count after the inner one, as in Zeek.
	for i := n - 1; i >= 0; i-- {
		o := &outer[i]
		o.c.pkts[o.d]++
		o.c.ipBytes[o.d] += uint64(o.ipLen)
	}
}

type pendingCount struct {
	c     *connState
	d     flow.Dir
	ipLen int
}

// outerLayers checks each tunnel layer as Zeek's IP analyzer would and runs
// the outer UDP connection of UDP tunnels. It returns how many outer
// packets to count after the inner one, or -(that+1) when the inner packet
// is not to be processed.
func (tr *Tracker) outerLayers(p *packet.Packet, st *encapStack, outer *[packet.MaxEncap]pendingCount) int {
	n := 0
	for i := 0; i < p.NumEncap; i++ {
		e := &p.Encap[i]
		if !p.Truncated() && len(e.IP) < headerTotal(e.IPVersion, e.IP) || !tr.ipOK(e.IPVersion, e.IP, e.IPHdrLen, e.Src) {
			return -n - 1
		}
		kind := tunnelKind(e.Kind)
		if e.UDP == nil {
			st.push(ipTunnelID(e), false)
			continue
		}
		c, d, decap := tr.outerUDP(p, e, st, kind)
		if c == nil {
			return -n - 1
		}
		outer[n] = pendingCount{c, d, e.DatagramLen}
		n++
		if !decap {
			return -n - 1
		}
		st.push(c.id<<3|uint64(kind), true)
	}
	return n
}

// ipOK is the IPv4 header check of Zeek's IPAnalyzer: a bad header checksum
// or a zero total length (TSO) drops the packet unless checksums are
// ignored.
func (tr *Tracker) ipOK(version uint8, ip []byte, hl int, src netip.Addr) bool {
	if version != 4 || tr.ignoreSums(src) {
		return true
	}
	if len(ip) >= 4 && ip[2] == 0 && ip[3] == 0 || !ipv4SumOK(ip, hl) {
		tr.stats.IPDropped++
		return false
	}
	return true
}

// headerTotal is the total length an IP header states (for a fragment,
// the fragment's).
func headerTotal(version uint8, ip []byte) int {
	switch {
	case version == 4 && len(ip) >= header.IPv4MinLen:
		return header.IPv4(ip).TotalLen()
	case version == 6 && len(ip) >= header.IPv6Len:
		return header.IPv6Len + header.IPv6(ip).PayloadLen()
	}
	return 0
}

func ipv4SumOK(ip []byte, hl int) bool {
	return hl < header.IPv4MinLen || hl > len(ip) || header.Checksum(ip[:hl], 0) == 0
}

func (tr *Tracker) ignoreSums(src netip.Addr) bool {
	return tr.opt.IgnoreChecksums || len(tr.opt.IgnoreChecksumNets) > 0 && inPrefixes(src, tr.opt.IgnoreChecksumNets)
}

// observeIP processes the innermost IP packet of p.
func (tr *Tracker) observeIP(p *packet.Packet, a *tcp.Annotation, st *encapStack) {
	if p.IPVersion == 0 {
		return
	}
	switch p.Problem {
	case packet.TruncatedIP, packet.MalformedIP, packet.TooDeep:
		return
	}
	if !p.Truncated() && len(p.IP) < p.IPLen {
		return // truncated_IP_len: the IP length claims more than the frame holds
	}
	if !tr.ipOK(p.IPVersion, p.IP, p.IPHdrLen, p.Src) {
		tr.noteIPDropped(p)
		return
	}
	if p.Frag == packet.FragmentPart {
		return // nothing happens until the datagram is complete
	}
	switch p.Proto {
	case 6:
		tr.observeTCP(p, a, st)
	case 17:
		tr.observeUDP(p, st)
	case 1, 58:
		tr.observeICMP(p, st)
	case 2, 4, 41, 47, 59:
		// IGMP has its own packet analyzer in Zeek, not a connection;
		// then tunnels the decoder did not enter, and IPv6 "no next
		// header".
	default:
		tr.observeOther(p, st)
	}
}

// lookup finds the connection of key.
func (tr *Tracker) lookup(k connKey) *connState { return tr.table[k] }

// newConn makes a connection for key whose first packet p travels in d.
func (tr *Tracker) newConn(k connKey, proto Proto, p *packet.Packet, d flow.Dir, st *encapStack) *connState {
	var c *connState
	if n := len(tr.free); n > 0 {
		c = tr.free[n-1]
		tr.free[n-1] = nil
		tr.free = tr.free[:n-1]
	} else {
		c = new(connState)
	}
	c.reset()
	if c.history == nil {
		c.history = make([]byte, 0, 16)
	}
	tr.nextID++
	c.key, c.id, c.inTable = k, tr.nextID, true
	c.proto, c.ipProto, c.origDir = proto, p.Proto, d
	c.start, c.lastTime = p.Time, p.Time
	c.firstFrame = p.Frame
	c.encap, c.nEncap = st.ids, st.n
	if st.last != 0 {
		c.addParent(st.last)
	}
	tr.table[k] = c
	if len(tr.table) > tr.stats.PeakLive {
		tr.stats.PeakLive = len(tr.table)
	}
	return c
}

// reset readies a recycled connState, keeping its buffers.
func (c *connState) reset() {
	gen := c.gen + 1
	hist := c.history[:0]
	b0, b1 := c.tcp.ep[0].r.blocks[:0], c.tcp.ep[1].r.blocks[:0]
	x := c.x
	x.reset()
	*c = connState{gen: gen, history: hist, x: x}
	c.tcp.ep[0].r.blocks, c.tcp.ep[1].r.blocks = b0, b1
	c.udpLen = [2]int64{-1, -1}
}

func (c *connState) addParent(id uint64) {
	for _, p := range c.parents[:c.nParents] {
		if p == id {
			return
		}
	}
	if int(c.nParents) < len(c.parents) {
		c.parents[c.nParents] = id
		c.nParents++
	}
}

// checkEncap is Connection::CheckEncapsulation: more than
// TunnelMaxChanges changes of the tunnel stack add X.
func (tr *Tracker) checkEncap(c *connState, st *encapStack) {
	if c.nEncap == st.n && c.encap == st.ids {
		return
	}
	if tr.opt.TunnelMaxChanges > 0 && int(c.tunnelChanges) >= tr.opt.TunnelMaxChanges {
		c.checkHistory(histLimit, 'X')
	} else {
		c.tunnelChanges++
		if st.last != 0 {
			c.addParent(st.last) // tunnel_changed
		}
	}
	c.encap, c.nEncap = st.ids, st.n
}

// remove finalises c and hands its record over (Session::Manager::Remove).
func (tr *Tracker) remove(c *connState, why End) {
	if !c.inTable {
		return
	}
	tr.cancelInactivityTimer(c)
	tr.timers.live -= int(c.analyzerTimers)
	c.analyzerTimers = 0
	c.inTable = false
	c.endReason, c.endTime = why, tr.now
	if tr.table[c.key] == c {
		delete(tr.table, c.key)
	}
	tr.stats.Records++
	if tr.emit != nil {
		tr.emit(tr.record(c))
	}
	tr.free = append(tr.free, c)
}

// Finish ends the capture: timers that run at termination fire, then every
// live connection is finalised, in order of first packet.
func (tr *Tracker) Finish() {
	tr.expireAll()
	live := make([]*connState, 0, len(tr.table))
	for _, c := range tr.table {
		live = append(live, c)
	}
	slices.SortFunc(live, func(a, b *connState) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	for _, c := range live {
		tr.remove(c, EndCapture)
	}
	tr.terminating = false
}

// NewDecoder returns a packet decoder set to decode as Zeek does where
// Zeek and tshark differ (a FabricPath frame's FCS by the IP length), for
// feeding a Tracker.
func NewDecoder() *packet.Decoder {
	d := packet.NewDecoder()
	d.FabricPathFCSByLength = true
	return d
}
