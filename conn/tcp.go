package conn

import (
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
)

// tooLargeSeqDelta is TOO_LARGE_SEQ_DELTA: a SYN or RST that moves the
// sequence number this far is not believed.
const tooLargeSeqDelta = 1048576

// Bits of Session::CheckHistory for TCP (resp's are shifted left 16).
const (
	histSYN    = 0x1
	histFIN    = 0x2
	histRST    = 0x4
	histFINRST = 0x8
	histData   = 0x10
	histACK    = 0x20
	histMulti  = 0x40
	histLimit  = 0x400 // X, connection-wide
)

// seg is what TCP processing needs of a segment.
type seg struct {
	flags     uint8
	seq, ack  uint32
	win       uint16
	plen      int // payload length from the IP header
	remaining int // payload bytes captured
}

func (s *seg) syn() bool { return s.flags&header.FlagSYN != 0 }

func (s *seg) fin() bool { return s.flags&header.FlagFIN != 0 }

func (s *seg) rst() bool { return s.flags&header.FlagRST != 0 }

func (s *seg) ack_() bool {
	return s.flags&header.FlagACK != 0
}

func seqDelta(a, b uint32) int32 { return int32(a - b) }

// wantFlip is TCPAnalyzer::WantConnection's decision for a connection's
// first packet: flip when it is not a pure SYN and comes from a likely
// server port.
func (tr *Tracker) wantFlipTCP(s *seg, sport, dport uint16) bool {
	if s.syn() && !s.ack_() {
		return false
	}
	if !tr.opt.ServerPorts.Has(TCP, sport) {
		return false
	}
	if tr.opt.ServerPorts.Has(TCP, dport) {
		return !s.syn() && sport < dport
	}
	return true
}

// isReuse is TCPSessionAdapter::IsReuse: does this SYN start a new
// connection on the 4-tuple?
func (c *connState) isReuse(s *seg) bool {
	if !s.syn() {
		return false
	}
	t := &c.tcp
	orig, resp := &t.ep[c.origDir], &t.ep[c.origDir.Reverse()]
	connOrig := orig
	if s.ack_() {
		if orig.state != Inactive {
			return false
		}
		connOrig = resp
	}
	if !orig.didClose && !resp.didClose {
		if s.seq == connOrig.startSeq {
			return false // a retransmitted SYN
		}
		if !s.ack_() && connOrig.state == SYNACKSent && resp.state == Inactive && s.seq == resp.startSeq {
			return false // SYN/SYN-ACK reversal
		}
	}
	return true
}

// newTCP initialises c's TCP state (TCPSessionAdapter's constructor and
// TCPAnalyzer::MakeSessionAdapter).
func (tr *Tracker) newTCP(c *connState) {
	t := &c.tcp
	t.ep[0].reset()
	t.ep[1].reset()
	t.firstPacketSeen, t.isPartial, t.closeDeferred, t.deferredGenEvent = 0, false, false, false
	t.isActive = true
	tr.schedule(c, tExpire, tr.now+capture.Time(tr.opt.TCPSYNTimeout))
	tr.setInactivityTimeout(c, int64(tr.opt.UDPInactivity))
}

// processTCP is TCPSessionAdapter::Process for a segment from host d that
// passed the checksum.
func (tr *Tracker) processTCP(c *connState, d flow.Dir, s *seg, t capture.Time) {
	tc := &c.tcp
	isOrig := c.isOrig(d)
	e, peer := &tc.ep[d], &tc.ep[d.Reverse()]

	// SetPartialStatus
	if isOrig {
		if tc.firstPacketSeen&1 == 0 {
			tc.isPartial = !s.syn() || s.ack_()
		}
	} else if tc.firstPacketSeen&2 == 0 && !tc.isPartial {
		tc.isPartial = !s.syn()
	}

	segLen := uint32(s.plen)
	if s.syn() {
		segLen++
	}
	if s.fin() {
		segLen++
	}
	if s.rst() {
		segLen -= uint32(s.plen)
	}
	onePast := s.seq + segLen
	tr.initEndpoint(e, s, onePast)

	relSeq, underflow := rel(e, s.seq, e.lastSeq, e.seqWraps)

	tr.updateHistory(c, d, s, relSeq)
	// update_window: a zero window is W/w unless RST, the peer closed or
	// the sender reset.
	if s.win == 0 && !s.rst() && peer.state != Closed && e.state != Reset {
		c.scaledLetter(d, &e.win0, 'W')
	}
	if !(tc.ep[0].didClose && tc.ep[1].didClose) {
		c.lastTime = t
	}
	if s.fin() {
		e.finCnt++
		e.finSeq = relSeq + uint64(segLen)
	}
	if s.rst() {
		e.rstCnt++
	}
	var relAck uint64
	if s.ack_() {
		if peer.state == Inactive {
			relAck = 1
			// init_peer
			peer.startSeq, peer.ackSeq, peer.lastSeq = s.ack-1, s.ack-1, s.ack-1
		} else {
			var uf bool
			relAck, uf = rel(peer, s.ack, peer.ackSeq, peer.ackWraps)
			if uf {
				relAck = 0 // weird TCP_ack_underflow_or_misorder
			} else if !s.rst() {
				dl := seqDelta(s.ack, peer.ackSeq)
				if !(s.ack == 0 && dl > tooLargeSeqDelta) && dl > 0 {
					peer.updateAckSeq(s.ack)
				}
			}
		}
	}
	deltaLast := tr.updateLastSeq(c, d, onePast, s)

	doClose, genEvent := tr.updateStateMachine(c, d, isOrig, s, deltaLast)
	if s.ack_() {
		tr.ackReceived(c, d.Reverse(), relAck)
	}
	if isOrig {
		tc.firstPacketSeen |= 1
	} else {
		tc.firstPacketSeen |= 2
	}
	relData := relSeq
	if s.syn() {
		relData++
	}
	if s.plen > 0 && !s.rst() && !underflow && s.remaining >= s.plen {
		// A truncated payload never enters: it becomes a gap when acked.
		tr.dataSent(c, d, relData, uint64(s.plen))
	}
	tr.checkEOF(c, d)
	if doClose {
		tr.connectionClosed(c, d, genEvent)
	}
}

