package conn_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/seqnum"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// steady is a workload of known connections that can be replayed without
// end: 16 connections, each a 1 MB download, whose data part is played
// again and again with sequence numbers, ACKs and times moved on by what
// one pass covers, so that every lap continues the connections seamlessly.
type steady struct {
	frames []*capture.Frame // the whole capture, handshakes included
	replay []int            // indexes of the frames replayed each lap
	pkts   []packet.Packet  // decoded replay frames (views into frames)
	delta  []uint32         // per replay frame: seq shift of its direction
	ackD   []uint32         // per replay frame: seq shift of the other direction
	span   time.Duration
}

func newSteady(tb testing.TB) *steady {
	var all [][]synth.Frame
	for i := range 16 {
		cfg := baseConfig()
		cfg.Client.Addr = netip.AddrPortFrom(cliAddr.Addr(), uint16(40000+i))
		cfg.Client.ISN = uint32(i) * 100003
		cfg.Start = t0.Add(time.Duration(i) * time.Millisecond)
		c := synth.NewConn(cfg)
		c.Handshake()
		c.Send(synth.Client, 300)
		c.Send(synth.Server, 1<<20)
		c.Wait(time.Second)
		all = append(all, c.Capture(atClient))
	}
	s := &steady{}
	d := packet.NewDecoder()
	var p packet.Packet
	type dirKey struct {
		k flow.Key
		d flow.Dir
	}
	var t0, t1 capture.Time
	for i, f := range merge(all...) {
		fr := &capture.Frame{Number: int64(i + 1), Time: capture.Time(f.Time.UnixNano()), Data: f.Data, OrigLen: len(f.Data), LinkType: capture.LinkEthernet}
		s.frames = append(s.frames, fr)
		d.Decode(fr, &p)
		if p.TCP.Flags()&(header.FlagSYN|header.FlagFIN|header.FlagRST) == 0 {
			s.replay = append(s.replay, i)
		}
	}
	// Skip the first quarter: the handshakes and requests of the later
	// connections.
	s.replay = s.replay[len(s.replay)/4:]
	first, end := map[dirKey]uint32{}, map[dirKey]uint32{}
	for j, i := range s.replay {
		d.Decode(s.frames[i], &p)
		if j == 0 {
			t0 = p.Time
		}
		t1 = p.Time
		k, dir := flow.New(6, p.Src, p.SrcPort, p.Dst, p.DstPort)
		dk := dirKey{k, dir}
		if _, ok := first[dk]; !ok {
			first[dk], end[dk] = p.TCP.Seq(), p.TCP.Seq()
		}
		if e := p.TCP.Seq() + uint32(p.PayloadLen); seqnum.Value(e).GreaterThan(seqnum.Value(end[dk])) {
			end[dk] = e
		}
	}
	s.span = t1.Sub(t0) + time.Millisecond
	for _, i := range s.replay {
		d.Decode(s.frames[i], &p)
		k, dir := flow.New(6, p.Src, p.SrcPort, p.Dst, p.DstPort)
		a, b := dirKey{k, dir}, dirKey{k, dir.Reverse()}
		s.delta = append(s.delta, end[a]-first[a])
		s.ackD = append(s.ackD, end[b]-first[b])
	}
	// Decode the replay frames into packets that stay valid: each frame
	// gets its own copy of the bytes.
	s.pkts = make([]packet.Packet, len(s.replay))
	for j, i := range s.replay {
		f := *s.frames[i]
		f.Data = append([]byte(nil), f.Data...)
		s.frames[i] = &f
		packet.NewDecoder().Decode(&f, &s.pkts[j])
	}
	return s
}

// shift moves replay packet j on by one lap: sequence and ACK numbers in
// the frame (with the checksum fixed incrementally, RFC 1624) and time.
func (s *steady) shift(j int) {
	p := &s.pkts[j]
	t := p.TCP
	seq, ack := t.Seq(), t.Ack()
	setField(t, 4, seq, seq+s.delta[j])
	if t.Has(header.FlagACK) {
		setField(t, 8, ack, ack+s.ackD[j])
	}
	p.Time = p.Time.Add(s.span)
}

