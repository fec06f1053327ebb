package reasm

import (
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

// handshake is a client ISN 1000, server ISN 5000 handshake (frames 1-3).
var handshake = []tseg{
	{side: cli, seq: 1000, flags: fSYN},
	{side: srv, seq: 5000, ack: 1001, flags: fSYN | fACK},
	{side: cli, seq: 1001, ack: 5001, flags: fACK},
}

func hs(segs ...tseg) []tseg { return append(append([]tseg{}, handshake...), segs...) }

// expect runs segs and compares the calls made with want.
func expect(t *testing.T, opt Options, want string, segs ...tseg) (*recorder, *Conn) {
	t.Helper()
	r, c := run(opt, segs...)
	if got := r.calls(); got != want {
		t.Errorf("calls:\n got %s\nwant %s", got, want)
	}
	for _, e := range r.errs {
		t.Errorf("contract: %s", e)
	}
	return r, c
}

func TestInOrder(t *testing.T) {
	expect(t, Options{}, `c"GET /"@4 s"HTTP/1.1 200"@5 cFIN@6 sFIN@7 E@9`, hs(
		tseg{side: cli, seq: 1001, ack: 5001, flags: fACK | fPSH, data: "GET /"},
		tseg{side: srv, seq: 5001, ack: 1006, flags: fACK | fPSH, data: "HTTP/1.1 200"},
		tseg{side: cli, seq: 1006, ack: 5013, flags: fACK | fFIN},
		tseg{side: srv, seq: 5013, ack: 1007, flags: fACK | fFIN},
		tseg{side: cli, seq: 1007, ack: 5014, flags: fACK},
	)...)
}

func TestOutOfOrder(t *testing.T) {
	// Segments 2 and 3 before 1; the FIN before the data it follows.
	_, c := expect(t, Options{}, `c"aaa"@7 c"bbb"@7 c"ccc"@7 cFIN@6 E@8`, hs(
		tseg{side: cli, seq: 1007, ack: 5001, flags: fACK, data: "ccc"},
		tseg{side: cli, seq: 1004, ack: 5001, flags: fACK, data: "bbb"},
		tseg{side: cli, seq: 1010, ack: 5001, flags: fACK | fFIN},
		tseg{side: cli, seq: 1001, ack: 5001, flags: fACK, data: "aaa"},
	)...)
	if st := c.Stats(cli); st.Delivered != 9 || st.Gaps != 0 || st.PeakBuffered != 6+2*segOverhead || !st.Closed {
		t.Errorf("stats %+v", st)
	}
}

func TestRetransmission(t *testing.T) {
	var hook []string
	opt := Options{OnInconsistency: func(side app.Side, at app.Pos, seq seqnum.Value, old, new []byte) {
		hook = append(hook, side.String(), string(old), string(new))
	}}
	_, c := expect(t, opt, `c"abcdef"@4 c"ghi"@7 E@9`, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "abcdef"},
		tseg{side: cli, seq: 1001, flags: fACK, data: "abcdef"}, // same bytes
		tseg{side: cli, seq: 1004, flags: fACK, data: "dXf"},    // different: Quantum-Insert-like
		tseg{side: cli, seq: 1004, flags: fACK, data: "defghi"}, // partly new
		tseg{side: cli, seq: 1002, flags: fACK, data: "Bc"},     // different again
	)...)
	st := c.Stats(cli)
	if st.Inconsistencies != 2 || st.FirstInconsistency.Frame != 6 || st.Retransmitted != 6+3+3+2 || st.Unchecked != 0 {
		t.Errorf("stats %+v", st)
	}
	if got := strings.Join(hook, ","); got != "client,def,dXf,client,bc,Bc" {
		t.Errorf("hook: %s", got)
	}
}