// rel is get_relative_seq: the 64-bit relative position of cur given the
// last value seen and the wrap count, and whether it underflowed.
func rel(owner *tcpEndpoint, cur, last uint32, wraps uint64) (uint64, bool) {
	delta := seqDelta(cur, last)
	if delta < 0 {
		if wraps > 0 && cur > last {
			wraps--
		}
	} else if delta > 0 && cur < last {
		wraps++
	}
	if wraps == 0 {
		d := seqDelta(cur, owner.startSeq)
		return uint64(int64(d)), d < 0
	}
	return owner.toRel(cur, wraps), false
}

// initEndpoint is init_endpoint: (re)initialise the sender's sequence
// numbers.
func (tr *Tracker) initEndpoint(e *tcpEndpoint, s *seg, last uint32) {
	first := s.seq
	switch e.state {
	case Inactive:
		if s.syn() {
			e.ackSeq, e.startSeq = first, first
		} else {
			e.ackSeq, e.startSeq = first-1, first-1
			last = first
		}
		e.lastSeq = last
	case SYNSent, SYNACKSent:
		if s.syn() && first != e.startSeq { // weird SYN_seq_jump
			e.startSeq, e.ackSeq, e.lastSeq = first, first, last
		}
	case Established, Partial:
		if s.syn() {
			e.startSeq, e.ackSeq, e.lastSeq = first, first, last
		}
	case Reset:
		if s.syn() && e.prevState == Inactive {
			e.startSeq, e.ackSeq, e.lastSeq = first, first, last
		}
	}
}

// updateHistory is update_history: S H A D F R I Q.
func (tr *Tracker) updateHistory(c *connState, d flow.Dir, s *seg, relSeq uint64) {
	e := &c.tcp.ep[d]
	bits := 0
	if s.syn() {
		bits++
	}
	if s.fin() {
		bits++
	}
	if s.rst() {
		bits++
	}
	switch {
	case bits > 1:
		if s.fin() && s.rst() {
			tr.tcpCheckHistory(c, d, histFINRST, 'I')
		} else {
			tr.tcpCheckHistory(c, d, histMulti, 'Q')
		}
	case bits == 1:
		if s.syn() {
			code := byte('S')
			if s.ack_() {
				code = 'H'
			}
			if tr.tcpCheckHistory(c, d, histSYN, code) && relSeq != e.histLastSYN {
				c.addHistory(c.letter(d, code))
			}
			e.histLastSYN = relSeq
		}
		if s.fin() {
			end := relSeq + uint64(s.plen)
			if tr.tcpCheckHistory(c, d, histFIN, 'F') && end != e.histLastFIN {
				c.addHistory(c.letter(d, 'F'))
			}
			e.histLastFIN = end
		}
		if s.rst() {
			if tr.tcpCheckHistory(c, d, histRST, 'R') && relSeq != e.histLastRST {
				c.addHistory(c.letter(d, 'R'))
			}
			e.histLastRST = relSeq
		}
	default:
		if s.plen > 0 {
			tr.tcpCheckHistory(c, d, histData, 'D')
		} else if s.ack_() {
			tr.tcpCheckHistory(c, d, histACK, 'A')
		}
	}
}

// updateLastSeq is update_last_seq, with the T/t retransmission rule.
func (tr *Tracker) updateLastSeq(c *connState, d flow.Dir, last uint32, s *seg) int32 {
	e := &c.tcp.ep[d]
	dl := seqDelta(last, e.lastSeq)
	switch {
	case (s.syn() || s.rst()) && (dl > tooLargeSeqDelta || dl < -tooLargeSeqDelta):
	case s.fin() && e.lastSeq == e.startSeq+1:
		e.updateLastSeq(last) // only SYN and FIN seen of a >2 GB connection
	case e.state == Reset:
	case dl > 0:
		e.updateLastSeq(last)
	case s.plen > 0:
		c.scaledLetter(d, &e.rxmt, 'T')
		c.x.rexmitZeek = true
	}
	return dl
}
