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
	t.Parallel()
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

// TestConnLossRecovery loses the 5th data segment of a 100 KB answer once:
// the receiver sends duplicate ACKs with SACK blocks and the sender fast
// retransmits; a duplicated and a delayed (reordered) segment follow.
func TestConnLossRecovery(t *testing.T) {
	t.Parallel()
	c := NewConn(testConfig())
	c.Lose(Match{From: Server, Data: 1, Nth: 5})
	c.Fault(Match{From: Server, Data: 1, Nth: 30}, Fate{Duplicate: true})
	c.Fault(Match{From: Server, Data: 1, Nth: 50}, Fate{Delay: 20 * time.Microsecond})
	c.Handshake()
	c.Send(Client, 400)
	c.Send(Server, 100000)
	c.Close(Client)
	c.Close(Server)
	if !c.ends[Client].finRcvd || !c.ends[Server].finRcvd {
		t.Fatal("connection did not close on both sides")
	}
	atServer := writeFrames(t, "loss-server.pcap", LinkEthernet, c.Capture(Vantage{At: 1}))
	atClient := writeFrames(t, "loss-client.pcap", LinkEthernet, c.Capture(Vantage{At: 0}))
	for _, p := range []string{atServer, atClient} {
		checkClean(t, p, "Previous segment(s) not captured", "Duplicate ACK", "out-of-order", "retransmission")
		expectCount(t, p, "tcp.flags.fin==1", 2)
	}
	// The sender's capture has every segment; the dup ACKs reach it one
	// RTT late, so more than three arrive before the fast retransmission.
	expectCount(t, atServer, "tcp.analysis.fast_retransmission", 1)
	if n := count(t, atServer, "tcp.analysis.duplicate_ack"); n < 3 {
		t.Errorf("server capture: %d duplicate ACKs, want at least 3", n)
	}
	// The receiver's capture lacks the lost one, has the duplicated one
	// twice and the delayed one out of order.
	expectCount(t, atClient, "tcp.analysis.fast_retransmission", 1)
	expectCount(t, atClient, "tcp.analysis.spurious_retransmission", 1)
	expectCount(t, atClient, "tcp.analysis.out_of_order", 1)
	if n := count(t, atClient, "tcp.analysis.duplicate_ack && tcp.options.sack_le"); n < 3 {
		t.Errorf("client capture: %d duplicate ACKs with SACK blocks, want at least 3", n)
	}
	if n, m := count(t, atClient, "ip.src==10.2.0.2 && tcp.len>0"), count(t, atServer, "ip.src==10.2.0.2 && tcp.len>0"); n != m {
		t.Errorf("client saw %d data segments, server sent %d: want equal (one lost, one duplicated)", n, m)
	}
}

func TestConnHandshakes(t *testing.T) {
	t.Parallel()
	t.Run("syn-lost", func(t *testing.T) {
		c := NewConn(testConfig())
		c.Lose(Match{From: Client, Flags: SYN, Nth: 1})
		c.Handshake()
		p := writeFrames(t, "synlost.pcap", LinkEthernet, c.Capture(Vantage{At: 0}))
		checkFields(t, p, []string{"frame.time_relative", "tcp.flags.str", "tcp.analysis.retransmission"},
			"0.000000000|··········S·|", "1.000000000|··········S·|1", "1.010000000|·······A··S·|", "1.010000000|·······A····|")
	})
	t.Run("refused", func(t *testing.T) {
		cfg := testConfig()
		cfg.Server.Refuse = true
		c := NewConn(cfg)
		c.Handshake()
		p := writeFrames(t, "refused.pcap", LinkEthernet, c.Capture(Vantage{At: 0}))
		checkFields(t, p, []string{"tcp.flags.str", "tcp.seq", "tcp.ack", "ip.id"},
			"··········S·|1000|0|0x0000", "·······A·R··|0|1001|0x0000")
	})
	t.Run("unanswered", func(t *testing.T) {
		cfg := testConfig()
		cfg.Retries = 2
		c := NewConn(cfg)
		c.Lose(Match{From: Client, Flags: SYN})
		c.Handshake()
		p := writeFrames(t, "unanswered.pcap", LinkEthernet, c.Capture(Vantage{At: 0}))
		checkFields(t, p, []string{"frame.time_relative", "tcp.flags.str"},
			"0.000000000|··········S·", "1.000000000|··········S·", "3.000000000|··········S·")
	})
	t.Run("ipv6-no-options", func(t *testing.T) {
		cfg := testConfig()
		cfg.Client.Addr = netip.MustParseAddrPort("[2001:db8::1]:40000")
		cfg.Server.Addr = netip.MustParseAddrPort("[2001:db8::2]:443")
		cfg.Server.NoSACK, cfg.Server.NoWScale = true, true
		c := NewConn(cfg)
		c.Handshake()
		c.Send(Client, 5000)
		p := writeFrames(t, "v6.pcap", LinkEthernet, c.Capture(Vantage{At: 1}))
		checkClean(t, p)
		checkFields(t, p, []string{"tcp.flags.str", "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.len"},
			"··········S·|1440|7|0", "·······A··S·|1440||0", "·······A····|||0",
			"·······A····|||1428", "·······A····|||1428", "·······A····|||0", "·······A····|||1428", "·······AP···|||716",
			"·······A····|||0")
	})
}

