package conn

import (
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
)

// updateStateMachine is TCPSessionAdapter::UpdateStateMachine and its
// Update*State helpers; isOrig is the sender's role when the packet
// arrived, as Zeek passes it.
func (tr *Tracker) updateStateMachine(c *connState, d flow.Dir, isOrig bool, s *seg, deltaLast int32) (doClose, genEvent bool) {
	tc := &c.tcp
	e, peer := &tc.ep[d], &tc.ep[d.Reverse()]
	pd := d.Reverse()
	switch e.state {
	case Inactive:
		if s.syn() {
			if isOrig {
				if s.ack_() {
					tr.setState(c, d, SYNACKSent) // weird connection_originator_SYN_ack
				} else {
					tr.setState(c, d, SYNSent)
				}
				if tr.opt.TCPAttemptDelay > 0 {
					tr.schedule(c, tAttempt, tr.now+capture.Time(tr.opt.TCPAttemptDelay))
				}
			} else {
				if !s.ack_() && peer.state == SYNACKSent && s.seq == e.startSeq {
					// SYN/SYN-ACK reversal: the SYN-ACK was captured first.
					tc.isPartial = false
					c.flipRoles()
					tr.setState(c, pd, Established)
					tc.firstPacketSeen |= 1
				}
				if peer.state == SYNSent {
					tr.setState(c, pd, Established)
				}
				tr.setState(c, d, Established)
				if peer.state != Partial {
					c.establishedEvent = true
				}
			}
		}
		if s.fin() {
			tr.setState(c, d, Closed)
			doClose, genEvent = true, true
		}
		if s.rst() {
			tr.setState(c, d, Reset)
			reject := false
			if isOrig {
				reject = peer.state == Established // a reverse scan
			} else {
				reject = peer.state == SYNSent || peer.state == SYNACKSent
			}
			doClose, genEvent = true, !reject
		}
		if e.state == Inactive {
			switch {
			case !isOrig && s.plen == 0 && tc.ep[c.origDir].state == SYNSent:
				// An ACK of the SYN before the SYN-ACK: not partial.
			case s.ack_() && peer.state == Established:
				// Missed the SYN but saw the SYN-ACK: established.
				tr.setState(c, d, Established)
				tc.isPartial = false
				if isOrig {
					tc.firstPacketSeen |= 1
				} else {
					tc.firstPacketSeen |= 2
				}
			default:
				tr.setState(c, d, Partial)
			}
		}
	case SYNSent, SYNACKSent:
		if s.fin() {
			tr.setState(c, d, Closed)
			doClose, genEvent = true, true
		}
		if s.rst() {
			tr.setState(c, d, Reset)
			tc.isActive = false // ConnectionReset
			doClose = true
		}
	case Established, Partial:
		if s.syn() && e.state == Partial && peer.state == Inactive && !s.ack_() {
			tr.setState(c, d, SYNSent) // weird SYN_after_partial
		}
		if s.fin() && !s.rst() {
			tr.setState(c, d, Closed)
			if peer.state == Reset && peer.prevState == Closed {
				tr.setState(c, pd, Closed) // FIN, RST, then the peer's FIN: a normal close
			}
			doClose, genEvent = true, true
		}
		if s.rst() {
			tr.setState(c, d, Reset)
			doClose = true
			if peer.state != Reset || peer.prevState != Established {
				tc.isActive = false
			}
		}
	case Closed:
		if s.rst() && peer.state != Closed {
			tr.setState(c, d, Reset)
			if !e.didClose {
				doClose = true
			}
		}
	}
	return doClose, genEvent
}

// connectionClosed is TCPSessionAdapter::ConnectionClosed for host d.
func (tr *Tracker) connectionClosed(c *connState, d flow.Dir, genEvent bool) {
	tc := &c.tcp
	e, peer := &tc.ep[d], &tc.ep[d.Reverse()]
	if c.dataPending(d) {
		tc.closeDeferred = true
		if !tc.deferredGenEvent {
			tc.deferredGenEvent = genEvent
		}
		return
	}
	tc.closeDeferred = false
	if e.didClose {
		return
	}
	e.didClose = true
	if e.state == Reset || peer.didClose || peer.state == Inactive {
		if e.prevState != Inactive || peer.state != Inactive {
			if tc.deferredGenEvent {
				genEvent = true
				tc.deferredGenEvent = false
			}
			if genEvent {
				tc.isActive = false
			}
		}
		tr.cancelAnalyzerTimers(c)
		tr.schedule(c, tDelete, c.lastTime+capture.Time(tr.opt.TCPCloseDelay))
	} else if e.prevState != Inactive {
		tr.schedule(c, tExpire, c.lastTime+capture.Time(tr.opt.TCPSessionTimer))
	}
}

// expireTimer is TCPSessionAdapter::ExpireTimer.
func (tr *Tracker) expireTimer(c *connState, t capture.Time) {
	tc := &c.tcp
	if !tc.isActive {
		return
	}
	o, r := &tc.ep[c.origDir], &tc.ep[c.origDir.Reverse()]
	if c.lastTime+capture.Time(tr.opt.TCPConnectionLinger) < t {
		if o.didClose || r.didClose {
			if o.didClose && r.didClose || o.state == Reset || r.state == Reset || o.state == Inactive || r.state == Inactive {
				tc.isActive = false
				tr.remove(c, EndLinger)
				return
			}
		}
		if o.state == Inactive && r.state == Inactive {
			tr.remove(c, EndLinger)
			return
		}
	}
	tr.schedule(c, tExpire, t+capture.Time(tr.opt.TCPSessionTimer))
}

// attemptTimer is TCPSessionAdapter::AttemptTimer: an unanswered attempt.
func (tr *Tracker) attemptTimer(c *connState) {
	tc := &c.tcp
	if !tc.isActive {
		return
	}
	o, r := &tc.ep[c.origDir], &tc.ep[c.origDir.Reverse()]
	if (o.state == SYNSent || o.state == SYNACKSent) && r.state == Inactive {
		tc.isActive = false
		tr.remove(c, EndAttempt)
	}
}

// tcpState is conn_state() of base/protocols/conn/main.zeek for TCP.
func (c *connState) tcpState() State {
	o, r := &c.tcp.ep[c.origDir], &c.tcp.ep[c.origDir.Reverse()]
	oIn := o.state == Inactive || o.state == Partial
	rIn := r.state == Inactive || r.state == Partial
	switch {
	case r.state == Reset:
		if o.state == SYNSent || o.state == SYNACKSent || o.state == Reset && o.size(r) == 0 && r.size(o) == 0 {
			return REJ
		}
		if oIn {
			return RSTRH
		}
		return RSTR
	case o.state == Reset:
		if rIn {
			if rstos0(c.history) {
				return RSTOS0
			}
			return OTH
		}
		return RSTO
	case o.state == Closed && r.state == Closed:
		return SF
	case o.state == Closed:
		if rIn {
			return SH
		}
		return S2
	case r.state == Closed:
		if oIn {
			return SHR
		}
		return S3
	case o.state == SYNSent && r.state == Inactive:
		return S0
	case o.state == Established && r.state == Established:
		return S1
	}
	return OTH
}

// rstos0 matches Zeek's /^?S[^HAFGIQ]*R.*/ against the whole history.
func rstos0(h []byte) bool {
	if len(h) > 0 && h[0] == '^' {
		h = h[1:]
	}
	if len(h) == 0 || h[0] != 'S' {
		return false
	}
	for _, b := range h[1:] {
		switch b {
		case 'R':
			return true
		case 'H', 'A', 'F', 'G', 'I', 'Q':
			return false
		}
	}
	return false
}
