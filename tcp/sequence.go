package tcp

import (
	"github.com/wiresleuth/wiresleuth/capture"
)

// Sequence-space comparisons as tshark makes them (signed 32-bit difference).
func gt(a, b uint32) bool { return int32(b-a) < 0 }
func lt(a, b uint32) bool { return int32(a-b) < 0 }
func le(a, b uint32) bool { return int32(a-b) <= 0 }

// elapsed is now-then as tshark computes it, unsigned: a packet earlier
// than the reference (a capture out of time order) is "long after" it.
func elapsed(now, then capture.Time) uint64 { return uint64(now - then) }

// fastRetransmitWindow and the 3 ms out-of-order threshold are tshark's.
const (
	fastRetransmitWindow = 20e6 // ns
	oooThresholdNoRTT    = 3e6  // ns
)

// sequence is tshark 4.0's tcp_analyze_sequence_number: it sets ann's
// flags, dup-ACK, RTT, RTO and bytes-in-flight fields and updates both
// halves. It reports whether tshark would have created an analysis record
// for reasons other than the ones Analyze checks afterwards.
//
// The order of the checks and their exact conditions matter: see
// ../shared/peers/wireshark/TCP-ANALYSIS-RULES.md §1.2, whose step numbers
// the comments use.
func (a *Analyzer) sequence(c *conv, fwd, rev *half, ann *Annotation, frame int64, now capture.Time, seq, ack, seglen uint32, flags uint8, win uint32) bool {
	record := false
	if flags&thACK != 0 {
		rev.validBIF = true
	}
	ctl := flags&(thSYN|thFIN|thRST) != 0

	// Step 1: zero window probe; skips steps 2-9.
	if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
		ann.Flags |= ZeroWindowProbe
		goto finishedFwd
	}
	// Step 2: zero window.
	if win == 0 && !ctl {
		ann.Flags |= ZeroWindow
	}
	// Step 3: previous segment not captured (pure ACKs too, not RST).
	if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && flags&thRST == 0 {
		ann.Flags |= LostSegment
		fwd.validBIF = false
	}
	// Step 4: keep-alive.
	if (seglen == 0 || seglen == 1) && seq == fwd.nextseq-1 && !ctl {
		ann.Flags |= KeepAlive
	}
	// Step 5: window update.
	if seglen == 0 && win != 0 && win != fwd.window && seq == fwd.nextseq && ack == fwd.lastack && !ctl {
		ann.Flags |= WindowUpdate
	}
	// Step 6: window full, only once the receiver's scaling is known.
	if seglen > 0 && rev.winScale != -1 && !ctl {
		shift := uint32(0)
		if !rev.isFirstAck && rev.winScale >= 0 {
			shift = uint32(rev.winScale)
		}
		if seq+seglen == rev.lastack+(rev.window<<shift) {
			ann.Flags |= WindowFull
		}
	}
	// Step 7: keep-alive ACK.
	if seglen == 0 && win != 0 && win == fwd.window && seq == fwd.nextseq && ack == fwd.lastack && rev.lastFlags&KeepAlive != 0 && !ctl {
		ann.Flags |= KeepAliveAck
		goto finishedFwd
	}
	// Step 8: zero window probe ACK.
	if seglen == 0 && win == 0 && win == fwd.window && seq == fwd.nextseq && ack == fwd.lastack && rev.lastFlags&ZeroWindowProbe != 0 && !ctl {
		ann.Flags |= ZeroWindowProbeAck
		goto finishedFwd
	}
	// Step 9: duplicate ACK.
	if seglen == 0 && win != 0 && win == fwd.window && seq == fwd.nextseq && ack == fwd.lastack && !ctl {
		if fwd.dupacknum == 0xffffffff {
			fwd.dupacknum = 1
		} else {
			fwd.dupacknum++
		}
		ann.Flags |= DuplicateAck
		ann.DupAckNum = int(fwd.dupacknum)
		ann.DupAckFrame = fwd.lastNonDup
	}