// TestConnVantages captures one connection at three points: the client,
// behind a NAT that also shifts sequence numbers (with a clock 90 s
// ahead), and over VLANs with Linux cooked framing.
func TestConnVantages(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Hops = 2
	c := NewConn(cfg)
	c.Handshake()
	c.Send(Client, 100)
	c.Send(Server, 100)
	c.Close(Client)
	c.Close(Server)
	public := netip.MustParseAddrPort("203.0.113.7:61000")
	const shift = 0x10000000
	nat := func(p *Packet) {
		if p.From == Client {
			p.Src = public
			p.Seq += shift
		} else {
			p.Dst = public
			p.Ack += shift
		}
	}
	client := writeFrames(t, "v-client.pcap", LinkEthernet, c.Capture(Vantage{At: 0}))
	server := writeFrames(t, "v-server.pcap", LinkEthernet, c.Capture(Vantage{At: 0.9, Clock: 90 * time.Second, Edit: nat}))
	cooked := Vantage{At: 0.5, Link: LinkLinuxSLL2}
	mid := writeFrames(t, "v-mid.pcap", cooked.LinkType(), c.Capture(cooked))
	for _, p := range []string{client, server, mid} {
		checkClean(t, p)
	}
	a := fields(t, client, "", "frame.time_epoch", "ip.src", "tcp.srcport", "tcp.seq", "ip.ttl")
	b := fields(t, server, "", "frame.time_epoch", "ip.src", "tcp.srcport", "tcp.seq", "ip.ttl")
	if len(a) != len(b) {
		t.Fatalf("%d frames at the client, %d at the server", len(a), len(b))
	}
	var ta, tb float64
	fmt.Sscan(a[0][0], &ta)
	fmt.Sscan(b[0][0], &tb)
	if d := tb - ta; d < 90.0045-1e-6 || d > 90.0045+1e-6 {
		t.Errorf("SYN seen %.6f s later at the server's capture, want 90.0045 (offset + 0.9 one-way delay)", d)
	}
	if a[0][1] != "10.1.0.1" || b[0][1] != "203.0.113.7" || b[0][2] != "61000" {
		t.Errorf("SYN source: client capture %v, server capture %v", a[0], b[0])
	}
	if a[0][3] != "1000" || b[0][3] != fmt.Sprint(1000+shift) {
		t.Errorf("SYN seq: %s at the client, %s behind the NAT, want 1000 and %d", a[0][3], b[0][3], 1000+shift)
	}
	if a[0][4] != "64" || b[0][4] != "62" {
		t.Errorf("SYN TTL %s at the client, %s after two routers", a[0][4], b[0][4])
	}
	checkFields(t, mid, []string{"sll.pkttype", "ip.ttl"}, strings.Split(strings.Repeat("0|63,", len(a)), ",")[:len(a)]...)
}

