package oncrpc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
)

// collector gathers what a decoder reports.
type collector struct {
	txns   []app.Transaction
	msgs   []Message
	damage []Damage
}

func (c *collector) handler() Handler {
	return Handler{
		Transaction: func(t app.Transaction) { c.txns = append(c.txns, t) },
		Message:     func(m *Message) { c.msgs = append(c.msgs, *m) },
		Damage:      func(d Damage) { c.damage = append(c.damage, d) },
	}
}

func (c *collector) summary() string {
	var b strings.Builder
	for _, t := range c.txns {
		fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%d|%d\n", t.Operation, t.Request, t.Reply, t.Status, t.Error,
			t.RequestAt.Frame, t.ReplyAt.Frame)
	}
	return b.String()
}

func (c *collector) damaged(k DamageKind) int {
	n := 0
	for _, d := range c.damage {
		if d.Kind == k {
			n++
		}
	}
	return n
}

func pos(frame int64) app.Pos { return app.Pos{Frame: frame, Time: capture.Time(frame * 1e6)} }

// conversation is a client byte stream of calls and a server byte stream
// of their replies, with the frame each record starts in.
type conversation struct {
	calls, replies []byte
	n              int
}

// sampleConversation: a GETPORT, a DUMP whose reply is three fragments,
// an NFS WRITE of 20 KiB in four fragments (beyond MaxPrefix), a SETVOLUME
// failing with EACCES.
func sampleConversation() conversation {
	var c conversation
	add := func(call, reply []byte) {
		c.calls = append(c.calls, call...)
		c.replies = append(c.replies, reply...)
		c.n++
	}
	add(record(callMsg(1, ProgPortmap, 2, 3, AuthNone, nil, xdrw().u32(ProgNFS, 3, 6, 0).bytes())),
		record(replyOK(1, xdrw().u32(2049).bytes())))
	dump := xdrw()
	for i := uint32(0); i < 40; i++ {
		dump.boolean(true).u32(100000+i, 2, 6, 111)
	}
	dump.boolean(false)
	add(record(callMsg(2, ProgPortmap, 2, 4, AuthNone, nil, nil)),
		record(replyOK(2, dump.bytes()), 100, 300))
	data := bytes.Repeat([]byte{0x5a}, 20000)
	add(record(callMsg(3, ProgNFS, 3, 7, AuthSys, authSys("c", 1, 1), xdrw().opaque(make([]byte, 32)).u64(0).u32(20000, 2).opaque(data).bytes()), 8000, 8000, 4000),
		record(replyOK(3, xdrw().u32(0).boolean(false).boolean(false).u32(20000, 2).u64(9).bytes())))
	add(record(callMsg(4, ProgGlusterHandshk, 2, 1, AuthGlusterV2, authGluster(), xdrw().opaque(glusterDict("a", "b")).bytes())),
		record(replyOK(4, xdrw().i32(-1).i32(13).opaque(glusterDict("ERROR", "Authentication failed")).bytes())))
	return c
}

// feedChunks sends the client stream, then the server stream, each cut
// into chunks by cut.
func feedChunks(s app.Stream, c conversation, cut func(n int) int) {
	frame := int64(1)
	for side, b := range [][]byte{c.calls, c.replies} {
		for len(b) > 0 {
			n := min(max(cut(len(b)), 1), len(b))
			s.Bytes(app.Side(side), b[:n], pos(frame))
			frame++
			b = b[n:]
		}
	}
	s.End(pos(frame))
}

