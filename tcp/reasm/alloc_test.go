package reasm

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/packet"
)

// discard is an app.Stream that does nothing, allocation-free.
type discard struct{ n int64 }

func (d *discard) Bytes(_ app.Side, b []byte, _ app.Pos) { d.n += int64(len(b)) }
func (d *discard) Gap(app.Side, int64, app.Pos)          {}
func (d *discard) Close(app.Side, bool, app.Pos)         {}
func (d *discard) End(app.Pos)                           {}

// bulk is a connection past its handshake and two reusable packets: a
// full-sized data segment from the server and the client's ACK. next
// rewrites their sequence numbers for the next segment.
type bulk struct {
	c        *Conn
	data     *packet.Packet
	ack      *packet.Packet
	seq, end uint32
}

func newBulk(s app.Stream, size int) *bulk {
	b := &bulk{c: New(s, Options{}), seq: 5001}
	for i, sg := range handshake {
		b.c.Segment(tcpPacket(int64(i+1), sg), sg.side)
	}
	b.data = tcpPacket(4, tseg{side: srv, seq: b.seq, ack: 1001, flags: fACK, data: strings.Repeat("x", size)})
	b.ack = tcpPacket(5, tseg{side: cli, seq: 1001, ack: b.seq, flags: fACK})
	return b
}

// segment sends the next data segment and, every other one, an ACK.
func (b *bulk) segment() {
	binary.BigEndian.PutUint32(b.data.TCP[4:], b.seq)
	b.c.Segment(b.data, srv)
	b.seq += uint32(len(b.data.Payload))
	if b.seq/uint32(len(b.data.Payload))%2 == 0 {
		binary.BigEndian.PutUint32(b.ack.TCP[8:], b.seq)
		b.c.Segment(b.ack, cli)
	}
}

// TestInOrderAllocFree: in-order data is delivered straight from the
// packet, and its history kept in a ring that has stopped growing: no
// allocation per segment.
func TestInOrderAllocFree(t *testing.T) {
	for _, size := range []int{1, 100, 1448, 9000, 65000} {
		b := newBulk(&discard{}, size)
		for range 64 { // the history ring grows to its size
			b.segment()
		}
		if n := testing.AllocsPerRun(1000, b.segment); n != 0 {
			t.Errorf("%d-byte segments: %.2f allocations per segment", size, n)
		}
		if st := b.c.Stats(srv); st.Gaps != 0 || st.Delivered != int64(size)*(64+1001) {
			t.Errorf("stats %+v", st)
		}
	}
}

func BenchmarkInOrder(b *testing.B) {
	d := &discard{}
	bk := newBulk(d, 1448)
	b.SetBytes(1448)
	b.ReportAllocs()
	for b.Loop() {
		bk.segment()
	}
}

// BenchmarkSwapped: every other pair of segments arrives swapped, so half
// of them wait in the buffer (copied) for the one before.
func BenchmarkSwapped(b *testing.B) {
	d := &discard{}
	bk := newBulk(d, 1448)
	b.SetBytes(1448)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// Each pair's second segment first, then its first.
		seq := bk.seq + 1448
		if i%2 == 1 {
			seq = bk.seq
		}
		binary.BigEndian.PutUint32(bk.data.TCP[4:], seq)
		bk.c.Segment(bk.data, srv)
		if i%2 == 1 {
			bk.seq += 2 * 1448
		}
		i++
	}
	if bk.c.Stats(srv).Gaps != 0 {
		b.Fatal("gaps")
	}
}

// loadCapture keeps a capture's frames in memory.
func loadCapture(tb testing.TB, name string) []*capture.Frame {
	r, err := capture.Open(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var out []*capture.Frame
	for f, err := range r.Frames() {
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, f.Clone())
	}
	return out
}

// BenchmarkCapture decodes and reassembles a real capture with path loss
// (its connections told apart by the client's port). BenchmarkDecode is the
// decoding alone, for comparison.
func BenchmarkCapture(b *testing.B) {
	frames := loadCapture(b, "lab-loss-server.pcap")
	size := 0
	for _, f := range frames {
		size += len(f.Data)
	}
	d := packet.NewDecoder()
	var p packet.Packet
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		conns := map[uint16]*Conn{}
		for _, f := range frames {
			d.Decode(f, &p)
			side, port := app.Client, p.SrcPort
			if p.SrcPort == 9000 {
				side, port = app.Server, p.DstPort
			}
			c := conns[port]
			if c == nil {
				c = New(&discard{}, Options{})
				conns[port] = c
			}
			c.Segment(&p, side)
		}
		for _, c := range conns {
			c.End(app.Pos{})
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	frames := loadCapture(b, "lab-loss-server.pcap")
	size := 0
	for _, f := range frames {
		size += len(f.Data)
	}
	d := packet.NewDecoder()
	var p packet.Packet
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			d.Decode(f, &p)
		}
	}
}