finishedFwd:
	// Step 10: a new ACK value resets the dup-ACK counter.
	if ack != fwd.lastack {
		fwd.lastNonDup = frame
		fwd.dupacknum = 0
	}

	// Step 11: ACKed unseen segment.
	if rev.maxToAck != 0 && gt(ack, rev.maxToAck) && flags&thACK != 0 {
		record = true
		if lt(rev.maxToAck, rev.nextseq) {
			rev.maxToAck = rev.nextseq
			ann.Flags |= AckLostSegment
		} else {
			if rev.dupacknum == 0 {
				ann.Flags |= AckLostSegment
			}
			rev.dupacknum = 0xffffffff
		}
	}

	// Step 12: retransmission, fast retransmission, spurious, out of order.
	if seglen > 0 || flags&(thSYN|thFIN) != 0 {
		notAdvanced := fwd.nextseq != 0 && lt(seq, fwd.nextseq)
		if ann.Flags&KeepAlive != 0 {
			goto finishedRetransmission
		}
		if seglen > 1 && fwd.nextseq-1 == seq {
			notAdvanced = false // a zero window probe's byte, now with more data
		}
		if seglen > 0 && rev.lastack != 0 && le(seq+seglen, rev.lastack) {
			ann.Flags |= SpuriousRetransmission | Retransmission
			goto finishedRetransmission
		}
		// Fast retransmission is tried before out-of-order
		// (tcp.fastrt_supersedes_ooo, on by default).
		if notAdvanced && rev.dupacknum >= 2 && rev.lastack == seq && elapsed(now, rev.lastackTime) < fastRetransmitWindow {
			ann.Flags |= FastRetransmission | Retransmission
			goto finishedRetransmission
		}
		threshold := uint64(oooThresholdNoRTT)
		if c.firstRTT != 0 {
			threshold = uint64(c.firstRTT)
		}
		end := seq + seglen
		if flags&(thSYN|thFIN) != 0 {
			end++
		}
		if notAdvanced && elapsed(now, fwd.nextseqTime) < threshold && fwd.nextseq != end {
			ann.Flags |= OutOfOrder
			goto finishedRetransmission
		}
		if notAdvanced {
			ann.Flags |= Retransmission
			// The RTO is measured from the oldest segment still unacked,
			// or from the segment that set the highest sequence number.
			if fwd.segs.len() > 0 {
				oldest := fwd.segs.live()[0]
				ann.RTO, ann.RTOFrame = now.Sub(oldest.ts), oldest.frame
			} else {
				ann.RTO, ann.RTOFrame = now.Sub(fwd.nextseqTime), fwd.nextseqFrm
			}
		}
	}
finishedRetransmission:

	// Step 13: bookkeeping.
	nextseq := seq + seglen
	if (seglen > 0 || flags&(thSYN|thFIN) != 0) && fwd.segs.len() < maxUnacked {
		if flags&(thSYN|thFIN) != 0 {
			nextseq++
		}
		fwd.segs.push(segment{frame: frame, seq: seq, nextseq: nextseq, ts: now})
	}
	zwp := ann.Flags&ZeroWindowProbe != 0
	if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !zwp {
		fwd.nextseq, fwd.nextseqFrm, fwd.nextseqTime = nextseq, frame, now
	}
	if (seq == fwd.maxToAck || fwd.maxToAck == 0) && !zwp {
		fwd.maxToAck = fwd.nextseq
	}
	fwd.window = win
	fwd.lastack = ack
	fwd.lastackTime = now
	fwd.lastFlags = ann.Flags

	// ACK processing over the other side's unacked segments: an exact
	// match records acks_frame and the RTT, a partial ACK trims, older
	// segments are dropped.
	if frm, sent, ok := rev.segs.ack(ack); ok {
		ann.AcksFrame = frm
		ann.AckRTT = now.Sub(capture.Time(sent))
		record = true
	}

	// Bytes in flight: the span of this side's unacked payload, less what
	// the other side's last segment SACKed (tcp.bif_seq_based off).
	if seglen != 0 && fwd.segs.len() > 0 && fwd.validBIF {
		inFlight := fwd.segs.span(fwd.baseSeq) - rev.sackSum
		if inFlight > 0 && inFlight < 2000000000 {
			ann.BytesInFlight = int64(inFlight)
			if flags&(thSYN|thFIN) != 0 {
				ann.BytesInFlight--
			}
		}
		switch {
		case flags&thPSH != 0 && !fwd.pushLast:
			fwd.pushBytes += seglen
			fwd.pushLast = true
		case flags&thPSH != 0:
			fwd.pushBytes = seglen
		case fwd.pushLast:
			fwd.pushBytes = seglen
			fwd.pushLast = false
		default:
			fwd.pushBytes += seglen
		}
		ann.PushBytesSent = int64(fwd.pushBytes)
		record = true
	}
	return record
}
