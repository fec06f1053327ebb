package synth

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func testConfig() Config {
	return Config{
		Client: Endpoint{Addr: netip.MustParseAddrPort("10.1.0.1:46518"), MAC: cliMAC, ISN: 1000, TSStart: 5000},
		Server: Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:80"), MAC: srvMAC, ISN: 900000, TSStart: 77000, IDMode: IDLinux, IDStart: 100},
		Start:  t0,
		RTT:    10 * time.Millisecond,
	}
}

// count returns how many frames of file match a display filter.
func count(t *testing.T, file, filter string) int {
	t.Helper()
	return len(fields(t, file, filter, "frame.number"))
}

func expectCount(t *testing.T, file, filter string, want int) {
	t.Helper()
	if got := count(t, file, filter); got != want {
		t.Errorf("%s: %d frames match %q, want %d", file[strings.LastIndex(file, "/")+1:], got, filter, want)
	}
}

// TestConnLostFIN is the package example: three requests of 300 bytes,
// 2 KB answers, and the server's FIN lost every time it is sent (the
// OpenStack case: the server has no timestamps, so its bare ACKs and FINs
// are padded minimum-size frames).
func TestConnLostFIN(t *testing.T) {
	cfg := testConfig()
	cfg.Server.NoTimestamps = true
	c := NewConn(cfg)
	c.Lose(Match{From: Server, Flags: FIN})
	c.Handshake()
	for range 3 {
		c.Send(Client, 300)
		c.Send(Server, 2000)
	}
	c.Close(Server) // retransmitted until the server gives up
	c.Wait(30 * time.Second)
	c.Reset(Client)

	atServer := writeFrames(t, "lostfin-server.pcap", LinkEthernet, c.Capture(Vantage{At: 1, Pad: true}))
	atClient := writeFrames(t, "lostfin-client.pcap", LinkEthernet, c.Capture(Vantage{At: 0, Pad: true}))
	for _, p := range []string{atServer, atClient} {
		checkClean(t, p, "Connection reset (RST)")
		expectCount(t, p, "tcp.flags.syn==1", 2)
		expectCount(t, p, "tcp.len==300", 3)
		expectCount(t, p, "tcp.flags.reset==1 && ip.src==10.1.0.1", 1)
		expectCount(t, p, "tcp.options.timestamp.tsval && tcp.flags.syn==0", 0) // negotiated off
	}
	expectCount(t, atServer, "tcp.flags.fin==1", 7) // the FIN and 6 retries
	expectCount(t, atServer, "tcp.flags.fin==1 && tcp.analysis.retransmission", 6)
	expectCount(t, atClient, "tcp.flags.fin==1", 0)
	// Padding only on frames that came off the wire at the capture point.
	expectCount(t, atClient, "frame.len==54 && ip.src==10.1.0.1", count(t, atClient, "tcp.len==0 && ip.src==10.1.0.1 && tcp.flags.syn==0"))
	expectCount(t, atServer, "eth.padding && ip.src==10.1.0.1", count(t, atServer, "tcp.len==0 && ip.src==10.1.0.1 && tcp.flags.syn==0"))

	// The retransmission schedule: the timer (MinRTO + RTT) restarts when
	// the data before the FIN is acknowledged, then doubles per retry.
	rows := fields(t, atServer, "tcp.flags.fin==1", "frame.time_epoch")
	var ts []float64
	for _, r := range rows {
		var v float64
		fmt.Sscan(r[0], &v)
		ts = append(ts, v)
	}
	for i := 2; i < len(ts); i++ {
		if d, prev := ts[i]-ts[i-1], ts[i-1]-ts[i-2]; i > 2 && (d < 2*prev-1e-6 || d > 2*prev+1e-6) || i == 2 && (d < 0.42-1e-6 || d > 0.42+1e-6) {
			t.Errorf("FIN %d sent %.6f s after the previous one (%.6f before that), want doubling from 0.42", i+1, d, prev)
		}
	}
	ids := fields(t, atServer, "ip.src==10.2.0.2", "ip.id")
	if ids[0][0] != "0x0000" || ids[1][0] != "0x0064" || ids[2][0] != "0x0065" {
		t.Errorf("server IP IDs start %v, want 0, 100, 101", ids[:3])
	}
}
