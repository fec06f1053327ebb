package synth

import (
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Side is one end of a connection.
type Side uint8

// Sides. The zero Side means "either" in a Match.
const (
	Client Side = 1
	Server Side = 2
)

// Other returns the opposite side.
func (s Side) Other() Side { return 3 - s }

func (s Side) String() string {
	switch s {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return "either"
}

func (s Side) pos() float64 {
	if s == Server {
		return 1
	}
	return 0
}

// IDMode is how an endpoint numbers its IPv4 packets.
type IDMode uint8

// IP ID modes.
const (
	IDCounter IDMode = iota // IDStart, +1 per packet
	IDLinux                 // a counter, but 0 on SYN-ACKs and RSTs as Linux sends them
	IDZero                  // always 0
	IDRandom                // random per packet
)

// Endpoint configures one side of a Conn. The zero value (with an address)
// behaves like a Linux host: MSS 1460, SACK, timestamps, window scale 7,
// DF set, TTL 64.
type Endpoint struct {
	Addr         netip.AddrPort
	MAC          MAC
	ISN          uint32 // 0: random from the seed
	MSS          uint16 // 0: 1460 (IPv4) or 1440 (IPv6)
	WScale       uint8  // 0: 7
	NoWScale     bool
	NoSACK       bool
	NoTimestamps bool
	TSStart      uint32 // first TSval; 0: random from the seed
	Window       int    // receive window in bytes; 0: 64256
	TTL          uint8  // 0: 64
	NoDF         bool
	IDMode       IDMode
	IDStart      uint16
	// Refuse makes a server answer SYNs with RST/ACK (nothing listening).
	Refuse bool
}

// Config describes a connection and its path.
type Config struct {
	Client, Server Endpoint
	Start          time.Time
	RTT            time.Duration // round trip between the endpoints; 0: 1 ms
	Rate           int64         // bytes per second each sender can put on the wire; 0: 125e6 (1 Gbit/s)
	DelayedAck     time.Duration // 0: 40 ms
	MinRTO         time.Duration // 0: 200 ms; the RTO is MinRTO+RTT, doubled per retry
	SYNRTO         time.Duration // 0: 1 s
	Retries        int           // retransmissions of one segment before the sender gives up; 0: 6
	Hops           int           // routers on the path, spread evenly: TTLs drop by one at each
	Seed           uint64
}

// Match selects packets for a Fault. Zero fields match anything.
type Match struct {
	From    Side
	Flags   uint8 // all of these set
	NoFlags uint8 // none of these set
	Data    int   // 1: with payload; -1: without
	Nth     int   // only the nth packet matching the rest (1-based; retransmissions count)
}

// Fate is what the path does to a packet.
type Fate struct {
	Lost      bool          // dropped at At
	Delay     time.Duration // extra delay after At (reordering)
	Duplicate bool          // a copy appears at At and arrives Delay (or 50 µs) after the original
	At        float64       // where, as a position: 0 client, 1 server; 0 means 0.5
	Checksum  Checksum      // the TCP checksum as sent; the receiver discards a BadChecksum packet
}

type fault struct {
	m    Match
	f    Fate
	seen int
}

// Packet is one packet a Conn sent (or a test injected), before a vantage
// point renders it into a frame.
type Packet struct {
	From           Side // the direction: sent by From towards From.Other()
	Sent           time.Time
	Src, Dst       netip.AddrPort
	SrcMAC, DstMAC MAC
	ID             uint16
	TTL            uint8 // as sent; vantage points see it decremented per router passed
	DF             bool
	Seq, Ack       uint32
	Flags          uint8
	Window         uint16
	Options        []TCPOption
	Payload        []byte
	Checksum       Checksum
	// Custom, when set, replaces the IP and TCP headers above: the network
	// layer and what follows (an ICMP error from a router, say).
	Custom []Layer
	// Origin is where a custom or injected packet starts (0.5: a router in
	// the middle); 0 and 1 mean the sending endpoint.
	Origin         float64
	Retransmission bool
	Fate           Fate
}

func (p *Packet) start() float64 {
	if p.Origin > 0 && p.Origin < 1 {
		return p.Origin
	}
	return p.From.pos()
}

// Conn simulates one TCP connection, operation by operation, and logs the
// packets both endpoints send. Each operation advances the clock until its
// goal is reached (or the sender gives up); what is still in flight carries
// on during the next one. Render the log with Capture or Take.
type Conn struct {
	cfg    Config
	rng    *rand.Rand
	now    time.Time
	ends   [3]*end // indexed by Side
	events evHeap
	evSeq  int
	faults []*fault
	log    []Packet
	owd    time.Duration
	arena  []byte
	v6     bool
}

// end is the state of one endpoint; stream offsets start at 0 for the first
// data byte (the SYN is -1), so sequence wrap-around never matters here.
type end struct {
	c    *Conn
	side Side
	ep   Endpoint
	isn  uint32
	ipid uint16
	mss  int // segment payload size for sending
	ws   uint8
	sack bool
	ts   bool

	state   int // stClosed, stSynSent, stSynRcvd, stEstablished, stReset, stGaveUp
	synTx   int
	una     int64 // first unacknowledged offset
	nxt     int64 // next offset to send
	total   int64 // end of data the application has written
	fin     bool  // application closed: FIN follows the data
	finSent bool
	segs    []seg // sent, unacknowledged
	cwnd    int
	ssth    int
	dup     int
	recover int64
	inRec   bool
	rto     time.Duration
	retries int
	rtoAt   time.Time
	txFree  time.Time // when the sender's link is free again

	queue   []byte // data written, from offset qbase on
	qbase   int64
	wsOK    bool // both sides sent window scale
	synRcvd bool

	rcvNxt   int64 // next peer offset expected
	ooo      [][2]int64
	finRcvd  bool
	finKnown bool
	peerFin  int64
	pending  int // full segments received and not yet acknowledged
	delackAt time.Time
	tsRecent uint32
	peerWnd  int
	peerWS   uint8
}

type seg struct {
	off int64
	n   int
	psh bool
	fin bool
	tx  int
}

const (
	stClosed = iota
	stSynSent
	stSynRcvd
	stEstablished
	stReset
	stGaveUp
)

// NewConn returns a connection that has sent nothing yet.
func NewConn(cfg Config) *Conn {
	if cfg.RTT <= 0 {
		cfg.RTT = time.Millisecond
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 125e6
	}
	if cfg.DelayedAck <= 0 {
		cfg.DelayedAck = 40 * time.Millisecond
	}
	if cfg.MinRTO <= 0 {
		cfg.MinRTO = 200 * time.Millisecond
	}
	if cfg.SYNRTO <= 0 {
		cfg.SYNRTO = time.Second
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 6
	}
	c := &Conn{cfg: cfg, now: cfg.Start, owd: cfg.RTT / 2, v6: cfg.Client.Addr.Addr().Is6()}
	c.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	for _, s := range []Side{Client, Server} {
		ep := cfg.Client
		if s == Server {
			ep = cfg.Server
		}
		e := &end{c: c, side: s, ep: ep, isn: ep.ISN, ipid: ep.IDStart}
		if e.isn == 0 {
			e.isn = c.rng.Uint32()
		}
		if e.ep.TSStart == 0 {
			e.ep.TSStart = c.rng.Uint32()
		}
		if e.ep.MSS == 0 {
			e.ep.MSS = 1460
			if c.v6 {
				e.ep.MSS = 1440
			}
		}
		if e.ep.WScale == 0 {
			e.ep.WScale = 7
		}
		if e.ep.Window <= 0 {
			e.ep.Window = 64256
		}
		c.ends[s] = e
	}
	return c
}

// Now is the simulation clock: when the last operation ended.
func (c *Conn) Now() time.Time { return c.now }

// Packets returns the log of packets sent so far (not yet taken).
func (c *Conn) Packets() []Packet { return c.log }

// Established reports whether the client completed the handshake (and has
// not reset or given up since); the server follows when the client's ACK
// arrives.
func (c *Conn) Established() bool { return c.ends[Client].state == stEstablished }

// Fault makes the path treat packets matching m as f. Faults are tried in
// the order added; the first that matches decides.
func (c *Conn) Fault(m Match, f Fate) { c.faults = append(c.faults, &fault{m: m, f: f}) }

// Lose drops packets matching m in the middle of the path.
func (c *Conn) Lose(m Match) { c.Fault(m, Fate{Lost: true}) }

// Handshake sends the SYN and runs until the client is established (its
// ACK is on the way), the server refuses, or the client gives up.
func (c *Conn) Handshake() {
	cl := c.ends[Client]
	cl.state = stSynSent
	cl.sendSYN(c.now)
	c.run(func() bool { return cl.state != stSynSent })
}

// Send makes side write n bytes (a deterministic pattern) and runs until
// the peer has received them all or side gives up.
func (c *Conn) Send(side Side, n int) {
	data := make([]byte, n)
	for i := range data {
		data[i] = 'a' + byte(i%26)
	}
	c.SendData(side, data)
}

// SendData makes side write data and runs until the peer has received it
// or side gives up.
func (c *Conn) SendData(side Side, data []byte) {
	e, p := c.ends[side], c.ends[side.Other()]
	e.queue = append(e.queue, data...)
	e.total += int64(len(data))
	target := e.total
	e.trySend(c.now)
	c.run(func() bool { return p.rcvNxt >= target || e.dead() || p.dead() })
}

// Close makes side close its half of the connection: a FIN after its data.
// It runs until the peer has received the FIN or side gives up.
func (c *Conn) Close(side Side) {
	e, p := c.ends[side], c.ends[side.Other()]
	e.fin = true
	e.trySend(c.now)
	c.run(func() bool { return p.finRcvd || e.dead() || p.dead() })
}

// Reset makes side send a RST (with ACK) and forget the connection.
func (c *Conn) Reset(side Side) {
	e := c.ends[side]
	e.emit(c.now, e.seqOf(e.nxt), RST|ACK, nil, nil, false)
	e.state = stReset
	c.run(func() bool { return false })
}

// Wait lets d pass: timers fire and packets in flight arrive.
func (c *Conn) Wait(d time.Duration) {
	until := c.now.Add(d)
	c.runUntil(until)
	c.now = until
}

// Inject logs p as sent now (unless p.Sent is set) without the endpoints
// taking notice: a forged RST, a stale ACK, an ICMP error from a router.
// Zero addresses, MACs and TTL are filled in from p.From's endpoint.
func (c *Conn) Inject(p Packet) {
	e := c.ends[p.From]
	if p.Sent.IsZero() {
		p.Sent = c.now
	}
	if !p.Src.IsValid() {
		p.Src, p.Dst = e.ep.Addr, c.ends[p.From.Other()].ep.Addr
	}
	if p.SrcMAC == (MAC{}) {
		p.SrcMAC, p.DstMAC = e.ep.MAC, c.ends[p.From.Other()].ep.MAC
	}
	if p.TTL == 0 {
		p.TTL = or8(e.ep.TTL, 64)
	}
	c.log = append(c.log, p)
}

// Template returns the packet side would send now with no flags: its
// addresses, next sequence number, ACK number, window and options. Edit it
// and pass it to Inject.
func (c *Conn) Template(side Side) Packet {
	e := c.ends[side]
	p := Packet{From: side, Sent: c.now, Src: e.ep.Addr, Dst: c.ends[side.Other()].ep.Addr,
		SrcMAC: e.ep.MAC, DstMAC: c.ends[side.Other()].ep.MAC, TTL: or8(e.ep.TTL, 64), DF: !e.ep.NoDF,
		Seq: e.seqOf(e.nxt), Ack: e.ackSeq(), Flags: ACK, Window: e.window()}
	p.ID = e.nextID(0)
	if e.ts {
		p.Options = []TCPOption{OptNOP(), OptNOP(), OptTimestamps(e.tsVal(c.now), e.tsRecent)}
	}
	return p
}

func (e *end) dead() bool { return e.state == stReset || e.state == stGaveUp }

// --- events ---

type event struct {
	t    time.Time
	seq  int
	kind int
	side Side
	p    *Packet
}

const (
	evArrive = iota
	evRTO
	evDelack
)

type evHeap []event

func (h evHeap) Len() int { return len(h) }
func (h evHeap) Less(i, j int) bool {
	if !h[i].t.Equal(h[j].t) {
		return h[i].t.Before(h[j].t)
	}
	return h[i].seq < h[j].seq
}
func (h evHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *evHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func (c *Conn) schedule(ev event) {
	c.evSeq++
	ev.seq = c.evSeq
	heap.Push(&c.events, ev)
}

// run processes events until done reports true or nothing is left to do.
func (c *Conn) run(done func() bool) {
	for !done() && c.events.Len() > 0 {
		ev := heap.Pop(&c.events).(event)
		if ev.t.After(c.now) {
			c.now = ev.t
		}
		c.handle(ev)
	}
}

// runUntil processes the events due by t.
func (c *Conn) runUntil(t time.Time) {
	for c.events.Len() > 0 && !c.events[0].t.After(t) {
		ev := heap.Pop(&c.events).(event)
		if ev.t.After(c.now) {
			c.now = ev.t
		}
		c.handle(ev)
	}
}

func (c *Conn) handle(ev event) {
	e := c.ends[ev.side]
	switch ev.kind {
	case evArrive:
		e.receive(ev.t, ev.p)
	case evRTO:
		if e.rtoAt.Equal(ev.t) {
			e.onRTO(ev.t)
		}
	case evDelack:
		if e.delackAt.Equal(ev.t) && !e.dead() {
			e.sendAck(ev.t)
		}
	}
}

// --- sending ---

func (e *end) peer() *end { return e.c.ends[e.side.Other()] }

func (e *end) seqOf(off int64) uint32 { return e.isn + 1 + uint32(off) }

func (e *end) ackSeq() uint32 {
	if !e.synRcvd {
		return 0
	}
	a := e.peer().isn + 1 + uint32(e.rcvNxt)
	if e.finRcvd {
		a++
	}
	return a
}

func (e *end) tsVal(t time.Time) uint32 {
	return e.ep.TSStart + uint32(t.Sub(e.c.cfg.Start)/time.Millisecond)
}

func (e *end) window() uint16 {
	w := e.ep.Window
	if e.state == stEstablished {
		w >>= e.ws // never scaled in SYNs
	}
	return uint16(min(w, 65535))
}

func (e *end) nextID(flags uint8) uint16 {
	switch e.ep.IDMode {
	case IDZero:
		return 0
	case IDRandom:
		return uint16(e.c.rng.Uint32())
	case IDLinux:
		if flags&RST != 0 || flags&(SYN|ACK) == SYN|ACK {
			return 0
		}
	}
	id := e.ipid
	e.ipid++
	return id
}

// emit logs a packet sent by e at t and schedules its arrival.
func (e *end) emit(t time.Time, seqNo uint32, flags uint8, opts []TCPOption, payload []byte, rexmit bool) {
	c := e.c
	p := e.peer()
	if opts == nil && flags&SYN == 0 {
		blocks := 4 // what fits in 40 bytes of options
		if e.ts {
			opts = []TCPOption{OptNOP(), OptNOP(), OptTimestamps(e.tsVal(t), e.tsRecent)}
			blocks = 3
		}
		if e.sack && len(e.ooo) > 0 {
			edges := make([]uint32, 0, 2*blocks)
			for i := len(e.ooo) - 1; i >= 0 && len(edges) < 2*blocks; i-- {
				edges = append(edges, p.seqOf(e.ooo[i][0]), p.seqOf(e.ooo[i][1]))
			}
			opts = append(opts, OptNOP(), OptNOP(), OptSACK(edges...))
		}
	}
	pk := Packet{From: e.side, Sent: t, Src: e.ep.Addr, Dst: p.ep.Addr, SrcMAC: e.ep.MAC, DstMAC: p.ep.MAC,
		TTL: or8(e.ep.TTL, 64), DF: !e.ep.NoDF, Seq: seqNo, Flags: flags, Window: e.window(),
		Options: opts, Payload: payload, Retransmission: rexmit}
	pk.ID = e.nextID(flags)
	if flags&ACK != 0 {
		pk.Ack = e.ackSeq()
		e.pending, e.delackAt = 0, time.Time{}
	}
	for _, f := range c.faults {
		if f.m.matches(&pk) {
			f.seen++
			if f.m.Nth == 0 || f.m.Nth == f.seen {
				pk.Fate = f.f
				if pk.Fate.At == 0 {
					pk.Fate.At = 0.5
				}
				pk.Checksum = f.f.Checksum
				break
			}
		}
	}
	c.log = append(c.log, pk)
	ser := time.Duration(int64(54+len(payload)) * int64(time.Second) / c.cfg.Rate)
	e.txFree = t.Add(ser)
	if !pk.Fate.Lost && pk.Checksum.mode != sumBad {
		cp := pk
		arr := t.Add(c.owd + pk.Fate.Delay)
		if pk.Fate.Duplicate {
			arr = t.Add(c.owd)
		}
		c.schedule(event{t: arr, kind: evArrive, side: p.side, p: &cp})
		if pk.Fate.Duplicate {
			d := pk.Fate.Delay
			if d == 0 {
				d = 50 * time.Microsecond
			}
			c.schedule(event{t: arr.Add(d), kind: evArrive, side: p.side, p: &cp})
		}
	}
}

func (m *Match) matches(p *Packet) bool {
	if m.From != 0 && m.From != p.From || p.Flags&m.Flags != m.Flags || p.Flags&m.NoFlags != 0 {
		return false
	}
	return m.Data == 0 || (m.Data > 0) == (len(p.Payload) > 0)
}

func (e *end) synOptions(synack bool) []TCPOption {
	mss := OptMSS(e.ep.MSS)
	// A SYN offers what the endpoint supports; a SYN-ACK only what both do.
	sack, ts, ws := !e.ep.NoSACK, !e.ep.NoTimestamps, !e.ep.NoWScale
	if synack {
		sack, ts, ws = e.sack, e.ts, e.wsOK
	}
	// Linux's layouts: MSS, SACK_PERM, TS, NOP, WS when timestamps are on;
	// MSS, NOP, NOP, SACK_PERM, NOP, WS otherwise.
	o := []TCPOption{mss}
	switch {
	case ts && sack:
		o = append(o, OptSACKPermitted(), OptTimestamps(e.tsVal(e.c.now), e.tsRecent))
	case ts:
		o = append(o, OptNOP(), OptNOP(), OptTimestamps(e.tsVal(e.c.now), e.tsRecent))
	case sack:
		o = append(o, OptNOP(), OptNOP(), OptSACKPermitted())
	}
	if ws {
		o = append(o, OptNOP(), OptWScale(e.ep.WScale))
	}
	return o
}

func (e *end) sendSYN(t time.Time) {
	e.synTx++
	e.emit(t, e.isn, SYN, e.synOptions(false), nil, e.synTx > 1)
	e.armRTO(t, e.c.cfg.SYNRTO<<(e.synTx-1))
}

func (e *end) sendSynAck(t time.Time) {
	e.synTx++
	e.emit(t, e.isn, SYN|ACK, e.synOptions(true), nil, e.synTx > 1)
	e.armRTO(t, e.c.cfg.SYNRTO<<(e.synTx-1))
}

func (e *end) armRTO(t time.Time, d time.Duration) {
	e.rtoAt = t.Add(d)
	e.c.schedule(event{t: e.rtoAt, kind: evRTO, side: e.side})
}

func (e *end) baseRTO() time.Duration { return e.c.cfg.MinRTO + e.c.cfg.RTT }

func (e *end) sendAck(t time.Time) {
	e.emit(t, e.seqOf(e.nxt)+e.finBit(), ACK, nil, nil, false)
}

// finBit is 1 once the FIN has been sent: it occupies a sequence number.
func (e *end) finBit() uint32 {
	if e.finSent {
		return 1
	}
	return 0
}

// trySend sends what the windows allow at t or when the link is free.
func (e *end) trySend(t time.Time) {
	if e.state != stEstablished {
		return
	}
	wnd := min(e.cwnd, e.peerWnd)
	for e.nxt < e.total {
		n := min(e.mss, int(e.total-e.nxt))
		// One segment may always go, so a tiny window cannot deadlock.
		if inflight := int(e.nxt - e.una); inflight > 0 && inflight+n > wnd {
			break
		}
		s := seg{off: e.nxt, n: n, psh: e.nxt+int64(n) == e.total, tx: 1}
		e.segs = append(e.segs, s)
		e.nxt += int64(n)
		e.transmit(e.when(t), s, false)
	}
	if e.fin && !e.finSent && e.nxt == e.total {
		e.finSent = true
		s := seg{off: e.nxt, fin: true, tx: 1}
		e.segs = append(e.segs, s)
		e.transmit(e.when(t), s, false)
	}
}

func (e *end) when(t time.Time) time.Time {
	if e.txFree.After(t) {
		return e.txFree
	}
	return t
}

func (e *end) transmit(t time.Time, s seg, rexmit bool) {
	flags := uint8(ACK)
	if s.psh {
		flags |= PSH
	}
	if s.fin {
		flags |= FIN
	}
	var payload []byte
	if s.n > 0 {
		payload = e.queue[s.off-e.qbase : s.off-e.qbase+int64(s.n)]
	}
	e.emit(t, e.seqOf(s.off), flags, nil, payload, rexmit)
	if e.rtoAt.IsZero() {
		e.armRTO(t, e.baseRTO())
	}
}

func (e *end) onRTO(t time.Time) {
	e.rtoAt = time.Time{}
	switch {
	case e.dead():
	case e.state == stSynSent || e.state == stSynRcvd:
		if e.synTx > e.c.cfg.Retries {
			e.state = stGaveUp
			return
		}
		if e.state == stSynSent {
			e.sendSYN(t)
		} else {
			e.sendSynAck(t)
		}
	case len(e.segs) > 0:
		e.retries++
		if e.retries > e.c.cfg.Retries {
			e.state = stGaveUp
			return
		}
		e.ssth = max(int(e.nxt-e.una)/2, 2*e.mss)
		e.cwnd = e.mss
		e.inRec, e.dup = false, 0
		e.segs[0].tx++
		e.armRTO(t, e.baseRTO()<<min(e.retries, 10))
		e.transmit(e.when(t), e.segs[0], true)
	}
}

// --- receiving ---

func (e *end) receive(t time.Time, p *Packet) {
	if e.dead() {
		return
	}
	if p.Flags&RST != 0 {
		e.state = stReset
		e.rtoAt, e.delackAt = time.Time{}, time.Time{}
		return
	}
	if p.Flags&SYN != 0 {
		e.receiveSYN(t, p)
		return
	}
	if e.state == stSynRcvd && p.Flags&ACK != 0 && p.Ack == e.isn+1 {
		e.state = stEstablished
		e.rtoAt = time.Time{}
	}
	if e.state != stEstablished {
		return
	}
	if e.ts {
		for _, o := range p.Options {
			if o.Kind == OptKindTimestamps && int64(int32(p.Seq-e.peer().seqOf(e.rcvNxt))) <= 0 {
				e.tsRecent = beUint32(o.Data)
			}
		}
	}
	e.onAck(t, p)
	e.onData(t, p)
	e.trySend(t)
}

func beUint32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (e *end) receiveSYN(t time.Time, p *Packet) {
	switch {
	case e.side == Server && e.state == stClosed:
		e.synRcvd = true
		if e.ep.Refuse {
			e.emit(t, 0, RST|ACK, []TCPOption{}, nil, false)
			e.state = stReset
			return
		}
		e.negotiate(p)
		e.state = stSynRcvd
		e.sendSynAck(t)
	case e.side == Server && e.state == stSynRcvd:
		e.sendSynAck(t) // the SYN again: our SYN-ACK was lost
	case e.side == Client && e.state == stSynSent && p.Flags&ACK != 0:
		e.synRcvd = true
		e.negotiate(p)
		e.state = stEstablished
		e.rtoAt = time.Time{}
		e.sendAck(t)
	case e.state == stEstablished:
		e.sendAck(t) // a SYN or SYN-ACK again: re-ACK
	}
}

// negotiate applies the options of the peer's SYN or SYN-ACK.
func (e *end) negotiate(p *Packet) {
	e.peerWnd = int(p.Window)
	e.mss = 536
	for _, o := range p.Options {
		switch o.Kind {
		case OptKindMSS:
			e.mss = min(int(e.ep.MSS), int(o.Data[0])<<8|int(o.Data[1]))
		case OptKindWScale:
			e.wsOK = !e.ep.NoWScale
			e.peerWS = o.Data[0]
		case OptKindSACKPermitted:
			e.sack = !e.ep.NoSACK
		case OptKindTimestamps:
			e.ts = !e.ep.NoTimestamps
			e.tsRecent = beUint32(o.Data)
		}
	}
	if e.wsOK {
		e.ws = e.ep.WScale
	} else {
		e.peerWS = 0
	}
	if !e.ts {
		e.tsRecent = 0
	}
	if e.ts {
		e.mss -= 12
	}
	e.cwnd = 10 * e.mss
	e.ssth = 1 << 30
}

func (e *end) onAck(t time.Time, p *Packet) {
	if p.Flags&ACK == 0 {
		return
	}
	e.peerWnd = int(p.Window) << e.peerWS
	ack := int64(int32(p.Ack - e.seqOf(0)))
	sackHi := int64(-1) // the highest byte the peer reports holding
	for _, o := range p.Options {
		for i := 4; o.Kind == OptKindSACK && i+4 <= len(o.Data); i += 8 {
			sackHi = max(sackHi, int64(int32(beUint32(o.Data[i:])-e.seqOf(0))))
		}
	}
	top := e.nxt
	if e.finSent {
		top++
	}
	if ack > top {
		return
	}
	switch {
	case ack > e.una:
		acked := int(ack - e.una)
		e.una = min(ack, e.nxt)
		for len(e.segs) > 0 && e.segs[0].off+int64(e.segs[0].n) <= ack && (!e.segs[0].fin || ack > e.segs[0].off) {
			e.segs = e.segs[1:]
		}
		e.dup = 0
		e.retries = 0
		if e.inRec {
			if ack >= e.recover {
				e.inRec = false
				e.cwnd = e.ssth
			} else if len(e.segs) > 0 && (!e.sack || sackHi > e.segs[0].off) {
				// A partial ACK: retransmit the next hole, but with SACK
				// only one the peer reports data beyond (not one that is
				// merely still in flight).
				e.segs[0].tx++
				e.transmit(e.when(t), e.segs[0], true)
			}
		} else if e.cwnd < e.ssth {
			e.cwnd += acked
		} else {
			e.cwnd += e.mss * acked / max(e.cwnd, 1)
		}
		e.rtoAt = time.Time{}
		if len(e.segs) > 0 {
			e.armRTO(t, e.baseRTO())
		}
		e.trimQueue()
	case ack == e.una && len(p.Payload) == 0 && p.Flags&(SYN|FIN) == 0 && len(e.segs) > 0:
		e.dup++
		if e.dup == 3 && !e.inRec {
			e.inRec = true
			e.recover = e.nxt
			e.ssth = max(int(e.nxt-e.una)/2, 2*e.mss)
			e.cwnd = e.ssth + 3*e.mss
			e.segs[0].tx++
			e.transmit(e.when(t), e.segs[0], true)
		}
	}
}

func (e *end) onData(t time.Time, p *Packet) {
	off := int64(int32(p.Seq - e.peer().seqOf(0)))
	n := int64(len(p.Payload))
	fin := p.Flags&FIN != 0
	if n == 0 && !fin {
		return
	}
	end := off + n
	if fin {
		e.peerFin, e.finKnown = end, true
	}
	hadHoles := len(e.ooo) > 0
	switch {
	case n > 0 && end <= e.rcvNxt || n == 0 && e.finRcvd:
		e.sendAck(t) // old data again: re-ACK
		return
	case off > e.rcvNxt:
		if n > 0 {
			e.addOOO(off, end)
		}
		e.sendAck(t) // a hole before it: duplicate ACK, with SACK blocks
		return
	}
	e.rcvNxt = max(e.rcvNxt, end)
	for len(e.ooo) > 0 && e.ooo[0][0] <= e.rcvNxt {
		e.rcvNxt = max(e.rcvNxt, e.ooo[0][1])
		e.ooo = e.ooo[1:]
	}
	if e.finKnown && e.rcvNxt >= e.peerFin && !e.finRcvd {
		e.finRcvd = true
		e.sendAck(t) // FINs are acknowledged at once
		return
	}
	if hadHoles {
		e.sendAck(t)
		return
	}
	e.pending++
	if e.pending >= 2 {
		e.sendAck(t)
	} else if e.delackAt.IsZero() {
		e.delackAt = t.Add(e.c.cfg.DelayedAck)
		e.c.schedule(event{t: e.delackAt, kind: evDelack, side: e.side})
	}
}

// trimQueue forgets acknowledged data once it is most of the queue.
func (e *end) trimQueue() {
	if d := e.una - e.qbase; d > 1<<16 && d > int64(len(e.queue))/2 {
		e.queue = append([]byte(nil), e.queue[d:]...)
		e.qbase = e.una
	}
}

func (e *end) addOOO(a, b int64) {
	r := append(e.ooo, [2]int64{a, b})
	// insertion sort and merge: the list is tiny
	for i := len(r) - 1; i > 0 && r[i][0] < r[i-1][0]; i-- {
		r[i], r[i-1] = r[i-1], r[i]
	}
	out := r[:0]
	for _, x := range r {
		if len(out) > 0 && x[0] <= out[len(out)-1][1] {
			out[len(out)-1][1] = max(out[len(out)-1][1], x[1])
			continue
		}
		out = append(out, x)
	}
	e.ooo = out
}
