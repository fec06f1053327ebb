package conn_test

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/packet"
)

// scan streams a SYN scan from internal/synth: one scanner probing n
// distinct (address, port) targets from changing source ports, a SYN every
// gap. A quarter of the targets answer RST/ACK (closed), one in sixteen
// SYN-ACK (open, then reset by the scanner), the rest never answer.
type scan struct {
	eth  synth.Ethernet
	ip   synth.IPv4
	tcp  synth.TCP
	buf  []byte
	f    capture.Frame
	next int64
}

func (s *scan) emit(t time.Time, src, dst netip.AddrPort, flags uint8, seq, ack uint32, yield func(*capture.Frame)) {
	s.ip.Src, s.ip.Dst = src.Addr(), dst.Addr()
	s.tcp.SrcPort, s.tcp.DstPort, s.tcp.Flags, s.tcp.Seq, s.tcp.Ack = src.Port(), dst.Port(), flags, seq, ack
	s.buf = synth.Encode(s.buf[:0], &s.eth, &s.ip, &s.tcp)
	s.next++
	s.f = capture.Frame{Number: s.next, Time: capture.Time(t.UnixNano()), Data: s.buf, OrigLen: len(s.buf), LinkType: capture.LinkEthernet}
	yield(&s.f)
}

func (s *scan) run(n int, gap time.Duration, yield func(*capture.Frame)) {
	s.tcp.Window = 1024
	scanner := netip.MustParseAddr("198.51.100.7")
	type pending struct {
		at       time.Time
		from, to netip.AddrPort
		flags    uint8
		seq, ack uint32
	}
	var queue []pending // answers not yet due, in time order
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		now := start.Add(time.Duration(i) * gap)
		for len(queue) > 0 && !queue[0].at.After(now) {
			q := queue[0]
			queue = queue[1:]
			s.emit(q.at, q.from, q.to, q.flags, q.seq, q.ack, yield)
		}
		target := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1+i%1024))
		src := netip.AddrPortFrom(scanner, uint16(32768+i%28000))
		isn := uint32(i)*2654435761 + 1
		s.emit(now, src, target, synth.SYN, isn, 0, yield)
		switch {
		case i%16 == 0:
			queue = append(queue, pending{now.Add(time.Millisecond), target, src, synth.SYN | synth.ACK, ^isn, isn + 1},
				pending{now.Add(1100 * time.Microsecond), src, target, synth.RST, isn + 1, 0})
		case i%4 == 1:
			queue = append(queue, pending{now.Add(time.Millisecond), target, src, synth.RST | synth.ACK, 0, isn + 1})
		}
	}
	for _, q := range queue {
		s.emit(q.at, q.from, q.to, q.flags, q.seq, q.ack, yield)
	}
}

// TestSYNScanMemoryBounded: 2,000,000 distinct 4-tuples probed at 20,000
// SYNs per second (2.6 million packets). Memory is bounded by the
// connections live at once (an attempt lasts tcp_attempt_delay, 5 s: some
// 100,000), not by the capture: the live heap, sampled after a GC every
// 250,000 packets, must stop growing once the first attempts expire.
func TestSYNScanMemoryBounded(t *testing.T) {
	const n = 2_000_000
	states := map[conn.State]int{}
	tr := conn.New(conn.DefaultOptions(), func(r *conn.Record) { states[r.State]++ })
	d := packet.NewDecoder()
	var p packet.Packet
	var ms runtime.MemStats
	var s scan
	var early, late uint64 // peak live heap in the first 10 s of the scan, and after
	start := time.Now()
	s.run(n, 50*time.Microsecond, func(f *capture.Frame) {
		d.Decode(f, &p)
		tr.Observe(&p, nil)
		if f.Number%250000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if tr.Now().Sub(capture.Time(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano())) < 10*time.Second {
				early = max(early, ms.HeapAlloc)
			} else {
				late = max(late, ms.HeapAlloc)
			}
		}
	})
	elapsed := time.Since(start)
	st := tr.Stats()
	tr.Finish()
	t.Logf("%d SYNs, %d packets in %v (%.0f ns/packet with decoding, generation and GC sampling)", n, st.Packets, elapsed.Round(time.Millisecond), float64(elapsed.Nanoseconds())/float64(st.Packets))
	t.Logf("peak live heap: %.1f MiB in the first 10 s, %.1f MiB after; %d connections live at most (%.0f bytes each); Sys %.1f MiB",
		float64(early)/(1<<20), float64(late)/(1<<20), st.PeakLive, float64(late)/float64(st.PeakLive), float64(ms.Sys)/(1<<20))
	t.Logf("records %v", states)
	total := 0
	for _, v := range states {
		total += v
	}
	if total != n {
		t.Errorf("%d records for %d distinct 4-tuples", total, n)
	}
	// Every attempt is logged as Zeek would: S0 unanswered, REJ refused,
	// RSTO for the open ports the scanner reset.
	if states[conn.REJ] != n/4 || states[conn.RSTO] != n/16 || states[conn.S0] != n-n/4-n/16 {
		t.Errorf("states %v", states)
	}
	if st.PeakLive > 110_000 {
		t.Errorf("%d connections live at once: expired attempts were kept", st.PeakLive)
	}
	if late > early+early/10 || late > 256<<20 {
		t.Errorf("live heap grew with the capture: %.1f MiB early, %.1f MiB later", float64(early)/(1<<20), float64(late)/(1<<20))
	}
}