// TestTakeMatchesCapture: taking frames after every operation yields the
// same frames, in the same order, as one Capture at the end.
func TestTakeMatchesCapture(t *testing.T) {
	t.Parallel()
	script := func(c *Conn, after func()) {
		c.Lose(Match{From: Server, Data: 1, Nth: 3})
		c.Handshake()
		after()
		for range 3 {
			c.Send(Client, 500)
			after()
			c.Send(Server, 30000)
			after()
		}
		c.Close(Client)
		after()
		c.Close(Server)
		c.Wait(time.Second)
		after()
	}
	v := Vantage{At: 0.5, Pad: true, VLANs: []uint16{7}}
	whole := NewConn(testConfig())
	script(whole, func() {})
	want := whole.Capture(v)
	var got []Frame
	c := NewConn(testConfig())
	script(c, func() {
		for _, f := range c.Take(v) {
			if len(got) > 0 && f.Time.Before(got[len(got)-1].Time) {
				t.Fatalf("Take went back in time: %v after %v", f.Time, got[len(got)-1].Time)
			}
			f.Data = append([]byte(nil), f.Data...)
			got = append(got, f)
		}
	})
	if len(got) != len(want) {
		t.Fatalf("Take gave %d frames, Capture %d", len(got), len(want))
	}
	for i := range got {
		if !got[i].Time.Equal(want[i].Time) || string(got[i].Data) != string(want[i].Data) {
			t.Fatalf("frame %d differs: %v % x\nvs %v % x", i, got[i].Time, got[i].Data[:20], want[i].Time, want[i].Data[:20])
		}
	}
	if len(c.Packets()) != 0 {
		t.Errorf("%d packets left after the last Take", len(c.Packets()))
	}
}

// TestConnInject: a firewall in the middle drops the SYNs and answers each
// with ICMP admin-prohibited; later a forged RST with a foreign TTL.
func TestConnInject(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Retries = 1
	c := NewConn(cfg)
	c.Fault(Match{From: Client, Flags: SYN}, Fate{Lost: true, At: 0.6})
	fw := netip.MustParseAddr("10.9.0.254")
	c.Handshake()
	for _, p := range c.Packets() {
		if p.Flags&SYN == 0 {
			continue
		}
		c.Inject(Packet{From: Server, Origin: 0.5, Sent: p.Sent.Add(5 * time.Millisecond), TTL: 255,
			SrcMAC: srvMAC, DstMAC: cliMAC, Custom: []Layer{
				&IPv4{Src: fw, Dst: p.Src.Addr(), TTL: 255}, &ICMPv4{Type: 3, Code: 13},
				Quote(28, &IPv4{Src: p.Src.Addr(), Dst: p.Dst.Addr(), DF: true, TTL: p.TTL}, &TCP{SrcPort: p.Src.Port(), DstPort: p.Dst.Port(), Seq: p.Seq, Flags: SYN}),
			}})
	}
	rst := c.Template(Server)
	rst.Flags, rst.TTL, rst.Origin, rst.Options = RST, 250, 0.5, nil
	c.Inject(rst)
	atClient := writeFrames(t, "fw-client.pcap", LinkEthernet, c.Capture(Vantage{At: 0}))
	atServer := writeFrames(t, "fw-server.pcap", LinkEthernet, c.Capture(Vantage{At: 1}))
	checkFields(t, atClient, []string{"frame.time_relative", "ip.src", "icmp.type", "icmp.code", "tcp.flags.str", "ip.ttl"},
		"0.000000000|10.1.0.1|||··········S·|64",
		// Sent 5 ms after the SYN from the middle: 2.5 ms on the way. Eight
		// quoted TCP bytes hold no flags.
		"0.007500000|10.9.0.254,10.1.0.1|3|13||255,64",
		"1.000000000|10.1.0.1|||··········S·|64",
		"1.007500000|10.9.0.254,10.1.0.1|3|13||255,64",
		"3.002500000|10.2.0.2|||·········R··|250")
	checkClean(t, atClient, "Connection reset")
	expectCount(t, atServer, "", 0)
}
