package tcp_test

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// synFrame builds an Ethernet/IPv4/TCP SYN from src:sport to a fixed
// server, the shape of a port scan's packets.
func synFrame(buf []byte, src uint32, sport uint16, seq uint32) []byte {
	b := buf[:54]
	clear(b)
	binary.BigEndian.PutUint16(b[12:], header.EtherTypeIPv4)
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, header.ProtoTCP
	binary.BigEndian.PutUint16(ip[2:], 40)
	binary.BigEndian.PutUint32(ip[12:], src)
	binary.BigEndian.PutUint32(ip[16:], 0x0a000001)
	t := ip[20:]
	binary.BigEndian.PutUint16(t[0:], sport)
	binary.BigEndian.PutUint16(t[2:], 80)
	binary.BigEndian.PutUint32(t[4:], seq)
	t[12], t[13] = 5<<4, header.FlagSYN
	binary.BigEndian.PutUint16(t[14:], 64240)
	return b
}

// TestSYNScanMemoryBounded streams a scan of 2,000,000 distinct 4-tuples
// (20,000 SYNs a second, each never answered) through decoder and analyzer
// and checks that live conversations and heap stay bounded: the analyzer
// keeps state for live conversations only.
func TestSYNScanMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("2M packets")
	}
	const n = 2_000_000
	dec := packet.NewDecoder()
	an := tcp.NewAnalyzer(tcp.Config{})
	var (
		p     packet.Packet
		ann   tcp.Annotation
		buf   [64]byte
		peak  uint64
		peakN int
	)
	start := capture.Time(1_700_000_000 * 1e9)
	for i := range n {
		f := capture.Frame{Number: int64(i + 1), Time: start.Add(time.Duration(i) * 50 * time.Microsecond), LinkType: capture.LinkEthernet}
		f.Data = synFrame(buf[:], 0xc0a80000+uint32(i/60000), uint16(1024+i%60000), uint32(i)*7919)
		f.OrigLen = len(f.Data)
		dec.Decode(&f, &p)
		an.Analyze(&p, &ann)
		if ann.Stream != int64(i) {
			t.Fatalf("packet %d: stream %d", i, ann.Stream)
		}
		if i%200_000 == 0 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			peakN = max(peakN, an.Live())
		}
	}
	t.Logf("2,000,000 SYNs: peak live conversations %d, peak heap in use %d MiB, released %d, evicted %d", peakN, peak>>20, an.Released, an.Evicted)
	if peakN > tcp.DefaultConfig.MaxConversations+1 {
		t.Errorf("%d live conversations, cap %d", peakN, tcp.DefaultConfig.MaxConversations)
	}
	if peak > 256<<20 {
		t.Errorf("heap grew to %d MiB", peak>>20)
	}
	if an.Evicted == 0 {
		t.Error("a 100 s scan of 2M tuples should have hit the cap")
	}
}

// TestSYNTimeoutReleases: at a slower rate the SYN timeout, not the cap,
// releases unanswered conversations: live state is what arrived in the
// last SYNTimeout.
func TestSYNTimeoutReleases(t *testing.T) {
	dec := packet.NewDecoder()
	an := tcp.NewAnalyzer(tcp.Config{})
	var (
		p   packet.Packet
		ann tcp.Annotation
		buf [64]byte
	)
	const rate = 1000 // SYNs per second
	start := capture.Time(1_700_000_000 * 1e9)
	for i := range 400 * rate {
		f := capture.Frame{Number: int64(i + 1), Time: start.Add(time.Duration(i) * time.Second / rate), LinkType: capture.LinkEthernet}
		f.Data = synFrame(buf[:], 0xc0a80000+uint32(i/60000), uint16(1024+i%60000), uint32(i))
		f.OrigLen = len(f.Data)
		dec.Decode(&f, &p)
		an.Analyze(&p, &ann)
	}
	want := int(tcp.DefaultConfig.SYNTimeout/time.Second) * rate
	if an.Live() > want+rate || an.Released == 0 || an.Evicted != 0 {
		t.Fatalf("live %d (want about %d), released %d, evicted %d", an.Live(), want, an.Released, an.Evicted)
	}
}