func TestOverlapBuffered(t *testing.T) {
	// Two out-of-order copies of overlapping ranges that differ: the first
	// captured wins where they overlap; the second fills only the rest.
	_, c := expect(t, Options{}, `c"ab"@7 c"cd"@7 c"EF"@7 c"gh"@7 E@8`, hs(
		tseg{side: cli, seq: 1005, flags: fACK, data: "EF"},
		tseg{side: cli, seq: 1005, flags: fACK, data: "efgh"},
		tseg{side: cli, seq: 1003, flags: fACK, data: "cdeX"},
		tseg{side: cli, seq: 1001, flags: fACK, data: "ab"},
	)...)
	if st := c.Stats(cli); st.Inconsistencies != 2 || st.FirstInconsistency.Frame != 5 || st.Retransmitted != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestInOrderOverBuffered(t *testing.T) {
	// An in-order segment that runs over buffered data: its own bytes up
	// to the buffered piece are delivered straight, the buffered copy wins
	// after that, and its tail beyond is new.
	_, c := expect(t, Options{}, `c"abc"@5 c"DE"@5 c"fg"@5 E@6`, hs(
		tseg{side: cli, seq: 1004, flags: fACK, data: "DE"},
		tseg{side: cli, seq: 1001, flags: fACK, data: "abcdefg"},
	)...)
	if st := c.Stats(cli); st.Inconsistencies != 1 || st.Delivered != 7 {
		t.Errorf("stats %+v", st)
	}
}

func TestAckedGap(t *testing.T) {
	// The client's request is not captured but the server acknowledges
	// it: the gap comes before the server's reply.
	_, c := expect(t, Options{}, `cG10@4 s"reply"@4 c"more"@5 E@6`, hs(
		tseg{side: srv, seq: 5001, ack: 1011, flags: fACK, data: "reply"},
		tseg{side: cli, seq: 1011, ack: 5006, flags: fACK, data: "more"},
	)...)
	if st := c.Stats(cli); st.AckedGapBytes != 10 || st.GapBytes != 10 || st.Gaps != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestAckedGapBetweenBuffered(t *testing.T) {
	// Holes between buffered pieces below the ACK are declared one by
	// one; the piece beyond the ACK waits for its own hole.
	expect(t, Options{}, `cG2@7 c"cc"@4 cG2@7 c"ff"@5 c"gg"@8 c"ii"@8 E@9`, hs(
		tseg{side: cli, seq: 1003, flags: fACK, data: "cc"},
		tseg{side: cli, seq: 1007, flags: fACK, data: "ff"},
		tseg{side: cli, seq: 1011, flags: fACK, data: "ii"},
		tseg{side: srv, seq: 5001, ack: 1009, flags: fACK},
		tseg{side: cli, seq: 1009, flags: fACK, data: "gg"},
	)...)
}

func TestAckPastFIN(t *testing.T) {
	// The last data is not captured, the FIN is, and the server
	// acknowledges the FIN: the gap stops at the FIN, which then closes.
	expect(t, Options{}, `c"ab"@4 cG3@6 cFIN@5 E@7`, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "ab"},
		tseg{side: cli, seq: 1006, flags: fACK | fFIN},
		tseg{side: srv, seq: 5001, ack: 1007, flags: fACK},
	)...)
}

func TestHolesAtEnd(t *testing.T) {
	// Holes still open at End: declared, buffered data delivered, the FIN
	// already seen closes the direction.
	expect(t, Options{}, `c"a"@4 cG2@8 c"d"@5 cG1@8 c"f"@6 cG3@8 cFIN@7 E@8`, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "a"},
		tseg{side: cli, seq: 1004, flags: fACK, data: "d"},
		tseg{side: cli, seq: 1006, flags: fACK, data: "f"},
		tseg{side: cli, seq: 1010, flags: fACK | fFIN},
	)...)
}

