package reasm

import (
	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

// seg is a buffered piece of one direction: n bytes at seq, captured in
// data, or with data nil a range the capture's snap length cut off (known
// to be missing).
type seg struct {
	seq  seqnum.Value
	n    uint32
	data []byte
	at   app.Pos // frame that carried it
}

func (s *seg) end() seqnum.Value { return s.seq.Add(seqnum.Size(s.n)) }

// charge is what the piece costs against MaxBuffered: the memory it holds.
func (s *seg) charge() int { return cap(s.data) + segOverhead }

// insert buffers the bytes [seq, seq+wire), of which payload is the captured
// prefix, where nothing is buffered yet: the first copy of a range wins.
// Where the new bytes overlap buffered ones they are compared. seq lies
// after next.
func (h *half) insert(seq seqnum.Value, payload []byte, wire int, at app.Pos) {
	end := seq.Add(seqnum.Size(wire))
	capEnd := seq.Add(seqnum.Size(len(payload)))
	// The first buffered piece ending after seq (pieces are sorted and lie
	// within maxWindow of next, so offsets from next order them).
	off := seq.Sub(h.next)
	i, j := 0, len(h.segs)
	for i < j {
		m := int(uint(i+j) >> 1)
		if h.segs[m].end().Sub(h.next) <= off {
			i = m + 1
		} else {
			j = m
		}
	}
	// Walk the overlapped pieces, collecting the uncovered ranges (with
	// the index of the piece they go before) and comparing the covered.
	type span struct {
		from, to seqnum.Value
		before   int
	}
	var spansBuf [4]span
	spans := spansBuf[:0]
	pos, mismatch, k := seq, false, i
	for ; k < len(h.segs) && h.segs[k].seq.LessThan(end); k++ {
		s := &h.segs[k]
		if pos.LessThan(s.seq) {
			spans = append(spans, span{pos, s.seq, k})
		}
		lo, hi := seqnum.Max(pos, s.seq), minSeq(end, s.end())
		h.st.Retransmitted += int64(hi.Sub(lo))
		if chi := minSeq(hi, capEnd); s.data != nil && lo.LessThan(chi) && !mismatch {
			old := s.data[lo.Sub(s.seq):][:chi.Sub(lo)]
			new := payload[lo.Sub(seq):][:chi.Sub(lo)]
			if string(old) != string(new) {
				mismatch = true // reported once per segment
				h.inconsistent(at, lo, old, new)
			}
		}
		pos = seqnum.Max(pos, s.end())
	}
	if pos.LessThan(end) {
		spans = append(spans, span{pos, end, k})
	}
	if len(spans) == 0 {
		return
	}
	// Each new piece gets its own copy, so that what stays buffered is
	// exactly what is charged; the cut part of each range becomes a
	// known-missing piece.
	pieces := h.scratch[:0]
	var beforeBuf [8]int
	before := beforeBuf[:0]
	for _, sp := range spans {
		if hi := minSeq(sp.to, capEnd); sp.from.LessThan(hi) {
			n := int(hi.Sub(sp.from))
			d := newPiece(n)
			copy(d, payload[sp.from.Sub(seq):])
			pieces = append(pieces, seg{seq: sp.from, n: uint32(n), data: d, at: at})
			before = append(before, sp.before)
		}
		if lo := seqnum.Max(sp.from, capEnd); lo.LessThan(sp.to) {
			n := sp.to.Sub(lo)
			h.st.TruncatedBytes += int64(n)
			pieces = append(pieces, seg{seq: lo, n: uint32(n), at: at})
			before = append(before, sp.before)
		}
	}
	h.place(pieces, before)
	for k := range pieces {
		h.cost += pieces[k].charge()
		pieces[k] = seg{}
	}
	h.scratch = pieces[:0]
}

// place inserts pieces, sorted, each before the buffered piece whose
// original index is in before, moving the tail once.
func (h *half) place(pieces []seg, before []int) {
	n, m := len(h.segs), len(pieces)
	for range m {
		h.segs = append(h.segs, seg{})
	}
	w, r := n+m-1, n-1
	for k := m - 1; k >= 0; k-- {
		for r >= before[k] {
			h.segs[w] = h.segs[r]
			w, r = w-1, r-1
		}
		h.segs[w] = pieces[k]
		w--
	}
}

// enforce gives up the oldest holes while the buffer is over its cap.
func (h *half) enforce(at app.Pos) {
	for h.cost > h.c.maxBuf && len(h.segs) > 0 {
		h.st.OverflowGaps++
		h.gap(int64(h.segs[0].seq.Sub(h.next)), at)
		h.drain(app.Pos{})
	}
	h.st.PeakBuffered = max(h.st.PeakBuffered, h.cost)
}

// trimAfter drops buffered bytes at or after seq (the FIN).
func (h *half) trimAfter(seq seqnum.Value) {
	off := seq.Sub(h.next)
	for k := len(h.segs) - 1; k >= 0; k-- {
		s := &h.segs[k]
		if s.end().Sub(h.next) <= off {
			break
		}
		h.st.OutOfWindow++
		h.cost -= s.charge()
		if s.seq.Sub(h.next) >= off {
			freePiece(s.data)
			*s = seg{}
			h.segs = h.segs[:k]
			continue
		}
		s.n = uint32(seq.Sub(s.seq))
		if s.data != nil {
			s.data = s.data[:s.n]
		}
		h.cost += s.charge()
	}
}