func TestStreamWhole(t *testing.T) {
	c := sampleConversation()
	var col collector
	feedChunks(NewStream(col.handler()), c, func(n int) int { return n })
	want := []struct{ op, status, err string }{
		{"Portmap GETPORT", "ok", ""},
		{"Portmap DUMP", "ok", ""},
		{"NFS WRITE", "ok", ""},
		{"GlusterFS Handshake SETVOLUME", "error", "EACCES"},
	}
	if len(col.txns) != len(want) {
		t.Fatalf("%d transactions, want %d:\n%s", len(col.txns), len(want), col.summary())
	}
	for i, w := range want {
		tx := col.txns[i]
		if tx.Operation != w.op || tx.Status.String() != w.status || tx.Error != w.err {
			t.Errorf("transaction %d: %s %s %s, want %v", i, tx.Operation, tx.Status, tx.Error, w)
		}
	}
	if !strings.Contains(col.txns[0].Reply, "port 2049") || !strings.Contains(col.txns[1].Reply, "40 entries") {
		t.Errorf("replies: %q, %q", col.txns[0].Reply, col.txns[1].Reply)
	}
	for _, m := range col.msgs {
		if m.Type == Call && m.Procedure == 7 && (m.Fragments != 4 || !m.Cut || m.Len < 20000) {
			t.Errorf("WRITE call: %d fragments, cut %v, %d bytes", m.Fragments, m.Cut, m.Len)
		}
	}
	if len(col.damage) != 0 {
		t.Errorf("damage: %v", col.damage)
	}
}

// TestStreamAnySplit: however the bytes are cut into segments, the
// decoding is the same.
func TestStreamAnySplit(t *testing.T) {
	c := sampleConversation()
	var ref collector
	feedChunks(NewStream(ref.handler()), c, func(n int) int { return n })
	want := ref.summary()
	for _, size := range []int{1, 2, 3, 4, 5, 7, 8, 13, 1448, 4096} {
		var col collector
		i := 0
		feedChunks(NewStream(col.handler()), c, func(int) int { i++; return size })
		// frames differ with the cut; compare what does not depend on them
		if got := stripFrames(col.summary()); got != stripFrames(want) {
			t.Errorf("chunks of %d:\n%s\nwant\n%s", size, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var col collector
		feedChunks(NewStream(col.handler()), c, func(n int) int { return 1 + r.IntN(min(n, 3000)) })
		if got := stripFrames(col.summary()); got != stripFrames(want) {
			t.Fatalf("random chunks:\n%s\nwant\n%s", got, want)
		}
	}
}

func stripFrames(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		f := strings.Split(line, "|")
		if len(f) > 5 {
			f = f[:5]
		}
		out = append(out, strings.Join(f, "|"))
	}
	return strings.Join(out, "\n")
}

// TestGapInsideFragment: a gap within a fragment's data keeps the record
// marking; the record is cut, later records decode.
func TestGapInsideFragment(t *testing.T) {
	c := sampleConversation()
	var col collector
	s := NewStream(col.handler())
	s.Bytes(app.Client, c.calls, pos(1))
	// The DUMP reply is the second record; cut 50 bytes from its first
	// fragment's data, after the RPC header.
	first := len(record(replyOK(1, xdrw().u32(2049).bytes())))
	start := first + 4 + 40
	s.Bytes(app.Server, c.replies[:start], pos(2))
	s.Gap(app.Server, 50, pos(3))
	s.Bytes(app.Server, c.replies[start+50:], pos(4))
	s.End(pos(5))
	if len(col.txns) != 4 {
		t.Fatalf("%d transactions:\n%s", len(col.txns), col.summary())
	}
	if tx := col.txns[1]; tx.Status != app.StatusOK || strings.Contains(tx.Reply, "entries") {
		t.Errorf("DUMP after a gap in its data: %s %q (entries cannot be counted)", tx.Status, tx.Reply)
	}
	if tx := col.txns[3]; tx.Error != "EACCES" {
		t.Errorf("record after the gap: %+v", tx)
	}
	if col.damaged(DamageGap) != 1 || col.damaged(DamageResync) != 0 {
		t.Errorf("damage %v", col.damage)
	}
}

// TestGapLosesMarking: a gap over a record boundary loses the marking;
// decoding resynchronises on the next call to a known program.
func TestGapLosesMarking(t *testing.T) {
	c := sampleConversation()
	var col collector
	s := NewStream(col.handler())
	// Lose the end of the GETPORT call and the start of the DUMP call.
	first := len(record(callMsg(1, ProgPortmap, 2, 3, AuthNone, nil, xdrw().u32(ProgNFS, 3, 6, 0).bytes())))
	s.Bytes(app.Client, c.calls[:first-8], pos(1))
	s.Gap(app.Client, 20, pos(2))
	s.Bytes(app.Client, c.calls[first+12:], pos(3))
	s.Bytes(app.Server, c.replies, pos(4))
	s.End(pos(5))
	ops := ""
	for _, tx := range col.txns {
		ops += tx.Operation + ":" + tx.Status.String() + " "
	}
	if ops != "NFS WRITE:ok GlusterFS Handshake SETVOLUME:error " {
		t.Errorf("transactions %s\n%s", ops, col.summary())
	}
	if col.damaged(DamageResync) != 1 || col.damaged(DamageNoSync) != 0 {
		t.Errorf("damage %v", col.damage)
	}
}

// TestGapOnServerSide: a call whose reply may have been lost in a gap is
// incomplete, not unanswered.
func TestGapOnServerSide(t *testing.T) {
	c := sampleConversation()
	var col collector
	s := NewStream(col.handler())
	s.Bytes(app.Client, c.calls, pos(1))
	s.Gap(app.Server, int64(len(c.replies)), pos(2))
	s.End(pos(3))
	if len(col.txns) != 4 {
		t.Fatalf("%d transactions", len(col.txns))
	}
	for _, tx := range col.txns {
		if tx.Status != app.StatusIncomplete {
			t.Errorf("%s: %s, want incomplete", tx.Operation, tx.Status)
		}
	}
}

func TestReplyCutByEnd(t *testing.T) {
	c := sampleConversation()
	var col collector
	s := NewStream(col.handler())
	s.Bytes(app.Client, c.calls, pos(1))
	s.Bytes(app.Server, c.replies[:len(c.replies)-10], pos(2))
	s.Close(app.Server, true, pos(3))
	s.End(pos(4))
	last := col.txns[len(col.txns)-1]
	if last.Status != app.StatusIncomplete || last.Operation != "GlusterFS Handshake SETVOLUME" || last.ReplyAt.Frame != 2 {
		t.Errorf("last transaction %+v", last)
	}
	if len(col.damage) != 1 || col.damage[0].Kind != DamageCut {
		t.Errorf("damage %v", col.damage)
	}
}

func TestNotRPC(t *testing.T) {
	var col collector
	s := NewStream(col.handler())
	s.Bytes(app.Client, []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), pos(1))
	s.Bytes(app.Server, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), pos(2))
	s.End(pos(3))
	if len(col.txns) != 0 || len(col.msgs) != 0 {
		t.Errorf("decoded HTTP as RPC: %s", col.summary())
	}
	if col.damaged(DamageNoSync) != 2 {
		t.Errorf("damage %v", col.damage)
	}
}

