package tcp

import (
	"encoding/binary"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

// Config bounds the analyzer's memory. Timeouts are in capture time.
type Config struct {
	// SYNTimeout releases a conversation that never got past its SYNs
	// (longer than Linux's default SYN retry schedule, 127 s).
	SYNTimeout time.Duration
	// IdleTimeout releases an established conversation with no packets.
	IdleTimeout time.Duration
	// Linger keeps a closed conversation (FIN both ways, or RST) so that
	// late retransmissions and ACKs still join it.
	Linger time.Duration
	// MaxConversations caps live conversations; beyond it the least
	// recently active are released early.
	MaxConversations int
	// StreamsOnly assigns tcp.stream indexes and relative sequence numbers
	// (which port reuse and the handshake decide) without the per-segment
	// analysis: for the conversation table, which needs no more.
	StreamsOnly bool
}

// DefaultConfig keeps every conversation of an ordinary capture for as
// long as tshark would need it, and bounds a scan of millions of 4-tuples.
var DefaultConfig = Config{
	SYNTimeout:       3 * time.Minute,
	IdleTimeout:      30 * time.Minute,
	Linger:           2 * time.Minute,
	MaxConversations: 1 << 18,
}

// Analyzer annotates TCP segments as tshark's sequence analysis does. It is
// not safe for concurrent use.
type Analyzer struct {
	cfg        Config
	convs      convTable
	nextStream int64
	queue      expiryQueue
	free       []*conv // released conversations, reused to avoid allocating
	nextExpiry capture.Time
	// last is the conversation of the previous segment: bulk transfers
	// send runs of segments on one conversation, and the check is
	// cheaper than the map.
	last *conv
	// Released counts conversations released by timeout or by the cap.
	Released, Evicted int64
}

// NewAnalyzer returns an analyzer with cfg (zero fields take DefaultConfig's
// values).
func NewAnalyzer(cfg Config) *Analyzer {
	if cfg.SYNTimeout == 0 {
		cfg.SYNTimeout = DefaultConfig.SYNTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultConfig.IdleTimeout
	}
	if cfg.Linger == 0 {
		cfg.Linger = DefaultConfig.Linger
	}
	if cfg.MaxConversations == 0 {
		cfg.MaxConversations = DefaultConfig.MaxConversations
	}
	return &Analyzer{cfg: cfg, convs: newConvTable()}
}

// Live returns the number of conversations held.
func (a *Analyzer) Live() int { return a.convs.n }

// Streams returns the number of tcp.stream indexes handed out.
func (a *Analyzer) Streams() int64 { return a.nextStream }

// segment is an unacknowledged segment (tshark's tcp_unacked_t).
type segment struct {
	frame   int64
	seq     uint32
	nextseq uint32
	ts      capture.Time
}

// maxUnacked is tshark's TCP_MAX_UNACKED_SEGMENTS.
const maxUnacked = 10000

// half is one direction's state (tshark's tcp_flow_t and its
// tcp_analyze_seq_flow_info_t). As in tshark, a zero nextseq, lastack or
// maxseqtobeacked means "not known yet".
type half struct {
	baseSeq     uint32
	baseSet     bool
	nextseq     uint32
	nextseqFrm  int64
	nextseqTime capture.Time
	maxToAck    uint32
	lastack     uint32
	lastackTime capture.Time
	lastNonDup  int64
	dupacknum   uint32 // 0xffffffff is tshark's "ACKed unseen" sentinel
	window      uint32 // raw header value; 0xffffffff until seen
	winScale    int8   // -1 unknown, -2 not used, 0..14
	isFirstAck  bool
	lastFlags   Flags
	segs        unacked
	validBIF    bool
	pushBytes   uint32
	pushLast    bool
	sackSum     uint32 // SACKed bytes in this side's last segment (first 3 blocks)
	fin, rst    bool
}

type conv struct {
	key          flow.Key
	stream       int64
	firstDir     flow.Dir
	h            [2]half // indexed by flow.Dir of the sender
	completeness uint8
	mruSyn       capture.Time
	firstRTT     time.Duration
	last         capture.Time
	synOnly      bool   // nothing but pure SYNs seen
	gen          uint64 // matches its entry in the expiry queue
	nextSameHash *conv  // collision chain of convTable
}

func (c *conv) reset(key flow.Key, stream int64, dir flow.Dir, now capture.Time) {
	segs0, segs1 := c.h[0].segs, c.h[1].segs
	*c = conv{key: key, stream: stream, firstDir: dir, last: now, synOnly: true}
	for i := range c.h {
		c.h[i].window = 0xffffffff
		c.h[i].winScale = -1
		c.h[i].validBIF = true
	}
	c.h[0].segs, c.h[1].segs = segs0, segs1
	c.h[0].segs.reset()
	c.h[1].segs.reset()
}

func (a *Analyzer) newConv(key flow.Key, dir flow.Dir, now capture.Time) *conv {
	var c *conv
	if n := len(a.free); n > 0 {
		c, a.free = a.free[n-1], a.free[:n-1]
	} else {
		c = &conv{}
	}
	c.reset(key, a.nextStream, dir, now)
	a.nextStream++
	a.convs.put(c)
	c.gen = a.queue.push(key, now)
	// A conversation queued behind others is due after them; one queued
	// into empty queues sets the next check itself.
	a.nextExpiry = min(a.nextExpiry, now.Add(a.cfg.SYNTimeout))
	return c
}

const (
	thFIN = header.FlagFIN
	thSYN = header.FlagSYN
	thRST = header.FlagRST
	thPSH = header.FlagPSH
	thACK = header.FlagACK
)

// Analyze annotates one packet. It returns false, leaving ann untouched,
// for packets that are neither TCP nor an ICMP error quoting TCP.
func (a *Analyzer) Analyze(p *packet.Packet, ann *Annotation) bool {
	a.expire(p.Time)
	if p.TCP == nil {
		if p.ICMP != nil && p.Quoted.Valid && p.Quoted.Proto == header.ProtoTCP && len(p.Quoted.TCP) >= 16 {
			a.quoted(p, ann)
			return true
		}
		return false
	}
	t := p.TCP
	seq, ack, win := t.Seq(), t.Ack(), uint32(t.Window())
	flags := t.Flags()
	seglen := uint32(p.PayloadLen)
	now := p.Time

	key, dir := keyOf(p)
	c := a.last
	if c == nil || !c.key.Equal(key) {
		c = a.convs.get(key)
	}
	isNew := c == nil
	if isNew {
		c = a.newConv(key, dir, now)
	}
	*ann = Annotation{}
	record := false
	fwd, rev := &c.h[dir], &c.h[dir.Reverse()]

	// A SYN with a new ISN on a known conversation starts a new one
	// (reused ports); with the same ISN it is a retransmission, and the
	// flow's nextseq is restored (tshark issue 17616).
	if !isNew && flags&(thSYN|thACK) == thSYN && fwd.baseSet {
		if seq != fwd.baseSeq {
			c = a.replace(c, key, dir, now)
			fwd, rev = &c.h[dir], &c.h[dir.Reverse()]
			ann.Flags |= ReusedPorts
			c.completeness = 1
			record = true
		} else {
			fwd.nextseq = fwd.maxToAck
			record = true
		}
	}
	if flags&(thSYN|thACK) == thSYN|thACK && fwd.baseSet && seq != fwd.baseSeq {
		fwd.baseSeq = seq
		ann.Flags |= ReusedPorts
		record = true
	}
	ann.Stream = c.stream
	ann.FromA = dir == c.firstDir
	ann.Completeness = c.completeness
	fwd.sackSum = 0

	if !fwd.baseSet {
		if flags&thSYN != 0 {
			fwd.baseSeq = seq
		} else {
			fwd.baseSeq = seq - 1
		}
		fwd.baseSet = true
	}
	if !rev.baseSet && flags&thACK != 0 {
		rev.baseSeq = ack - 1
		rev.baseSet = true
	}

	if !a.cfg.StreamsOnly && a.sequence(c, fwd, rev, ann, p.Frame, now, seq, ack, seglen, flags, win) {
		record = true
	}

	ann.SeqLen = int(seglen)
	ann.RelSeq = seq - fwd.baseSeq
	ann.RelAck = ack
	if flags&thACK != 0 {
		ann.RelAck = ack - rev.baseSeq
	}
	ann.NextSeq = ann.RelSeq + seglen
	if flags&(thSYN|thFIN) != 0 {
		ann.NextSeq++
	}
	ann.Window = int64(win)
	if flags&thSYN == 0 && fwd.winScale >= 0 {
		ann.Window = int64(win) << fwd.winScale
	}
	ann.WinScale = fwd.winScale

	// Completeness: a new conversation contributes only its pure SYN.
	if isNew {
		if flags&(thSYN|thACK) == thSYN {
			c.completeness |= CompleteSYN
			if seglen > 0 {
				c.completeness |= CompleteData
			}
		}
	} else {
		c.completeness |= completenessBits(flags, seglen)
	}

	if flags&thSYN != 0 {
		if flags&thACK == 0 {
			c.mruSyn = now
		}
		fwd.isFirstAck = true
	}
	if flags&(thSYN|thACK) == thACK {
		if c.mruSyn != 0 && c.firstRTT == 0 {
			c.firstRTT = now.Sub(c.mruSyn)
		}
		fwd.isFirstAck = false
	}

	// Options are read after the analysis, as tshark dissects them.
	if t.HeaderLen() > header.TCPMinLen && !a.cfg.StreamsOnly {
		scanOptions(t.Options(), fwd)
	}
	if flags&thSYN != 0 {
		verifyWindowScaling(flags&thACK != 0, fwd, rev)
	}

	if flags&thSYN == 0 || flags&thACK != 0 {
		c.synOnly = false
	}
	a.last = c
	if flags&thFIN != 0 {
		fwd.fin = true
	}
	if flags&thRST != 0 {
		fwd.rst = true
	}
	c.last = now

	ann.HasRecord = record || ann.Flags != 0 || ann.AcksFrame != 0 || ann.BytesInFlight != 0 || ann.PushBytesSent != 0
	if ann.HasRecord && c.firstRTT != 0 {
		ann.InitialRTT, ann.HasInitialRTT = c.firstRTT, true
	}
	return true
}

// scanOptions records what the analysis needs from a segment's options:
// the window scale shift (clamped to 14, RFC 7323 §2.3) and the bytes the
// first three SACK blocks cover (tshark stores at most three for bytes in
// flight). It is a direct walk rather than header.ParseOptions because it
// runs for every segment.
func scanOptions(b []byte, h *half) {
	for len(b) > 0 {
		kind := b[0]
		if kind == header.OptEnd {
			return
		}
		if kind == header.OptNOP {
			b = b[1:]
			continue
		}
		if len(b) < 2 || b[1] < 2 || int(b[1]) > len(b) {
			return
		}
		n := int(b[1])
		switch {
		case kind == header.OptWScale && n == 3:
			h.winScale = int8(min(b[2], 14))
		case kind == header.OptSACK && n >= 10:
			for i, blk := 0, b[2:n]; i < 3 && len(blk) >= 8; i, blk = i+1, blk[8:] {
				h.sackSum += binary.BigEndian.Uint32(blk[4:]) - binary.BigEndian.Uint32(blk)
			}
		}
		b = b[n:]
	}
}

// keyOf returns the packet's flow key, reading IPv4 addresses straight from
// the header (the common case, and measurably cheaper than netip).
func keyOf(p *packet.Packet) (flow.Key, flow.Dir) {
	if p.IPVersion == 4 && len(p.IP) >= header.IPv4MinLen {
		ip := p.IP[:20]
		return flow.NewIPv4(header.ProtoTCP, binary.BigEndian.Uint32(ip[12:]), p.SrcPort, binary.BigEndian.Uint32(ip[16:]), p.DstPort)
	}
	return flow.New(header.ProtoTCP, p.Src, p.SrcPort, p.Dst, p.DstPort)
}

func completenessBits(flags uint8, seglen uint32) uint8 {
	var b uint8
	switch flags & (thSYN | thACK) {
	case thSYN | thACK:
		b |= CompleteSYNACK
	case thACK:
		if seglen > 0 {
			b |= CompleteData
		} else {
			b |= CompleteACK
		}
	}
	if flags&(thFIN|thACK) == thFIN|thACK {
		b |= CompleteFIN
	}
	if flags&thRST != 0 {
		b |= CompleteRST
	}
	return b
}

// verifyWindowScaling is tshark's check after a SYN or SYN-ACK: a side
// whose handshake segment had no window scale option disables scaling.
func verifyWindowScaling(synack bool, fwd, rev *half) {
	if fwd.winScale == -1 {
		fwd.winScale, rev.winScale = -2, -2
	} else if synack && rev.winScale == -2 {
		fwd.winScale = -2
	}
}

// quoted handles the TCP header inside an ICMP error: tshark finds or
// creates its conversation (so the error gets a tcp.stream) and moves the
// completeness on, but analyses nothing.
func (a *Analyzer) quoted(p *packet.Packet, ann *Annotation) {
	q := &p.Quoted
	t := q.TCP
	flags := t.Flags()
	key, dir := flow.New(header.ProtoTCP, q.Src, q.SrcPort, q.Dst, q.DstPort)
	c := a.convs.get(key)
	isNew := c == nil
	if isNew {
		c = a.newConv(key, dir, p.Time)
	}
	*ann = Annotation{Quoted: true}
	fwd := &c.h[dir]
	if !isNew && flags&(thSYN|thACK) == thSYN && fwd.baseSet && t.Seq() != fwd.baseSeq {
		c = a.replace(c, key, dir, p.Time)
		c.completeness = 1
	}
	ann.Stream = c.stream
	ann.FromA = dir == c.firstDir
	ann.Completeness = c.completeness
	if isNew {
		if flags&(thSYN|thACK) == thSYN {
			c.completeness |= CompleteSYN
		}
	} else {
		c.completeness |= completenessBits(flags, 0)
	}
	c.last = p.Time
}

// replace starts a new conversation on key, as tshark does for a reused
// 4-tuple.
func (a *Analyzer) replace(old *conv, key flow.Key, dir flow.Dir, now capture.Time) *conv {
	a.convs.del(old)
	if a.last == old {
		a.last = nil
	}
	if len(a.free) < 4096 {
		a.free = append(a.free, old)
	}
	return a.newConv(key, dir, now)
}
