package conn

import (
	"github.com/wiresleuth/wiresleuth/flow"
)

// tcpConn is the TCP part of a connection (Zeek's TCPSessionAdapter).
type tcpConn struct {
	ep               [2]tcpEndpoint // by host (flow direction of its packets)
	firstPacketSeen  uint8          // 1: orig's, 2: resp's (swapped on a flip)
	isPartial        bool
	isActive         bool
	closeDeferred    bool
	deferredGenEvent bool
}

// tcpEndpoint is one side's sequence-space state (Zeek's TCP_Endpoint).
// Sequence positions beyond 32 bits are wraps·2³² + value, as in
// TCP_Endpoint::ToRelativeSeqSpace.
type tcpEndpoint struct {
	state, prevState          EndpointState
	startSeq, lastSeq, ackSeq uint32
	seqWraps, ackWraps        uint64
	finCnt, rstCnt            uint32
	finSeq                    uint64 // relative position just after the FIN
	didClose                  bool
	histLastSYN, histLastFIN  uint64
	histLastRST               uint64
	chk, rxmt, win0, gap      scaled
	r                         reassembler
}

func (e *tcpEndpoint) reset() {
	blocks := e.r.blocks[:0]
	*e = tcpEndpoint{}
	e.r.blocks = blocks
	e.r.lastReassem, e.r.trimSeq = 1, 1
}

// toRel is TCP_Endpoint::ToRelativeSeqSpace.
func (e *tcpEndpoint) toRel(seq uint32, wraps uint64) uint64 {
	return wraps<<32 + uint64(seq) - uint64(e.startSeq)
}

// noDataAcked is TCP_Endpoint::NoDataAcked.
func (e *tcpEndpoint) noDataAcked() bool {
	ack := e.ackWraps<<32 + uint64(e.ackSeq)
	return ack == uint64(e.startSeq) || ack == uint64(e.startSeq)+1
}

// isClean is TCP_Reassembler's established_or_cleanly_closing.
func (e *tcpEndpoint) isClean() bool {
	return e.state == Established || e.state == Closed && e.prevState == Established
}

// updateLastSeq and updateAckSeq count a wrap whenever the value goes
// numerically backwards (TCP_Endpoint::UpdateLastSeq, UpdateAckSeq).
func (e *tcpEndpoint) updateLastSeq(seq uint32) {
	if seq < e.lastSeq {
		e.seqWraps++
	}
	e.lastSeq = seq
}

func (e *tcpEndpoint) updateAckSeq(seq uint32) {
	if seq < e.ackSeq {
		e.ackWraps++
	}
	e.ackSeq = seq
}

// size is TCP_Endpoint::Size: the bytes this side sent, from sequence
// numbers and the peer's ACKs, minus the SYN and FIN octets.
func (e *tcpEndpoint) size(peer *tcpEndpoint) uint64 {
	if e.prevState == SYNSent && e.state == Reset && peer.state == Inactive && !e.noDataAcked() {
		return 0
	}
	last := e.seqWraps<<32 + uint64(e.lastSeq)
	ack := e.ackWraps<<32 + uint64(e.ackSeq)
	size := max(last, ack) - uint64(e.startSeq)
	if size != 0 {
		size--
	}
	if e.finCnt > 0 && size != 0 {
		size--
	}
	return size
}

// setState is TCP_Endpoint::SetState: leaving the handshake while both
// sides were in it switches the connection to tcp_inactivity_timeout.
func (tr *Tracker) setState(c *connState, d flow.Dir, s EndpointState) {
	e, peer := &c.tcp.ep[d], &c.tcp.ep[d.Reverse()]
	if s == e.state {
		return
	}
	if !inHandshake(s) && inHandshake(e.state) && inHandshake(peer.state) {
		tr.setInactivityTimeout(c, int64(tr.opt.TCPInactivity))
	}
	e.prevState = e.state
	e.state = s
}

func inHandshake(s EndpointState) bool { return s == Inactive || s == SYNSent || s == SYNACKSent }

// tcpCheckHistory is TCP_Endpoint::CheckHistory: before the first A or D,
// a history of exactly "H" (a SYN-ACK taken as the originator's) flips the
// roles and becomes "^h".
func (tr *Tracker) tcpCheckHistory(c *connState, d flow.Dir, mask uint32, code byte) bool {
	if (code == 'A' || code == 'D') && len(c.history) == 1 && c.history[0] == 'H' {
		c.flipRoles()
		c.history = append(c.history[:0], '^', 'h')
		c.tcp.firstPacketSeen |= 1
	}
	if !c.isOrig(d) {
		mask <<= 16
		code += 'a' - 'A'
	}
	return c.checkHistory(mask, code)
}

// scaledLetter records one event of a scaled letter for host d.
func (c *connState) scaledLetter(d flow.Dir, s *scaled, code byte) {
	if s.event() {
		c.addHistory(c.letter(d, code))
	}
}