func TestCaps(t *testing.T) {
	t.Run("record too long", func(t *testing.T) {
		var col collector
		s := NewStream(col.handler())
		s.Bytes(app.Client, []byte{0x80 | byte(MaxRecord>>24+1), 0, 0, 0}, pos(1))
		s.End(pos(2))
		if col.damaged(DamageMalformed) != 1 || col.damaged(DamageNoSync) != 1 {
			t.Errorf("damage %v", col.damage)
		}
	})
	t.Run("too many fragments", func(t *testing.T) {
		var col collector
		s := NewStream(col.handler())
		msg := callMsg(1, ProgNFS, 3, 0, AuthNone, nil, nil)
		frags := make([]int, MaxFragments+5)
		for i := range frags {
			frags[i] = 0
		}
		s.Bytes(app.Client, record(msg, frags...), pos(1))
		s.End(pos(2))
		// The empty fragments are dropped; the last fragment holds the
		// whole call, and resynchronising finds it.
		if col.damaged(DamageMalformed) != 1 || col.damaged(DamageResync) != 1 || len(col.txns) != 1 {
			t.Errorf("damage %v, transactions %s", col.damage, col.summary())
		}
	})
	t.Run("auth too long", func(t *testing.T) {
		var col collector
		d := NewDatagrams(col.handler())
		d.Datagram(app.Client, callMsg(1, ProgNFS, 3, 0, AuthSys, make([]byte, 404), nil), pos(1))
		d.End(pos(2))
		if col.damaged(DamageMalformed) != 1 || len(col.txns) != 0 {
			t.Errorf("damage %v, transactions %s", col.damage, col.summary())
		}
	})
	t.Run("outstanding", func(t *testing.T) {
		var col collector
		d := NewDatagrams(col.handler())
		n := MaxOutstanding + 10
		for i := range n {
			d.Datagram(app.Client, callMsg(uint32(i), ProgNFS, 3, 0, AuthNone, nil, nil), pos(int64(i+1)))
		}
		if len(d.conv.calls) > MaxOutstanding {
			t.Errorf("%d calls kept", len(d.conv.calls))
		}
		d.End(pos(int64(n + 1)))
		if len(col.txns) != n || col.damaged(DamageCap) != 10 {
			t.Errorf("%d transactions, %d cap damages", len(col.txns), col.damaged(DamageCap))
		}
		if !strings.Contains(col.txns[0].Reply, "not tracked") || col.txns[0].Request != col.txns[0].Request {
			t.Errorf("first evicted: %+v", col.txns[0])
		}
		if len(d.conv.order) != 0 || len(d.conv.calls) != 0 {
			t.Errorf("state left: %d %d", len(d.conv.order), len(d.conv.calls))
		}
	})
}