// setField writes v at off in a TCP header and updates the checksum.
func setField(t header.TCP, off int, old, v uint32) {
	binary.BigEndian.PutUint32(t[off:], v)
	sum := uint32(^binary.BigEndian.Uint16(t[16:]))
	for _, w := range [...]uint16{uint16(old >> 16), uint16(old)} {
		sum += uint32(^w)
	}
	sum += v>>16 + v&0xffff
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(t[16:], ^uint16(sum))
}

// warm feeds the whole capture to tr, then one lap of the replay, so that
// every connection is known and every buffer grown.
func (s *steady) warm(tr *conn.Tracker, a *tcp.Annotation) {
	d := packet.NewDecoder()
	var p packet.Packet
	for _, f := range s.frames {
		d.Decode(f, &p)
		tr.Observe(&p, a)
	}
	for j := range s.pkts {
		s.shift(j)
		tr.Observe(&s.pkts[j], a)
	}
}

// TestObserveAllocFree: once connections are known, a packet costs no
// allocation.
func TestObserveAllocFree(t *testing.T) {
	s := newSteady(t)
	var recs []*conn.Record
	tr := conn.New(conn.DefaultOptions(), func(r *conn.Record) { recs = append(recs, r) })
	a := &tcp.Annotation{}
	s.warm(tr, a)
	j := 0
	allocs := testing.AllocsPerRun(3*len(s.pkts), func() {
		s.shift(j)
		tr.Observe(&s.pkts[j], a)
		j = (j + 1) % len(s.pkts)
	})
	if allocs != 0 {
		t.Errorf("%.3f allocations per packet of a known connection", allocs)
	}
	if len(recs) != 0 || tr.Stats().Live != 16 || tr.Stats().SumDropped != 0 {
		t.Errorf("the replay broke the connections: %d records, %+v", len(recs), tr.Stats())
	}
	tr.Finish()
	// The laps continued the connections: no retransmission, gap or bad
	// checksum, and the bytes of every lap counted.
	for _, r := range recs {
		if r.History != "ShADd" || r.State != conn.S1 || r.MissedBytes != 0 || r.RespBytes < 3<<20 {
			t.Errorf("%v: %s %v missed %d, %d bytes", r.ID, r.History, r.State, r.MissedBytes, r.RespBytes)
		}
	}
}

// BenchmarkObserveKnown: Observe alone, per packet of known connections.
func BenchmarkObserveKnown(b *testing.B) {
	s := newSteady(b)
	tr := conn.New(conn.DefaultOptions(), nil)
	a := &tcp.Annotation{}
	s.warm(tr, a)
	b.ReportAllocs()
	j := 0
	for b.Loop() {
		s.shift(j)
		tr.Observe(&s.pkts[j], a)
		j++
		if j == len(s.pkts) {
			j = 0
		}
	}
}

// BenchmarkDecodeObserveKnown: decoding and Observe, per packet, next to
// BenchmarkDecodeOnly (the same frames decoded and nothing else).
func BenchmarkDecodeObserveKnown(b *testing.B) { benchDecode(b, true) }
func BenchmarkDecodeOnly(b *testing.B)         { benchDecode(b, false) }

func benchDecode(b *testing.B, observe bool) {
	s := newSteady(b)
	tr := conn.New(conn.DefaultOptions(), nil)
	a := &tcp.Annotation{}
	s.warm(tr, a)
	d := packet.NewDecoder()
	var p packet.Packet
	b.ReportAllocs()
	j := 0
	for b.Loop() {
		s.shift(j)
		f := s.frames[s.replay[j]]
		f.Time = s.pkts[j].Time
		d.Decode(f, &p)
		if observe {
			tr.Observe(&p, a)
		}
		j++
		if j == len(s.pkts) {
			j = 0
		}
	}
}
