package tcp

// unacked is one direction's list of segments not yet acknowledged, oldest
// first, with tshark's semantics but without its cost: tshark walks the
// whole list on every ACK and every data segment, which is quadratic in a
// bulk transfer's window. While the segments are ascending and do not
// overlap (no retransmission or reordering inside the window), the oldest
// segments are the only ones an ACK can touch and the ends of the list
// give the bytes in flight, so both take constant time; otherwise the full
// walk runs, and it notices when the list is in order again.
type unacked struct {
	segs   []segment
	start  int  // segs[start:] is the live list
	sorted bool // segs[start:] ascending and non-overlapping
}

func (u *unacked) live() []segment { return u.segs[u.start:] }
func (u *unacked) len() int        { return len(u.segs) - u.start }

func (u *unacked) reset() {
	u.segs, u.start, u.sorted = u.segs[:0], 0, true
}

func (u *unacked) push(s segment) {
	if n := len(u.segs); n > u.start && lt(s.seq, u.segs[n-1].nextseq) {
		u.sorted = false
	}
	if u.start > 0 && u.start >= len(u.segs)/2 {
		// Reclaim the consumed front before the backing array grows.
		n := copy(u.segs, u.segs[u.start:])
		u.segs = u.segs[:n]
		u.start = 0
	}
	u.segs = append(u.segs, s)
}

// ack applies an acknowledgment as tshark's walk does: a segment ending
// exactly at ack is acknowledged (the oldest such wins: its frame and
// time are returned), a segment ack falls inside is trimmed, older ones are
// dropped.
func (u *unacked) ack(ack uint32) (frame int64, sent int64, ok bool) {
	if u.sorted {
		live := u.live()
		i := 0
		for ; i < len(live) && le(live[i].nextseq, ack); i++ {
			if live[i].nextseq == ack {
				frame, sent, ok = live[i].frame, int64(live[i].ts), true
			}
		}
		u.start += i
		if u.start == len(u.segs) {
			u.reset()
			return
		}
		if s := &u.segs[u.start]; gt(ack, s.seq) && lt(ack, s.nextseq) {
			s.seq = ack
		}
		return
	}
	live := u.live()
	for i := len(live) - 1; i >= 0; i-- { // newest first, as tshark walks
		s := &live[i]
		switch {
		case ack == s.nextseq:
			frame, sent, ok = s.frame, int64(s.ts), true
		case gt(ack, s.seq) && le(ack, s.nextseq):
			s.seq = ack
			continue
		case gt(s.nextseq, ack):
			continue
		}
		s.frame = -1 // acknowledged or older: drop
	}
	j := u.start
	sorted := true
	for _, s := range live {
		if s.frame == -1 {
			continue
		}
		if j > u.start && lt(s.seq, u.segs[j-1].nextseq) {
			sorted = false
		}
		u.segs[j] = s
		j++
	}
	u.segs = u.segs[:j]
	u.sorted = sorted
	if j == u.start {
		u.reset()
	}
	return
}

// span returns the highest end minus the lowest start, both taken
// relative to base as unsigned numbers, as tshark computes bytes in flight.
func (u *unacked) span(base uint32) uint32 {
	live := u.live()
	newest := live[len(live)-1]
	first, last := newest.seq-base, newest.nextseq-base
	if u.sorted && live[0].seq-base <= first && first <= last {
		// In order and not wrapping around the relative space: the ends
		// are the extremes.
		return last - (live[0].seq - base)
	}
	for _, s := range live {
		if s.nextseq-base > last {
			last = s.nextseq - base
		}
		if s.seq-base < first {
			first = s.seq - base
		}
	}
	return last - first
}