func TestCallbacksAndSides(t *testing.T) {
	var col collector
	s := NewStream(col.handler())
	// The server calls back (GlusterFS callback, never answered) and also
	// makes a call with the same XID as the client's; replies match by side.
	s.Bytes(app.Client, record(callMsg(7, ProgGlusterFS, 330, 27, AuthGlusterV2, authGluster(), nil)), pos(1))
	s.Bytes(app.Server, record(callMsg(7, ProgGlusterCbk, 1, 3, AuthNone, nil, nil)), pos(2))
	s.Bytes(app.Server, record(callMsg(7, ProgPortmap, 2, 0, AuthNone, nil, nil)), pos(3))
	s.Bytes(app.Client, record(replyOK(7, nil)), pos(4))
	s.Bytes(app.Server, record(replyOK(7, xdrw().i32(-1).i32(2).bytes())), pos(5))
	s.End(pos(6))
	want := "Portmap NULL|ok||3|4 GlusterFS LOOKUP|error|ENOENT|1|5 "
	got := ""
	for _, tx := range col.txns {
		got += fmt.Sprintf("%s|%s|%s|%d|%d ", tx.Operation, tx.Status, tx.Error, tx.RequestAt.Frame, tx.ReplyAt.Frame)
	}
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestUDPRetransmission(t *testing.T) {
	var col collector
	d := NewDatagrams(col.handler())
	call := callMsg(9, ProgNFS, 3, 1, AuthNone, nil, xdrw().opaque(make([]byte, 32)).bytes())
	d.Datagram(app.Client, call, pos(1))
	d.Datagram(app.Client, call, pos(2))
	d.Datagram(app.Server, replyOK(9, xdrw().u32(70).bytes()), pos(3))
	d.Datagram(app.Server, replyOK(9, xdrw().u32(70).bytes()), pos(4)) // duplicate reply: orphan
	d.Datagram(app.Server, []byte{1, 2, 3}, pos(5))                    // runt
	d.End(pos(6))
	if len(col.txns) != 1 {
		t.Fatalf("%s", col.summary())
	}
	tx := col.txns[0]
	if tx.Error != "NFS3ERR_STALE" || tx.RequestAt.Frame != 1 || tx.ReplyAt.Frame != 3 ||
		!strings.Contains(tx.Request, "retransmitted 1x") || tx.Latency != 2e6 {
		t.Errorf("%+v", tx)
	}
	if !col.msgs[1].Dup || col.msgs[3].Matched {
		t.Errorf("dup %v, orphan matched %v", col.msgs[1].Dup, col.msgs[3].Matched)
	}
}

func TestEndIsFinal(t *testing.T) {
	var col collector
	s := NewStream(col.handler())
	s.Bytes(app.Client, record(callMsg(1, ProgNFS, 3, 0, AuthNone, nil, nil)), pos(1))
	s.End(pos(2))
	s.End(pos(3))
	s.Bytes(app.Client, record(callMsg(2, ProgNFS, 3, 0, AuthNone, nil, nil)), pos(4))
	s.Gap(5, 10, pos(5)) // an invalid side is ignored
	if len(col.txns) != 1 || col.txns[0].Status != app.StatusNoReply {
		t.Errorf("%s", col.summary())
	}
}
