package reasm

import "github.com/wiresleuth/wiresleuth/seqnum"

// history keeps the most recently delivered bytes of one direction, a ring
// of at most max bytes ending at sequence number end, so that a later copy
// of them can be compared with what was delivered. It grows with the stream
// (short connections stay small) and then stops allocating.
type history struct {
	buf  []byte
	max  int
	head int          // where the next byte goes in buf
	n    int          // valid bytes, contiguous, ending at end
	end  seqnum.Value // sequence number just after the last byte kept
}

// minHistory is the first allocation: most segments of small exchanges fit.
const minHistory = 512

// add appends b, whose last byte precedes end.
func (h *history) add(b []byte, end seqnum.Value) {
	if h.max == 0 {
		return
	}
	if h.n > 0 && h.end != end-seqnum.Value(len(b)) {
		h.n = 0 // not contiguous with what is kept
	}
	h.end = end
	if need := h.n + len(b); need > len(h.buf) && len(h.buf) < h.max {
		h.grow(need)
	}
	if len(b) >= len(h.buf) {
		copy(h.buf, b[len(b)-len(h.buf):])
		h.head, h.n = 0, len(h.buf)
		return
	}
	k := copy(h.buf[h.head:], b)
	copy(h.buf, b[k:])
	h.head = (h.head + len(b)) % len(h.buf)
	h.n = min(h.n+len(b), len(h.buf))
}

// grow enlarges the ring, keeping its contents in order: a small ring
// first (most exchanges are short), then the full size.
func (h *history) grow(need int) {
	size := h.max
	if len(h.buf) == 0 && need <= minHistory {
		size = min(minHistory, h.max)
	}
	nb := newRing(size)
	a, b := h.tail(h.n)
	k := copy(nb, a)
	k += copy(nb[k:], b)
	freeRing(h.buf)
	h.buf, h.head = nb, k%size
}

// tail returns the last k kept bytes as at most two slices, in order.
func (h *history) tail(k int) (a, b []byte) {
	if k == 0 {
		return nil, nil
	}
	start := h.head - k
	if start >= 0 {
		return h.buf[start:h.head], nil
	}
	return h.buf[len(h.buf)+start:], h.buf[:h.head]
}

// forget drops what is kept: the bytes before end were not delivered (a gap).
func (h *history) forget(end seqnum.Value) { h.n, h.end = 0, end }

// first is where the kept range [first, end) starts.
func (h *history) first() seqnum.Value { return h.end - seqnum.Value(h.n) }

// get returns the kept bytes for [from, from+k), which must lie within
// [first(), end), as at most two slices.
func (h *history) get(from seqnum.Value, k int) (a, b []byte) {
	back := int(h.end.Sub(from)) // bytes from from to end
	a, b = h.tail(back)
	// Cut to k bytes from the start.
	if k <= len(a) {
		return a[:k], nil
	}
	return a, b[:k-len(a)]
}

// release frees the ring.
func (h *history) release() {
	freeRing(h.buf)
	h.buf, h.head, h.n = nil, 0, 0
}
