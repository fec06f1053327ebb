package oncrpc

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// nfsTraffic is n NFSv3 GETATTR calls and their replies as record streams.
func nfsTraffic(n int) (calls, replies [][]byte) {
	cred := authSys("client.example.com", 1000, 1000)
	fh := make([]byte, 32)
	fattr := make([]byte, 84)
	for i := range n {
		xid := uint32(i + 1)
		calls = append(calls, record(callMsg(xid, ProgNFS, 3, 1, AuthSys, cred, xdrw().opaque(fh).bytes())))
		replies = append(replies, record(replyOK(xid, xdrw().u32(0).fixed(fattr).bytes())))
	}
	return calls, replies
}

func benchStream(b *testing.B, h Handler) {
	calls, replies := nfsTraffic(256)
	var size int
	for i := range calls {
		size += len(calls[i]) + len(replies[i])
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	s := NewStream(h)
	for b.Loop() {
		for i := range calls {
			s.Bytes(app.Client, calls[i], pos(1))
			s.Bytes(app.Server, replies[i], pos(2))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(calls)), "ns/call")
}

// BenchmarkStreamMessages: record marking, header and body decoding and
// matching, as for per-frame fields.
func BenchmarkStreamMessages(b *testing.B) {
	benchStream(b, Handler{Message: func(*Message) {}})
}

// BenchmarkStreamTransactions adds building an app.Transaction per call.
func BenchmarkStreamTransactions(b *testing.B) {
	benchStream(b, Handler{Transaction: func(app.Transaction) {}})
}

func BenchmarkDatagrams(b *testing.B) {
	calls, replies := nfsTraffic(256)
	for i := range calls {
		calls[i], replies[i] = calls[i][4:], replies[i][4:]
	}
	b.ReportAllocs()
	d := NewDatagrams(Handler{Message: func(*Message) {}})
	for b.Loop() {
		for i := range calls {
			d.Datagram(app.Client, calls[i], pos(1))
			d.Datagram(app.Server, replies[i], pos(2))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(calls)), "ns/call")
}

func BenchmarkProbe(b *testing.B) {
	calls, _ := nfsTraffic(1)
	b.ReportAllocs()
	for b.Loop() {
		Probe(app.Client, calls[0], 2049)
	}
}

// TestMessagesDoNotAllocate: once warm, decoding and matching a call and
// its reply allocates nothing unless a Transaction is built.
func TestMessagesDoNotAllocate(t *testing.T) {
	calls, replies := nfsTraffic(64)
	s := NewStream(Handler{Message: func(*Message) {}})
	feed := func() {
		for i := range calls {
			s.Bytes(app.Client, calls[i], pos(1))
			s.Bytes(app.Server, replies[i], pos(2))
		}
	}
	feed()
	if n := testing.AllocsPerRun(20, feed); n != 0 {
		t.Errorf("%v allocations per 64 calls and replies", n)
	}
}