func TestReset(t *testing.T) {
	// RST gives up the holes at once; later segments of that side are
	// dropped.
	_, c := expect(t, Options{}, `cG2@5 c"cc"@4 cRST@5 s"late"@7 E@8`, hs(
		tseg{side: cli, seq: 1003, flags: fACK, data: "cc"},
		tseg{side: cli, seq: 1005, flags: fRST, data: "diag"},
		tseg{side: cli, seq: 1001, flags: fACK, data: "aa"},
		tseg{side: srv, seq: 5001, flags: fACK, data: "late"},
	)...)
	if st := c.Stats(cli); !st.Reset || st.RSTData != 4 || st.Retransmitted != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestOverflow(t *testing.T) {
	// A cap of two small pieces: the third out-of-order piece gives up
	// the hole before the first.
	opt := Options{MaxBuffered: 2*segOverhead + 8}
	_, c := expect(t, opt, `cG3@6 c"dddd"@4 c"eeee"@5 cG4@7 c"jjjj"@6 E@7`, hs(
		tseg{side: cli, seq: 1004, flags: fACK, data: "dddd"},
		tseg{side: cli, seq: 1008, flags: fACK, data: "eeee"},
		tseg{side: cli, seq: 1016, flags: fACK, data: "jjjj"},
	)...)
	if st := c.Stats(cli); st.OverflowGaps != 1 || st.PeakBuffered != 2*segOverhead+8 {
		t.Errorf("stats %+v", st)
	}
}

func TestTruncated(t *testing.T) {
	// Snap length cut: in order the cut part is a gap at once; out of
	// order it waits as a known-missing piece, which as the first copy of
	// its range wins over a later complete copy.
	_, c := expect(t, Options{}, `c"ab"@4 cG3@4 c"fg"@7 c"hikl"@7 cG5@7 c"r"@7 E@8`, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "ab", wire: 5},
		tseg{side: cli, seq: 1008, flags: fACK, data: "hikl", wire: 9},
		tseg{side: cli, seq: 1010, flags: fACK, data: "klmnopqr"},
		tseg{side: cli, seq: 1006, flags: fACK, data: "fg"},
	)...)
	if st := c.Stats(cli); st.TruncatedBytes != 3+5 || st.Retransmitted != 7 || st.Inconsistencies != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWrap(t *testing.T) {
	// Sequence numbers that wrap through 0 in the middle of segments,
	// reordered.
	isn := uint32(0xfffffff8)
	expect(t, Options{}, `c"0123456"@4 c"789abc"@4 c"def"@4 cFIN@5 E@6`,
		tseg{side: cli, seq: isn, flags: fSYN},
		tseg{side: cli, seq: isn + 14, flags: fACK, data: "def"},
		tseg{side: cli, seq: isn + 8, flags: fACK, data: "789abc"},
		tseg{side: cli, seq: isn + 1, flags: fACK, data: "0123456"},
		tseg{side: cli, seq: isn + 17, flags: fACK | fFIN},
	)
}

func TestKeepAlive(t *testing.T) {
	// Keep-alives with a garbage byte (Windows) or none (Linux) at
	// next-1: neither delivered nor called inconsistent.
	_, c := expect(t, Options{}, `c"abc"@4 c"def"@7 E@8`, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "abc"},
		tseg{side: cli, seq: 1003, flags: fACK, data: "\x00"},
		tseg{side: cli, seq: 1003, flags: fACK},
		tseg{side: cli, seq: 1004, flags: fACK, data: "def"},
	)...)
	if st := c.Stats(cli); st.KeepAlives != 1 || st.Inconsistencies != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestKeepAliveFirst(t *testing.T) {
	// A capture that starts with a keep-alive the server has already
	// acknowledged: its byte is not the start of the stream.
	_, c := expect(t, Options{}, `c"data"@3 E@4`,
		tseg{side: srv, seq: 9000, ack: 2000, flags: fACK},
		tseg{side: cli, seq: 1999, ack: 9000, flags: fACK, data: "\x00"},
		tseg{side: cli, seq: 2000, ack: 9000, flags: fACK, data: "data"},
	)
	if st := c.Stats(cli); st.KeepAlives != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestZeroWindowProbe(t *testing.T) {
	// A zero-window probe carries the next real byte: delivered once. Its
	// retransmission, one byte at next-1, looks like a keep-alive and is
	// dropped as one; the full segment that repeats it is a duplicate.
	_, c := expect(t, Options{}, `c"ab"@4 c"c"@6 c"def"@8 E@9`, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "ab"},
		tseg{side: srv, seq: 5001, ack: 1003, flags: fACK}, // window 0 in real life
		tseg{side: cli, seq: 1003, flags: fACK, data: "c"},
		tseg{side: cli, seq: 1003, flags: fACK, data: "c"},
		tseg{side: cli, seq: 1003, flags: fACK, data: "cdef"},
	)...)
	if st := c.Stats(cli); st.Inconsistencies != 0 || st.Retransmitted != 1 || st.KeepAlives != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestMidConnection(t *testing.T) {
	// No handshake: each direction starts at its first data segment.
	expect(t, Options{}, `s"xyz"@1 c"abc"@2 s"w"@3 E@4`,
		tseg{side: srv, seq: 70000, ack: 123, flags: fACK, data: "xyz"},
		tseg{side: cli, seq: 123, ack: 70003, flags: fACK, data: "abc"},
		tseg{side: srv, seq: 70003, ack: 126, flags: fACK, data: "w"},
	)
}

