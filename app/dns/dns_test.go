package dns

import (
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
	"github.com/wiresleuth/wiresleuth/capture"
)

func wireName(n string) []byte {
	var b []byte
	start := 0
	for i := 0; i <= len(n); i++ {
		if i == len(n) || n[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, n[start:i]...)
			start = i + 1
		}
	}
	return append(b, 0)
}

// msg builds a message: header fields then raw sections.
func msg(id, flags uint16, qd, an, ns, ar uint16, body ...[]byte) []byte {
	b := make([]byte, 12)
	for i, v := range []uint16{id, flags, qd, an, ns, ar} {
		binary.BigEndian.PutUint16(b[2*i:], v)
	}
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func q(name string, typ uint16) []byte {
	return append(wireName(name), byte(typ>>8), byte(typ), 0, 1)
}

func rrA(namePtr []byte, a [4]byte) []byte {
	return append(append(namePtr, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4), a[:]...)
}

func TestReadNameLimits(t *testing.T) {
	hdr := make([]byte, 12)
	for _, tc := range []struct {
		name string
		body []byte
		want error
	}{
		{"self pointer", []byte{0xc0, 12}, errPointer},
		{"forward pointer", []byte{0xc0, 14, 1, 'a', 0}, errPointer},
		{"extended label", []byte{0x41, 0}, errLabel},
		{"cut", []byte{5, 'a', 'b'}, errShort},
		{"too long", func() []byte {
			var b []byte
			for range 5 {
				b = append(b, 63)
				b = append(b, make([]byte, 63)...)
			}
			return append(b, 0)
		}(), errLong},
	} {
		m := append(append([]byte(nil), hdr...), tc.body...)
		if _, _, err := readName(m, 12, nil); err != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	// A chain of backward pointers longer than MaxPointers.
	m := append([]byte(nil), hdr...)
	m = append(m, 1, 'x', 0)
	for i := range MaxPointers + 2 {
		prev := 12 + 3 + 2*(i-1)
		if i == 0 {
			prev = 12
		}
		m = append(m, 0xc0|byte(prev>>8), byte(prev))
	}
	if _, _, err := readName(m, len(m)-2, nil); err != errPointers {
		t.Errorf("pointer chain: %v", err)
	}
	// Compression to an earlier name works, case and bytes kept.
	m = append(append([]byte(nil), hdr...), 3, 'W', 'w', 0xff, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 2, 'a', 'b', 0xc0, 16)
	if n, next, err := readName(m, 25, nil); err != nil || string(n) != "ab.example" || next != len(m) {
		t.Errorf("got %q %d %v", n, next, err)
	}
	if n, _, _ := readName(m, 12, nil); string(n) != "Ww\xff.example" {
		t.Errorf("got %q", n)
	}
}

func run(datagrams ...[]byte) *apptest.Collector {
	col := &apptest.Collector{}
	d := NewDatagrams(col.Output())
	for i, b := range datagrams {
		side := app.Client
		if len(b) > 2 && b[2]&0x80 != 0 {
			side = app.Server
		}
		d.Datagram(side, b, app.Pos{Frame: int64(i + 1), Time: capture.Time(i+1) * 1e6})
	}
	d.End(app.Pos{})
	return col
}

func TestMatching(t *testing.T) {
	query := msg(7, 0x0100, 1, 0, 0, 0, q("Example.COM", 1))
	// Case differs (DNS 0x20), a retransmission, then the answer, then a
	// duplicate answer and an unsolicited one.
	resp := msg(7, 0x8180, 1, 1, 0, 0, q("example.com", 1), rrA([]byte{0xc0, 12}, [4]byte{192, 0, 2, 1}))
	other := msg(8, 0x8183, 1, 0, 0, 0, q("nope.example", 1))
	col := run(query, query, resp, resp, other)
	if len(col.Txs) != 1 || col.Txs[0].Request != "A Example.COM (2 tries)" || col.Txs[0].Reply != "NOERROR A 192.0.2.1" || col.Txs[0].Latency != 2e6 {
		t.Fatalf("%+v", col.Txs)
	}
	ms := apptest.Of[*Message](col)
	if !ms[1].Retransmission || ms[1].RetransmitOf.Frame != 1 || ms[2].ResponseTo.Frame != 1 || !ms[3].Retransmission || !ms[4].Unsolicited {
		t.Fatalf("%+v", ms)
	}
}

func TestFormerrWithoutQuestionMatchesByID(t *testing.T) {
	col := run(msg(9, 0x0100, 1, 0, 0, 0, q("a.example", 1)), msg(9, 0x8101, 0, 0, 0, 0))
	if len(col.Txs) != 1 || col.Txs[0].Error != "FORMERR" {
		t.Fatalf("%+v", col.Txs)
	}
}

func TestEDNSExtendedRcode(t *testing.T) {
	opt := []byte{0, 0, 41, 0x10, 0x00, 1, 0, 0, 0, 0, 0} // root, OPT, size 4096, ext-rcode 1
	col := run(msg(3, 0x0100, 1, 0, 0, 0, q("a.example", 1)), msg(3, 0x8100, 1, 0, 0, 1, q("a.example", 1), opt))
	m := apptest.Of[*Message](col)[1]
	if m.Rcode != 16 || !m.EDNS || m.UDPSize != 4096 || col.Txs[0].Error != "BADVERS" {
		t.Fatalf("%+v %+v", m, col.Txs)
	}
}

func TestMalformedKeepsHeader(t *testing.T) {
	col := run(msg(5, 0x0100, 1, 0, 0, 0, []byte{0xc0, 0x0c, 0, 1, 0, 1}), []byte{1, 2, 3})
	ms := apptest.Of[*Message](col)
	if ms[0].ID != 5 || ms[0].Malformed == "" || ms[1].Malformed == "" {
		t.Fatalf("%+v", ms)
	}
	// The malformed query has no question, so it still waits: unanswered.
	if len(col.Txs) != 1 || col.Txs[0].Status != app.StatusNoReply {
		t.Fatalf("%+v", col.Txs)
	}
}

func TestCapsAndEviction(t *testing.T) {
	var ds [][]byte
	for i := range MaxPending + 1 {
		ds = append(ds, msg(uint16(i), 0x0100, 1, 0, 0, 0, q("x.example", 1)))
	}
	col := run(ds...)
	if len(col.Txs) != MaxPending+1 || col.Txs[0].RequestAt.Frame != 1 {
		t.Fatalf("%d transactions", len(col.Txs))
	}
	var rrs [][]byte
	for range MaxRecords + 5 {
		rrs = append(rrs, rrA([]byte{0xc0, 12}, [4]byte{10, 0, 0, 1}))
	}
	big := msg(1, 0x8180, 1, MaxRecords+5, 0, 0, append([][]byte{q("x.example", 1)}, rrs...)...)
	m := apptest.Of[*Message](run(big))[0]
	if len(m.Records) != MaxRecords || !m.Truncated || m.Malformed != "" {
		t.Fatalf("%d records, truncated %v, %q", len(m.Records), m.Truncated, m.Malformed)
	}
}

func tcpMsg(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }

func TestTCPGaps(t *testing.T) {
	q1 := tcpMsg(msg(1, 0x0100, 1, 0, 0, 0, q("a.example", 1)))
	q2 := tcpMsg(msg(2, 0x0100, 1, 0, 0, 0, q("b.example", 1)))
	r1 := tcpMsg(msg(1, 0x8180, 1, 1, 0, 0, q("a.example", 1), rrA([]byte{0xc0, 12}, [4]byte{10, 0, 0, 1})))
	r2 := tcpMsg(msg(2, 0x8180, 1, 0, 0, 0, q("b.example", 1)))
	col := &apptest.Collector{}
	s := NewStream(col.Output())
	at := app.Pos{Frame: 1}
	s.Bytes(app.Client, append(append([]byte(nil), q1...), q2...), at)
	// r1 loses bytes in its middle: only r1 is lost, r2 still decodes.
	s.Bytes(app.Server, r1[:10], at)
	s.Gap(app.Server, 5, at)
	s.Bytes(app.Server, append(append([]byte(nil), r1[15:]...), r2...), at)
	s.End(at)
	if s.Lost[app.Server] != 1 || s.Stopped[app.Server] {
		t.Fatalf("lost %v stopped %v", s.Lost, s.Stopped)
	}
	if len(col.Txs) != 2 || col.Txs[0].Request != "A b.example" || col.Txs[0].Status != app.StatusOK ||
		col.Txs[1].Request != "A a.example" || col.Txs[1].Status != app.StatusIncomplete {
		t.Fatalf("%+v", col.Txs)
	}
	// A gap across the length prefix loses the framing.
	col = &apptest.Collector{}
	s = NewStream(col.Output())
	s.Bytes(app.Client, q1[:1], at)
	s.Gap(app.Client, 3, at)
	s.Bytes(app.Client, q2, at)
	s.End(at)
	if !s.Stopped[app.Client] || len(col.Recs) != 0 {
		t.Fatalf("stopped %v, %d records", s.Stopped, len(col.Recs))
	}
}

func TestNamesOfCodes(t *testing.T) {
	for got, want := range map[string]string{
		Rcode(3).String(): "NXDOMAIN", Rcode(2).String(): "SERVFAIL", Rcode(5).String(): "REFUSED",
		Rcode(42).String(): "RCODE42", Type(65).String(): "HTTPS", Type(9999).String(): "TYPE9999",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestProbe(t *testing.T) {
	query := msg(7, 0x0100, 1, 0, 0, 0, q("example.com", 1))
	for _, tc := range []struct {
		first []byte
		port  uint16
		want  app.Confidence
	}{
		{query, 53, app.Likely},
		{query, 9999, app.Likely},
		{tcpMsg(query), 53, app.Likely},
		{tcpMsg(query)[:8], 53, app.No},
		{msg(7, 0x8180, 1, 1, 0, 0, q("example.com", 1)), 9999, app.Maybe},
		{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 53, app.No},
		{msg(0, 0x8400, 0, 1, 0, 0, rrA(wireName("printer.local"), [4]byte{10, 0, 0, 7})), 5353, app.Likely}, // mDNS announcement
		{msg(0, 0x0000, 0, 1, 0, 0, rrA(wireName("printer.local"), [4]byte{10, 0, 0, 7})), 5353, app.No},     // a query needs a question
		{msg(7, 0x0100, 1, 0, 0, 0, q("example.com", 1)), 137, app.No},                                       // NetBIOS
		{[]byte{0x16, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3, 0, 0}, 53, app.No},
		// ONC RPC records (GlusterFS GETSPEC call and reply on 24007): the
		// record mark reads as a length, the XID as a query for the root.
		{unhex("8000005400000001000000000000000200dbb4a900000002000000020005f3970000001c"), 24007, app.No},
		{unhex("80000850000000010000000100000000000000000000000000000000000008280000000000000828"), 24007, app.No},
		{msg(7, 0x0100, 1, 0, 0, 0, []byte{0, 0, 2, 0, 1}), 9999, app.Maybe}, // a priming query off port 53
	} {
		if got := Probe(app.Client, tc.first, tc.port); got != tc.want {
			t.Errorf("Probe(%x, %d) = %v, want %v", tc.first, tc.port, got, tc.want)
		}
	}
}
