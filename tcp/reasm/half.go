package reasm

import (
	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

// half is one direction of a connection, seen as its receiver sees the
// sender's sequence space (RFC 9293 §3.3.1): next is RCV.NXT.
type half struct {
	c    *Conn
	side app.Side

	init   bool         // next is known
	next   seqnum.Value // first sequence number neither delivered nor declared missing
	high   seqnum.Value // end of the furthest data seen
	used   bool         // something was delivered or declared missing: the start is fixed
	closed bool
	// synSent: the sender's SYN was seen; synced: it has since sent a
	// segment with ACK, so it is past SYN-SENT and may have sent data.
	synSent, synced bool

	finSeen bool
	finSeq  seqnum.Value // sequence number the FIN occupies
	finAt   app.Pos

	peerAck    seqnum.Value // highest acknowledgment the other side sent for this direction
	hasPeerAck bool

	segs    []seg // out-of-order pieces: sorted, disjoint, all after next
	cost    int   // what segs are charged against MaxBuffered
	scratch []seg

	hist           history
	gapFrom, gapTo seqnum.Value // the last range declared missing, to recognise late copies

	pendGap int64 // missing bytes not yet reported: consecutive holes make one Gap
	pendAt  app.Pos

	st Stats
}

// segment handles one segment sent by this direction's sender.
func (h *half) segment(seq seqnum.Value, flags uint8, payload []byte, wire int, at app.Pos) {
	if flags&header.FlagSYN != 0 {
		h.syn(seq)
		seq++ // data on a SYN starts after it
	}
	if flags&header.FlagRST != 0 {
		// A RST's payload is diagnostic text, not stream data (RFC 9293
		// §3.5.3); Wireshark's follow shows it, Zeek does not.
		h.st.RSTData += int64(wire)
		h.reset(at)
		return
	}
	fin := flags&header.FlagFIN != 0
	if wire == 0 && !fin {
		return // a pure ACK (or a zero-length keep-alive) carries nothing for this direction
	}
	if h.closed {
		h.afterClose(seq, wire)
		return
	}
	if !h.init {
		h.start(seq, wire)
	}
	// A keep-alive repeats the byte before next (RFC 9293 §3.8.4), often
	// as garbage: it must not be compared with, or delivered as, data.
	if wire == 1 && !fin && flags&header.FlagSYN == 0 && seq+1 == h.next {
		h.st.KeepAlives++
		return
	}
	if wire > 0 {
		h.data(seq, payload, wire, at)
	}
	if fin {
		h.fin(seq.Add(seqnum.Size(wire)), at)
	}
	h.drain(at)
}

// syn sets the initial sequence number, unless the stream has started: a
// retransmitted SYN changes nothing, and a SYN with a new ISN on a used
// 4-tuple is a new connection for the caller to track.
func (h *half) syn(isn seqnum.Value) {
	if h.used || len(h.segs) > 0 || h.closed {
		return
	}
	h.init, h.next, h.high = true, isn+1, isn+1
	h.synSent = true
	h.hist.forget(h.next)
}

// start sets next from the first segment of a capture that began
// mid-connection. A first segment of one byte that the other side has
// already acknowledged is a keep-alive, not the start of the data.
func (h *half) start(seq seqnum.Value, wire int) {
	h.init, h.next, h.high = true, seq, seq
	if wire == 1 && h.hasPeerAck && h.peerAck == seq+1 {
		h.next, h.high = seq+1, seq+1
		h.used = true
	}
	h.hist.forget(h.next)
}

// afterClose accounts for a segment that follows the close.
func (h *half) afterClose(seq seqnum.Value, wire int) {
	if wire == 0 {
		return
	}
	if seq.LessThan(h.next) {
		old := min(int(h.next.Sub(seq)), wire)
		h.st.Retransmitted += int64(old)
		h.st.Unchecked += int64(old)
		wire -= old
	}
	if wire > 0 {
		h.st.OutOfWindow++
	}
}

// data handles the bytes [seq, seq+wire) of which payload is the captured
// prefix.
func (h *half) data(seq seqnum.Value, payload []byte, wire int, at app.Pos) {
	end := seq.Add(seqnum.Size(wire))
	if end.GreaterThan(h.high) && end.Sub(h.next) < maxWindow {
		h.high = end
	}
	if seq.LessThan(h.next) {
		old := wire
		if end.GreaterThan(h.next) {
			old = int(h.next.Sub(seq))
		}
		k := min(old, len(payload))
		h.old(seq, payload[:k], old, at)
		if old == wire {
			return
		}
		payload, wire, seq = payload[k:], wire-old, h.next
	}
	if seq.Sub(h.next) >= maxWindow {
		h.st.OutOfWindow++
		return
	}
	if h.finSeen {
		if !seq.LessThan(h.finSeq) {
			h.st.OutOfWindow++
			return
		}
		if end.GreaterThan(h.finSeq) {
			h.st.OutOfWindow++
			wire = int(h.finSeq.Sub(seq))
			payload = payload[:min(len(payload), wire)]
		}
	}
	if seq == h.next {
		// In order: deliver straight from the packet up to the first
		// buffered piece (all of it, in the usual case of no holes).
		direct := wire
		if len(h.segs) > 0 {
			direct = min(direct, int(h.segs[0].seq.Sub(seq)))
		}
		k := min(direct, len(payload))
		h.bytes(payload[:k], at)
		if cut := direct - k; cut > 0 {
			h.st.TruncatedBytes += int64(cut)
			h.gap(int64(cut), at)
		}
		if direct == wire {
			return
		}
		payload, wire, seq = payload[k:], wire-direct, h.next
	}
	h.insert(seq, payload, wire, at)
	h.enforce(at)
}

// old handles n bytes at seq that lie before next: delivered or declared
// missing already. data is their captured part.
func (h *half) old(seq seqnum.Value, data []byte, n int, at app.Pos) {
	h.st.Retransmitted += int64(n)
	end := seq.Add(seqnum.Size(n))
	if lo, hi := seqnum.Max(seq, h.gapFrom), minSeq(end, h.gapTo); lo.LessThan(hi) {
		h.st.LateBytes += int64(hi.Sub(lo))
	}
	checked := 0
	lo := seqnum.Max(seq, h.hist.first())
	hi := minSeq(seq.Add(seqnum.Size(len(data))), h.hist.end)
	if lo.LessThan(hi) {
		k := int(hi.Sub(lo))
		a, b := h.hist.get(lo, k)
		nb := data[lo.Sub(seq):][:k]
		if !equal2(a, b, nb) {
			h.inconsistent(at, lo, append(append([]byte(nil), a...), b...), nb)
		}
		checked = k
	}
	h.st.Unchecked += int64(len(data) - checked)
}

// ack handles the other side's acknowledgment of this direction: bytes it
// covers were received, so a hole below it was lost by the capture, not by
// the network, and will not be filled.
//
// Any forward distance is believed, not just a window's worth: captures
// filtered down to a few packets of a long transfer (Zeek's
// ftp-bigtransfer.pcap) acknowledge gigabytes at a time, and tshark follows
// them there too. A forged acknowledgment can therefore stop the stream;
// LateBytes then shows the data that kept coming.
func (h *half) ack(a seqnum.Value, at app.Pos) {
	if !h.hasPeerAck || a.GreaterThan(h.peerAck) {
		h.peerAck, h.hasPeerAck = a, true
	}
	if !h.init || h.closed {
		return
	}
	if h.synSent && !h.synced {
		// A sender still in SYN-SENT has sent no data: an ACK beyond its
		// SYN is about another connection, such as the challenge ACK of a
		// 4-tuple still in TIME_WAIT (RFC 9293 §3.10.7.4).
		return
	}
	lim := a
	switch {
	case h.finSeen:
		if lim.GreaterThan(h.finSeq) {
			lim = h.finSeq
		}
	case lim == h.next+1 && lim.GreaterThan(h.high):
		// One sequence number beyond everything seen is more likely a
		// FIN the capture missed (as at the end of
		// tls12-chacha20poly1305.pcap) than a one-byte segment: not a
		// gap. (A longer hole is all taken as bytes, one too many if
		// the FIN was lost with them.)
		lim--
	}
	if !lim.GreaterThan(h.next) {
		return
	}
	for h.next.LessThan(lim) {
		if len(h.segs) > 0 && h.segs[0].seq == h.next {
			h.drain(app.Pos{})
			continue
		}
		hole := lim
		if len(h.segs) > 0 && h.segs[0].seq.LessThan(lim) {
			hole = h.segs[0].seq
		}
		n := int64(hole.Sub(h.next))
		h.st.AckedGapBytes += n
		h.gap(n, at)
	}
	h.drain(app.Pos{})
}

// fin records the FIN at seq; it closes the direction once everything
// before it is delivered or declared missing.
func (h *half) fin(seq seqnum.Value, at app.Pos) {
	if h.finSeen {
		return // a retransmission; a FIN that moved is ignored
	}
	if seq.LessThan(h.next) {
		seq = h.next // behind data already delivered: close now
	}
	h.finSeen, h.finSeq, h.finAt = true, seq, at
	h.trimAfter(seq)
}

// reset closes the direction on RST: no more data can be accepted, so
// every hole is given up.
func (h *half) reset(at app.Pos) {
	if h.closed {
		return
	}
	h.flushAll(at)
	if h.closed {
		return // a FIN seen before the RST closed it
	}
	h.closed, h.st.Closed, h.st.Reset = true, true, true
	h.c.stream.Close(h.side, true, at)
	h.release()
}

func minSeq(a, b seqnum.Value) seqnum.Value {
	if a.LessThan(b) {
		return a
	}
	return b
}

// equal2 reports whether a followed by b equals c.
func equal2(a, b, c []byte) bool {
	return len(a)+len(b) == len(c) && string(a) == string(c[:len(a)]) && string(b) == string(c[len(a):])
}
