package conn_test

import (
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// Synthetic scenarios, each a capture made packet by packet with
// internal/synth: the extras tests check what the records say about them,
// and the model test checks the Zeek columns against the Python model.

var (
	t0      = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	cliMAC  = synth.MAC{2, 0, 0, 0, 0, 1}
	srvMAC  = synth.MAC{2, 0, 0, 0, 0, 2}
	cliAddr = netip.MustParseAddrPort("10.1.0.1:46518")
	srvAddr = netip.MustParseAddrPort("10.2.0.2:80")
	fwAddr  = netip.MustParseAddr("10.9.0.254")
)

func baseConfig() synth.Config {
	return synth.Config{
		Client: synth.Endpoint{Addr: cliAddr, MAC: cliMAC, ISN: 1000, TSStart: 5000, IDStart: 3000},
		Server: synth.Endpoint{Addr: srvAddr, MAC: srvMAC, ISN: 900000, TSStart: 77000, IDMode: synth.IDLinux, IDStart: 100},
		Start:  t0,
		RTT:    10 * time.Millisecond,
	}
}

type scenario struct {
	name   string
	frames []synth.Frame
}

// write saves s as a pcap in dir and returns its path.
func (s scenario) write(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, s.name+".pcap")
	if err := synth.WriteFile(p, synth.LinkEthernet, s.frames); err != nil {
		t.Fatal(err)
	}
	return p
}

func merge(fs ...[]synth.Frame) []synth.Frame {
	var out []synth.Frame
	for _, f := range fs {
		out = append(out, f...)
	}
	slices.SortStableFunc(out, func(a, b synth.Frame) int { return a.Time.Compare(b.Time) })
	return out
}

var atClient = synth.Vantage{At: 0, Pad: true}

