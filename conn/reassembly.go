package conn

import "github.com/wiresleuth/wiresleuth/flow"

// Zeek always reassembles both directions (dpd_reassemble_first_packets)
// and finds content gaps when ACKs pass over bytes it never saw
// (TCP_Reassembler::AckReceived → Undelivered → Gap). That is what writes
// G/g and missed_bytes, and what defers a close while data is pending. It
// needs only which byte ranges were captured, never the bytes: a
// reassembler here is a sorted list of disjoint ranges in relative
// sequence space (1 is the first byte after the SYN).

// maxBlocks caps the ranges one direction holds; beyond it the direction
// goes into skip mode as with Zeek's own limits.
const maxBlocks = 1024

type span struct{ lo, hi uint64 }

type reassembler struct {
	blocks      []span
	lastReassem uint64 // next byte to deliver
	trimSeq     uint64 // everything below was acknowledged and dropped
	skip        bool
	didEOF      bool
}

// insert adds [lo, hi), merging with what it touches.
func (r *reassembler) insert(lo, hi uint64) {
	b := r.blocks
	i := 0
	for i < len(b) && b[i].hi < lo {
		i++
	}
	j := i
	for j < len(b) && b[j].lo <= hi {
		lo, hi = min(lo, b[j].lo), max(hi, b[j].hi)
		j++
	}
	switch {
	case i == j:
		b = append(b, span{})
		copy(b[i+1:], b[i:])
		b[i] = span{lo, hi}
	default:
		b[i] = span{lo, hi}
		b = append(b[:i+1], b[j:]...)
	}
	r.blocks = b
}

func (r *reassembler) dataSize() uint64 {
	var n uint64
	for _, s := range r.blocks {
		n += s.hi - s.lo
	}
	return n
}

func (r *reassembler) numUndelivered() uint64 {
	if len(r.blocks) == 0 {
		return 0
	}
	return r.blocks[len(r.blocks)-1].hi - r.lastReassem
}

// deliverContig advances lastReassem over the ranges that reach it.
func (r *reassembler) deliverContig() {
	for _, s := range r.blocks {
		if s.lo > r.lastReassem {
			break
		}
		if s.hi > r.lastReassem {
			r.lastReassem = s.hi
		}
	}
}

func (r *reassembler) dropAll() {
	r.blocks = r.blocks[:0]
	r.skip = true
}

// dataSent is TCP_Reassembler::DataSent for host d's payload at relative
// sequence seq.
func (tr *Tracker) dataSent(c *connState, d flow.Dir, seq, n uint64) {
	e := &c.tcp.ep[d]
	r := &e.r
	if r.skip {
		return
	}
	ack := e.toRel(e.ackSeq, e.ackWraps)
	if seq < ack {
		if seq+n <= ack {
			return
		}
		n -= ack - seq
		seq = ack
	}
	tr.newBlock(c, d, seq, n)
	if e.noDataAcked() && tr.opt.MaxAboveHoleWithoutAnyAcks > 0 && r.numUndelivered() > uint64(tr.opt.MaxAboveHoleWithoutAnyAcks) {
		r.dropAll() // weird above_hole_data_without_any_acks
	}
	if tr.opt.ExcessiveDataWithoutFurtherAcks > 0 && r.dataSize() > uint64(tr.opt.ExcessiveDataWithoutFurtherAcks) {
		r.dropAll() // weird excessive_data_without_further_acks
	}
	if len(r.blocks) > maxBlocks {
		r.dropAll()
	}
}

// newBlock is Reassembler::NewBlock followed by BlockInserted.
func (tr *Tracker) newBlock(c *connState, d flow.Dir, seq, n uint64) {
	e := &c.tcp.ep[d]
	r := &e.r
	if n == 0 {
		return
	}
	upper := seq + n
	if upper <= r.trimSeq {
		return
	}
	if seq < r.trimSeq {
		seq = r.trimSeq
	}
	r.insert(seq, upper)
	r.deliverContig()
	if e.noDataAcked() && tr.opt.MaxInitialWindow > 0 && e.size(&c.tcp.ep[d.Reverse()]) > uint64(tr.opt.MaxInitialWindow) {
		tr.trimTo(c, d, r.lastReassem)
	}
}