func TestOutOfWindow(t *testing.T) {
	// Far ahead (beyond any window), and past the FIN: dropped.
	_, c := expect(t, Options{}, `c"ab"@4 cFIN@5 E@8`, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "ab"},
		tseg{side: cli, seq: 1003, flags: fACK | fFIN},
		tseg{side: cli, seq: 1001 + 1<<30, flags: fACK, data: "far"},
		tseg{side: cli, seq: 1003, flags: fACK, data: "after"},
	)...)
	if st := c.Stats(cli); st.OutOfWindow != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestLateAfterAckedGap(t *testing.T) {
	// A capture that records the ACK before the data it acknowledges: the
	// gap is declared, the data counted late.
	_, c := expect(t, Options{}, `cG4@4 c"more"@6 E@7`, hs(
		tseg{side: srv, seq: 5001, ack: 1005, flags: fACK},
		tseg{side: cli, seq: 1001, flags: fACK, data: "abcd"},
		tseg{side: cli, seq: 1005, flags: fACK, data: "more"},
	)...)
	if st := c.Stats(cli); st.LateBytes != 4 || st.Unchecked != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestFlushReleases(t *testing.T) {
	r := &recorder{}
	c := New(r, Options{})
	for i, s := range hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: strings.Repeat("a", 1000)},
		tseg{side: cli, seq: 3001, flags: fACK, data: strings.Repeat("c", 1000)},
	) {
		c.Segment(tcpPacket(int64(i+1), s), s.side)
	}
	if m := c.Memory(); m < 2000 {
		t.Fatalf("memory %d before Flush", m)
	}
	c.Flush(app.Pos{Frame: 6})
	if m := c.Memory(); m != 0 {
		t.Errorf("memory %d after Flush", m)
	}
	c.Segment(tcpPacket(7, tseg{side: cli, seq: 2001, flags: fACK, data: strings.Repeat("b", 1000)}), cli)
	c.End(app.Pos{Frame: 8})
	if got, want := r.stream(cli), strings.Repeat("a", 1000)+"[1000]"+strings.Repeat("c", 1000); got != want {
		t.Errorf("stream %q", got)
	}
	if st := c.Stats(cli); st.LateBytes != 1000 {
		t.Errorf("stats %+v", st)
	}
}