func scenarios() []scenario {
	var out []scenario
	add := func(name string, f []synth.Frame) { out = append(out, scenario{name, f}) }

	// A clean exchange: three requests and answers, client closes first.
	{
		c := synth.NewConn(baseConfig())
		c.Handshake()
		for range 3 {
			c.Send(synth.Client, 300)
			c.Send(synth.Server, 5000)
		}
		c.Close(synth.Client)
		c.Close(synth.Server)
		c.Wait(time.Second)
		add("clean", c.Capture(atClient))
	}
	// Loss after the capture point: the server's data is seen twice.
	{
		c := synth.NewConn(baseConfig())
		c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 5}, synth.Fate{Lost: true, At: 0.2})
		c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 9}, synth.Fate{Lost: true, At: 0.2})
		c.Handshake()
		c.Send(synth.Client, 200)
		c.Send(synth.Server, 60000)
		c.Close(synth.Server)
		c.Close(synth.Client)
		c.Wait(time.Second)
		add("loss-after", c.Capture(synth.Vantage{At: 0.5, Pad: true}))
	}
	// Loss before the capture point: holes, then retransmissions.
	{
		c := synth.NewConn(baseConfig())
		c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 4}, synth.Fate{Lost: true, At: 0.8})
		c.Handshake()
		c.Send(synth.Client, 200)
		c.Send(synth.Server, 40000)
		c.Close(synth.Client)
		c.Close(synth.Server)
		c.Wait(time.Second)
		add("loss-before", c.Capture(synth.Vantage{At: 0.5, Pad: true}))
	}
	// The server's FIN never arrives (the OpenStack case): the client sits
	// idle for 60 s, then resets.
	{
		cfg := baseConfig()
		cfg.Server.NoTimestamps = true
		c := synth.NewConn(cfg)
		c.Fault(synth.Match{From: synth.Server, Flags: synth.FIN}, synth.Fate{Lost: true, At: 0.5})
		c.Handshake()
		c.Send(synth.Client, 517)
		c.Send(synth.Server, 3800)
		c.Close(synth.Server)
		c.Wait(60 * time.Second)
		c.Reset(synth.Client)
		add("lost-fin", c.Capture(atClient))
	}
	// Nothing listening: RST/ACK.
	{
		cfg := baseConfig()
		cfg.Server.Refuse = true
		cfg.Retries = 1
		c := synth.NewConn(cfg)
		c.Handshake()
		add("refused", c.Capture(atClient))
	}
	// SYNs dropped in silence: retried, then the client gives up.
	{
		cfg := baseConfig()
		cfg.Retries = 3
		c := synth.NewConn(cfg)
		c.Lose(synth.Match{From: synth.Client, Flags: synth.SYN})
		c.Handshake()
		c.Wait(10 * time.Second)
		add("unanswered", c.Capture(atClient))
	}
	// A firewall answers each SYN with ICMP administratively prohibited.
	{
		cfg := baseConfig()
		cfg.Retries = 1
		c := synth.NewConn(cfg)
		c.Fault(synth.Match{From: synth.Client, Flags: synth.SYN}, synth.Fate{Lost: true, At: 0.6})
		c.Handshake()
		for _, p := range c.Packets() {
			if p.Flags&synth.SYN == 0 {
				continue
			}
			c.Inject(synth.Packet{From: synth.Server, Origin: 0.5, Sent: p.Sent.Add(5 * time.Millisecond), TTL: 255,
				SrcMAC: srvMAC, DstMAC: cliMAC, Custom: []synth.Layer{
					&synth.IPv4{Src: fwAddr, Dst: p.Src.Addr(), TTL: 255}, &synth.ICMPv4{Type: 3, Code: 13},
					synth.Quote(28, &synth.IPv4{Src: p.Src.Addr(), Dst: p.Dst.Addr(), DF: true, TTL: p.TTL},
						&synth.TCP{SrcPort: p.Src.Port(), DstPort: p.Dst.Port(), Seq: p.Seq, Flags: synth.SYN}),
				}})
		}
		add("icmp-prohibited", c.Capture(atClient))
	}
	// A RST forged by a middlebox five hops closer, with a foreign IP ID,
	// after the answer.
	{
		cfg := baseConfig()
		cfg.Server.TTL = 64
		cfg.Hops = 6
		c := synth.NewConn(cfg)
		c.Handshake()
		c.Send(synth.Client, 300)
		c.Send(synth.Server, 2000)
		c.Wait(2 * time.Second)
		rst := c.Template(synth.Server)
		rst.Flags, rst.Origin, rst.Options, rst.ID = synth.RST|synth.ACK, 0.3, nil, 47123
		c.Inject(rst)
		c.Wait(time.Second)
		add("forged-rst", c.Capture(atClient))
	}
	// Checksum offload on the capturing client: its own packets carry
	// partial checksums.
	{
		c := synth.NewConn(baseConfig())
		c.Handshake()
		c.Send(synth.Client, 400)
		c.Send(synth.Server, 3000)
		c.Close(synth.Client)
		c.Close(synth.Server)
		add("offload", c.Capture(synth.Vantage{At: 0, Offload: true}))
	}
	// Corruption on the way: two of the server's segments arrive with bad
	// checksums and are retransmitted.
	{
		c := synth.NewConn(baseConfig())
		c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 2}, synth.Fate{At: 0.5, Checksum: synth.BadChecksum})
		c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 6}, synth.Fate{At: 0.5, Checksum: synth.BadChecksum})
		c.Handshake()
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 20000)
		c.Close(synth.Client)
		c.Close(synth.Server)
		add("corrupt", c.Capture(atClient))
	}
	// Timestamps on one side only, IP IDs random on the server and zero
	// on the client, IPv6 is elsewhere.
	{
		cfg := baseConfig()
		cfg.Server.NoTimestamps = true
		cfg.Server.IDMode = synth.IDRandom
		cfg.Client.IDMode = synth.IDZero
		cfg.Seed = 7
		c := synth.NewConn(cfg)
		c.Handshake()
		for range 4 {
			c.Send(synth.Client, 100)
			c.Send(synth.Server, 1000)
		}
		c.Close(synth.Server)
		c.Close(synth.Client)
		add("ts-one-side", c.Capture(atClient))
	}
	// An idle minute after the last answer, then the client closes.
	{
		c := synth.NewConn(baseConfig())
		c.Handshake()
		c.Send(synth.Client, 300)
		c.Send(synth.Server, 800)
		c.Wait(time.Minute)
		c.Close(synth.Client)
		c.Close(synth.Server)
		add("idle-close", c.Capture(atClient))
	}
	// IPv6, captured in the middle, with reordering.
	{
		cfg := baseConfig()
		cfg.Client.Addr = netip.MustParseAddrPort("[fd00::1]:40000")
		cfg.Server.Addr = netip.MustParseAddrPort("[fd00::2]:443")
		c := synth.NewConn(cfg)
		c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 3}, synth.Fate{Delay: 3 * time.Millisecond, At: 0.2})
		c.Handshake()
		c.Send(synth.Client, 700)
		c.Send(synth.Server, 30000)
		c.Close(synth.Client)
		c.Close(synth.Server)
		add("ipv6-reorder", c.Capture(synth.Vantage{At: 0.5}))
	}
	// The F5 case: a closed connection's 4-tuple is reused 55 s later; the
	// server answers the new SYNs with ACKs of the old connection, and the
	// client gives up with a RST.
	{
		cfg := baseConfig()
		cfg.Client.NoTimestamps, cfg.Server.NoTimestamps = true, true
		c := synth.NewConn(cfg)
		c.Handshake()
		c.Send(synth.Client, 320)
		c.Send(synth.Server, 270)
		c.Close(synth.Server)
		c.Close(synth.Client)
		c.Wait(55 * time.Second)
		stale := c.Template(synth.Server)
		for i := range 3 {
			syn := c.Template(synth.Client)
			syn.Flags, syn.Seq, syn.Ack, syn.Options = synth.SYN, 1563951501, 0, []synth.TCPOption{synth.OptMSS(1460)}
			syn.Sent = c.Now().Add(time.Duration(i) * time.Second)
			c.Inject(syn)
			ack := stale
			ack.Sent = syn.Sent.Add(10 * time.Millisecond)
			c.Inject(ack)
		}
		rst := c.Template(synth.Client)
		rst.Flags, rst.Seq, rst.Ack, rst.Sent, rst.Options = synth.RST|synth.ACK, 4218031181, 782496990, c.Now().Add(3*time.Second), nil
		c.Inject(rst)
		add("stale-ack", c.Capture(synth.Vantage{At: 1, Pad: true}))
	}
	// Many short connections and a UDP exchange, interleaved.
	{
		var all [][]synth.Frame
		for i := range 5 {
			cfg := baseConfig()
			cfg.Client.Addr = netip.AddrPortFrom(cliAddr.Addr(), uint16(50000+i))
			cfg.Start = t0.Add(time.Duration(i) * 30 * time.Millisecond)
			cfg.Client.ISN = uint32(1000 + 77777*i)
			c := synth.NewConn(cfg)
			c.Handshake()
			c.Send(synth.Client, 100)
			c.Send(synth.Server, 200)
			c.Close(synth.Server)
			c.Close(synth.Client)
			all = append(all, c.Capture(atClient))
		}
		var udp []synth.Frame
		for i := range 3 {
			q := synth.Encode(nil, &synth.Ethernet{Src: cliMAC, Dst: srvMAC}, &synth.IPv4{Src: cliAddr.Addr(), Dst: srvAddr.Addr(), ID: uint16(i)},
				&synth.UDP{SrcPort: 5353, DstPort: 53}, synth.Payload("query"))
			r := synth.Encode(nil, &synth.Ethernet{Src: srvMAC, Dst: cliMAC}, &synth.IPv4{Src: srvAddr.Addr(), Dst: cliAddr.Addr()},
				&synth.UDP{SrcPort: 53, DstPort: 5353}, synth.Payload("answer!!"))
			at := t0.Add(time.Duration(i) * 20 * time.Second)
			udp = append(udp, synth.Frame{Time: at, Data: q}, synth.Frame{Time: at.Add(time.Millisecond), Data: r})
		}
		all = append(all, udp)
		add("many", merge(all...))
	}
	return out
}

func scenarioByName(t testing.TB, name string) scenario {
	for _, s := range scenarios() {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q", name)
	return scenario{}
}
