package reasm

import (
	"slices"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

// flushAll delivers every buffered piece, declaring the holes between them
// (and before a FIN already seen) missing.
func (h *half) flushAll(at app.Pos) {
	for len(h.segs) > 0 {
		if s := h.segs[0].seq; s != h.next {
			h.gap(int64(s.Sub(h.next)), at)
		}
		h.drain(app.Pos{})
	}
	if h.finSeen && h.next.LessThan(h.finSeq) {
		h.gap(int64(h.finSeq.Sub(h.next)), at)
	}
	h.drain(app.Pos{})
}

// drain delivers the buffered pieces that are now in order, closes the
// direction when its FIN comes up, and reports a pending gap. The pieces
// are delivered at, the frame that put them in order (as Wireshark shows
// a PDU in the frame that completes it): a response whose hole a
// retransmission fills is complete only then. A zero at keeps each
// piece's own frame, for pieces that follow a hole given up rather than
// filled (acknowledged unseen, over the buffer cap, flushed at RST or the
// end): nothing in the capture says when they became complete, and the
// giving up must not date them.
func (h *half) drain(at app.Pos) {
	k, next := 0, h.next
	for k < len(h.segs) && h.segs[k].seq == next {
		next = h.segs[k].end()
		k++
	}
	if k > 0 {
		h.pop(k, at)
	}
	if h.finSeen && !h.closed && h.next == h.finSeq {
		h.flush()
		h.closed, h.st.Closed = true, true
		h.c.stream.Close(h.side, false, h.finAt)
		h.release()
	}
	h.flush()
}

// pop delivers the first k buffered pieces, which are contiguous from next,
// at (see drain).
func (h *half) pop(k int, at app.Pos) {
	for i := range k {
		s := &h.segs[i]
		pos := at
		if pos.Frame == 0 {
			pos = s.at
		}
		if s.data == nil {
			h.gap(int64(s.n), pos)
		} else {
			h.bytes(s.data, pos)
		}
		h.cost -= s.charge()
		freePiece(s.data)
		*s = seg{}
	}
	// Popping from the front re-slices (append reallocates once the
	// space behind runs out), so a full buffer drained one piece at a
	// time costs O(1) per piece.
	h.segs = h.segs[k:]
	n := len(h.segs)
	switch {
	case n == 0 && cap(h.segs) > 64:
		h.segs = nil // a burst of reordering is over: give its memory back
	case cap(h.segs) > 256 && 4*n < cap(h.segs):
		h.segs = slices.Clip(slices.Clone(h.segs))
	}
}

// bytes delivers b, the bytes at next.
func (h *half) bytes(b []byte, at app.Pos) {
	if len(b) == 0 {
		return
	}
	h.flush()
	h.c.stream.Bytes(h.side, b, at)
	h.used = true
	h.st.Delivered += int64(len(b))
	h.next = h.next.Add(seqnum.Size(len(b)))
	h.hist.add(b, h.next)
}

// gap declares the n bytes at next missing; consecutive gaps are reported
// as one by flush.
func (h *half) gap(n int64, at app.Pos) {
	if n <= 0 {
		return
	}
	if h.pendGap == 0 {
		h.pendAt = at
	}
	if h.gapTo != h.next || !h.used {
		h.gapFrom = h.next
	}
	h.pendGap += n
	h.used = true
	h.st.GapBytes += n
	h.next = h.next.Add(seqnum.Size(n))
	h.gapTo = h.next
	h.hist.forget(h.next)
}

// flush reports the pending gap.
func (h *half) flush() {
	if h.pendGap == 0 {
		return
	}
	n := h.pendGap
	h.pendGap = 0
	h.st.Gaps++
	h.c.stream.Gap(h.side, n, h.pendAt)
}

// inconsistent records bytes that differ from the first copy of their range.
func (h *half) inconsistent(at app.Pos, seq seqnum.Value, old, new []byte) {
	if h.st.Inconsistencies == 0 {
		h.st.FirstInconsistency = at
	}
	h.st.Inconsistencies++
	if f := h.c.opt.OnInconsistency; f != nil {
		f(h.side, at, seq, old, new)
	}
}

// release frees the direction's buffers.
func (h *half) release() {
	for i := range h.segs {
		h.cost -= h.segs[i].charge()
		freePiece(h.segs[i].data)
	}
	h.segs, h.scratch = nil, nil
	h.hist.release()
}