func TestHistoryLimit(t *testing.T) {
	// Retransmissions older than the history are counted, not compared.
	_, c := run(Options{History: 4}, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "abcdefgh"},
		tseg{side: cli, seq: 1001, flags: fACK, data: "ABCDEFGh"},
	)...)
	if st := c.Stats(cli); st.Inconsistencies != 1 || st.Unchecked != 4 {
		t.Errorf("stats %+v", st)
	}
	_, c = run(Options{History: -1}, hs(
		tseg{side: cli, seq: 1001, flags: fACK, data: "abcdefgh"},
		tseg{side: cli, seq: 1001, flags: fACK, data: "ABCDEFGh"},
	)...)
	if st := c.Stats(cli); st.Inconsistencies != 0 || st.Unchecked != 8 || c.Memory() != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestAckOfMissedFIN(t *testing.T) {
	// An acknowledgment one past everything the server sent is taken for
	// a FIN the capture missed, not a byte; two past is a hole.
	expect(t, Options{}, `s"abc"@4 E@6`, hs(
		tseg{side: srv, seq: 5001, ack: 1001, flags: fACK, data: "abc"},
		tseg{side: cli, seq: 1001, ack: 5005, flags: fACK},
	)...)
	expect(t, Options{}, `s"abc"@4 sG2@5 E@6`, hs(
		tseg{side: srv, seq: 5001, ack: 1001, flags: fACK, data: "abc"},
		tseg{side: cli, seq: 1001, ack: 5006, flags: fACK},
	)...)
}

func TestMemoryBounded(t *testing.T) {
	// A receiver that never gets the first segment, flooded with what
	// follows: big segments, then one-byte segments with holes between
	// them. What is held never exceeds the cap plus the history.
	for _, size := range []int{1448, 1} {
		r := &recorder{}
		opt := Options{MaxBuffered: 64 << 10}
		c := New(r, opt)
		for i, s := range handshake {
			c.Segment(tcpPacket(int64(i+1), s), s.side)
		}
		data := strings.Repeat("y", size)
		peak := 0
		for i := range 20000 {
			seq := uint32(5002 + i*2*size) // a one-segment hole before each
			c.Segment(tcpPacket(int64(4+i), tseg{side: srv, seq: seq, flags: fACK, data: data}), srv)
			peak = max(peak, c.Memory())
		}
		st := c.Stats(srv)
		if limit := opt.MaxBuffered + DefaultHistory; peak > limit || st.PeakBuffered > opt.MaxBuffered {
			t.Errorf("%d-byte segments: held %d bytes (peak buffered %d), limit %d", size, peak, st.PeakBuffered, limit)
		}
		if st.OverflowGaps == 0 || st.Delivered == 0 {
			t.Errorf("%d-byte segments: nothing given up: %+v", size, st)
		}
		c.Flush(app.Pos{Frame: 30000})
		if m := c.Memory(); m != 0 {
			t.Errorf("%d bytes held after Flush", m)
		}
	}
}

func TestKeepAliveBeforeData(t *testing.T) {
	// Right after the handshake the byte before next is the SYN's: a
	// keep-alive there is still a keep-alive.
	_, c := expect(t, Options{}, `c"abc"@5 E@6`, hs(
		tseg{side: cli, seq: 1000, ack: 5001, flags: fACK, data: "\xff"},
		tseg{side: cli, seq: 1001, ack: 5001, flags: fACK, data: "abc"},
	)...)
	if st := c.Stats(cli); st.KeepAlives != 1 || st.Retransmitted != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestChallengeAck(t *testing.T) {
	// A new SYN on a 4-tuple the server still holds in TIME_WAIT: the
	// server answers with an ACK of the old connection, a million bytes
	// ahead of the new ISN. The client, still in SYN-SENT, sent nothing:
	// no gap (examples/timewait-reuse).
	_, c := expect(t, Options{}, `cRST@5 E@6`,
		tseg{side: cli, seq: 1000, flags: fSYN},
		tseg{side: srv, seq: 7000, ack: 1001 + 1e6, flags: fACK},
		tseg{side: cli, seq: 1000, flags: fSYN},
		tseg{side: srv, seq: 7000, ack: 1001 + 1e6, flags: fACK},
		tseg{side: cli, seq: 1001, ack: 7000, flags: fRST | fACK},
	)
	if st := c.Stats(cli); st.GapBytes != 0 {
		t.Errorf("stats %+v", st)
	}
}