// trimTo is Reassembler::TrimToSeq: report what was never delivered below
// seq, then drop it.
func (tr *Tracker) trimTo(c *connState, d flow.Dir, seq uint64) {
	r := &c.tcp.ep[d].r
	if seq > r.lastReassem {
		tr.undelivered(c, d, seq)
	}
	i := 0
	for i < len(r.blocks) && r.blocks[i].hi <= seq {
		i++
	}
	if i > 0 {
		r.blocks = append(r.blocks[:0], r.blocks[i:]...)
	}
	if len(r.blocks) > 0 && r.blocks[0].lo < seq {
		r.blocks[0].lo = seq
	}
	if len(r.blocks) > 0 && r.blocks[0].lo == r.lastReassem {
		r.deliverContig()
	}
	if seq > r.trimSeq {
		r.trimSeq = seq
	}
}

// undelivered is TCP_Reassembler::Undelivered: every hole below upTo is a
// content gap.
func (tr *Tracker) undelivered(c *connState, d flow.Dir, upTo uint64) {
	r := &c.tcp.ep[d].r
	if upTo <= 2 && c.tcp.isPartial {
		// The first ACK of a mid-stream connection or a keep-alive: no
		// gap, and lastReassem stays where it is.
		return
	}
	if !r.skip {
		for _, s := range r.blocks {
			if s.lo < r.lastReassem {
				continue
			}
			if s.lo >= upTo {
				break
			}
			tr.reportGap(c, d, s.lo-r.lastReassem)
			r.lastReassem = s.lo
			r.deliverContig()
		}
		if upTo > r.lastReassem {
			tr.reportGap(c, d, upTo-r.lastReassem)
		}
	}
	if upTo > r.lastReassem {
		r.lastReassem = upTo
	}
}

// reportGap is TCP_Reassembler::Gap: a G/g (scaled) when both endpoints are
// clean, and content_gap's length into missed_bytes.
func (tr *Tracker) reportGap(c *connState, d flow.Dir, n uint64) {
	e, peer := &c.tcp.ep[d], &c.tcp.ep[d.Reverse()]
	clean := e.isClean() && peer.isClean()
	if clean {
		c.scaledLetter(d, &e.gap, 'G')
	}
	if clean || tr.opt.ReportGapsForPartial {
		c.missedBytes += n
	}
}

// ackReceived is TCP_Reassembler::AckReceived for host d's data.
func (tr *Tracker) ackReceived(c *connState, d flow.Dir, seq uint64) {
	e := &c.tcp.ep[d]
	if e.finCnt > 0 && seq >= e.finSeq {
		seq = e.finSeq - 1 // the FIN octet is not data
	}
	if seq <= e.r.trimSeq {
		return
	}
	tr.trimTo(c, d, seq)
	tr.checkEOF(c, d)
}

// dataPending is TCP_Reassembler::DataPending.
func (c *connState) dataPending(d flow.Dir) bool {
	e, peer := &c.tcp.ep[d], &c.tcp.ep[d.Reverse()]
	if e.r.skip {
		return false
	}
	delivered := uint64(e.startSeq) + e.r.lastReassem
	last := e.seqWraps<<32 + uint64(e.lastSeq)
	if last < delivered {
		return false
	}
	if delivered != last-1 && delivered != last {
		return true
	}
	return e.state != Reset && len(peer.r.blocks) > 0
}

// checkEOF is TCP_Reassembler::CheckEOF.
func (tr *Tracker) checkEOF(c *connState, d flow.Dir) {
	e := &c.tcp.ep[d]
	if !e.r.didEOF && (e.finCnt > 0 || e.state == Closed || e.state == Reset) && !c.dataPending(d) {
		e.r.didEOF = true
		// TCPSessionAdapter::EndpointEOF: a deferred close completes now.
		if c.tcp.closeDeferred {
			tr.connectionClosed(c, d, c.tcp.deferredGenEvent)
			c.tcp.closeDeferred = false
		}
	}
}
