package lab

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// pmtuMTU is the MTU of the r1—r2 link in pmtu-blackhole.
const pmtuMTU = 1280

func pmtuBlackhole() Scenario {
	return Scenario{
		Name: "pmtu-blackhole",
		Doc:  "a link in the middle has MTU 1280 and its router's ICMP fragmentation-needed is filtered: full-size segments vanish, small ones pass",
		topo: func() *topology { return twoRouters(pmtuMTU) },
		setup: []step{
			{r2, "iptables -A OUTPUT -p icmp --icmp-type fragmentation-needed -j DROP"},
		},
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, true); err != nil {
				return err
			}
			// A small response, then one that needs full-size segments.
			return l.get(ctx, webPort, "-sport", "40001", "-get", "300,8000", "-timeout", "4s", "-reset-on-timeout")
		},
		check: func(v *verifier) {
			big := func(p pkt) bool { return p.from(serverAddr, webPort) && p.IPLen > pmtuMTU }
			n := v.atLeast(2, "server", fmt.Sprintf("packets over %d bytes from the server (sent and retransmitted)", pmtuMTU), big)
			v.eq(n, "r2-out", "the same packets", big)
			v.eq(0, "r2-in", "packets over the link MTU", big)
			v.eq(0, "client", "packets over the link MTU", big)
			for _, vp := range []string{"client", "r1-in", "r1-out", "r2-in", "r2-out", "server"} {
				v.eq(0, vp, "ICMP fragmentation needed", func(p pkt) bool { return p.icmpUnreach() && p.ICMPCode == 4 })
			}
			resent := v.resent("server", big)
			v.that(resent >= 1, "server: %d retransmissions of full-size segments", resent)
			v.eq(1, "client", "HTTP 200 (the small response)", func(p pkt) bool { return p.from(serverAddr, webPort) && p.HTTPCode == 200 })
			v.eq(1, "client", "RSTs from the client", func(p pkt) bool { return p.rst() && p.Src == clientAddr })
			v.eq(1, "server", "SYNs with MSS 1460", func(p pkt) bool { return p.syn() && p.MSS == 1460 })
			v.eq(1, "client", "SYN-ACKs with MSS 1460", func(p pkt) bool { return p.synAck() && p.MSS == 1460 })
		},
		Truth: Truth{
			Expect: []string{"path.pmtu-blackhole"},
			Allow:  []string{"path.lost", "stall.data", "resets.summary"},
			Facts: []Fact{
				{Finding: "path.pmtu-blackhole", Text: "full-size segments (1500-byte packets) from 10.99.1.2:80 to 10.99.0.2:40001 are retransmitted and never acknowledged while small ones (the 300-byte response, the 8000-byte response's head and tail) pass; the client resets after 4 s", Values: []string{"10.99.1.2"}},
				{Finding: "path.pmtu-blackhole", Text: "no ICMP fragmentation-needed is seen at any point; both sides announce MSS 1460; the r1—r2 link has MTU 1280 and r2 filters the ICMP it would send"},
				{Finding: "path.lost", Text: "the 1500-byte packets reach r2-out and never r2-in", Values: []string{"r2-out", "r2-in"}},
			},
		},
	}
}

// Burst-drop start patterns: connections spaced out succeed, those started
// in a burst lose their first data packet.
const (
	burstRate    = 10 // SYNs per second above which the router marks connections
	spacedPort   = 41001
	spacedConns  = 3
	spacedGap    = 300 * time.Millisecond
	burstPort    = 41101
	burstConns   = 4
	burstGap     = 5 * time.Millisecond
	ftpIdleLimit = 3 * time.Second
)

func burstDrop() Scenario {
	return Scenario{
		Name: "burst-drop",
		Doc:  "a firewall marks connections whose SYN comes less than 100 ms after the previous one and drops their client data: banner arrives, AUTH is lost, 421 (the GridFTP story)",
		setup: []step{
			{router, fmt.Sprintf("iptables -A FORWARD -i in0 -p tcp --dport %d --syn -m hashlimit --hashlimit-above %d/sec --hashlimit-burst 1 --hashlimit-mode srcip --hashlimit-name burst -j CONNMARK --set-mark 1", ftpPort, burstRate)},
			// With timestamps a bare ACK or FIN is 52 bytes: only data is dropped.
			{router, "iptables -A FORWARD -i in0 -p tcp ! --syn -m connmark --mark 1 -m length --length 53:65535 -j DROP"},
		},
		run: func(ctx context.Context, l *lab) error {
			if _, err := l.server(ctx, server, ftpPort, l.agent("ftp-server", "-listen", fmt.Sprintf(":%d", ftpPort), "-idle", ftpIdleLimit.String())...); err != nil {
				return err
			}
			ftp := func(port, conns int, gap time.Duration) error {
				return l.client(ctx, client, l.agent("ftp-client", "-server", ep(serverAddr, ftpPort), "-sport", fmt.Sprint(port),
					"-conns", fmt.Sprint(conns), "-spacing", gap.String(), "-timeout", "10s")...)
			}
			if err := ftp(spacedPort, spacedConns, spacedGap); err != nil {
				return err
			}
			if err := sleep(ctx, spacedGap); err != nil {
				return err
			}
			return ftp(burstPort, burstConns, burstGap)
		},
		check: func(v *verifier) {
			// Which connections the rule marks follows from the SYN times
			// at the router: less than 1/burstRate after the previous SYN.
			syns := v.find("router-in", func(p pkt) bool { return p.syn() && p.to(serverAddr, ftpPort) })
			if !v.that(len(syns) == spacedConns+burstConns, "router-in: %d SYNs, one per connection", len(syns)) {
				return
			}
			failed := 0
			for i, s := range syns {
				marked := i > 0 && s.T-syns[i-1].T < 1.0/burstRate
				port := s.Sport
				onConn := func(p pkt) bool { return p.conn(port, ftpPort) }
				clientData := func(p pkt) bool { return onConn(p) && p.data() && p.Src == clientAddr }
				code := func(c int) func(pkt) bool { return func(p pkt) bool { return onConn(p) && p.FTPCode == c } }
				v.eq(1, "client", fmt.Sprintf(":%d: 220 banner", port), code(220))
				if !marked {
					v.eq(1, "client", fmt.Sprintf(":%d (not in a burst): 334 reply to AUTH", port), code(334))
					v.eq(0, "client", fmt.Sprintf(":%d: 421", port), code(421))
					continue
				}
				failed++
				what := fmt.Sprintf(":%d (%.0f ms after the previous SYN)", port, 1000*(s.T-syns[i-1].T))
				v.atLeast(2, "router-in", what+": client data (AUTH sent and retransmitted)", clientData)
				v.eq(0, "router-out", what+": client data", clientData)
				banner, bye := v.find("client", code(220)), v.find("client", code(421))
				if v.that(len(banner) == 1 && len(bye) == 1, "client: %s: 421 Idle Timeout received", what) {
					idle := bye[0].T - banner[0].T
					v.that(idle > ftpIdleLimit.Seconds()-0.1 && idle < ftpIdleLimit.Seconds()+3, "client: %s: 421 %.2fs after the banner", what, idle)
				}
			}
			v.that(failed == burstConns-1, "%d connections failed: all of the burst but its first", failed)
		},
		settle: 500 * time.Millisecond,
		Truth: Truth{
			Expect: []string{"stall.after-handshake"},
			Allow:  []string{"path.lost", "app.error-reply", "resets.summary"},
			Facts: []Fact{
				{Finding: "stall.after-handshake", Text: "3 of 7 control connections from 10.99.0.2 to 10.99.1.2:2811 stall right after the handshake: the server's 220 banner arrives, the client's first data (AUTH GSSAPI) is retransmitted and never acknowledged; after 3 s idle the server sends \"421 Idle Timeout: closing control connection.\"", Values: []string{"421 Idle Timeout", "10.99.1.2"}},
				{Finding: "stall.after-handshake", Text: "the failures depend on start spacing: connections started 5 ms after the previous one fail (all of the burst but its first); connections started 300 ms apart all succeed"},
				{Finding: "path.lost", Text: "the client's data on those connections reaches router-in and never router-out", Values: []string{"router-in", "router-out"}},
			},
		},
	}
}

// Bulk-random-loss: a 256 KiB download losing every 100th data segment.
const (
	bulkSize  = 256 << 10
	lossEvery = 100
)

func bulkRandomLoss() Scenario {
	return Scenario{
		Name: "bulk-random-loss",
		Doc:  "a 256 KiB download loses 1% of its data segments on the way; TCP retransmits and the transfer completes — not a fault",
		setup: []step{
			// statistic in nth mode rather than random: the same ~1% every
			// run, so the test cannot pass by luck with no loss at all.
			{router, fmt.Sprintf("iptables -A FORWARD -i out0 -p tcp --sport %d -m length --length 1000:65535 -m statistic --mode nth --every %d --packet %d -j DROP", bulkPort, lossEvery, lossEvery/2)},
		},
		run: func(ctx context.Context, l *lab) error {
			if _, err := l.server(ctx, server, bulkPort, l.agent("bulk-send", "-listen", fmt.Sprintf(":%d", bulkPort), "-size", fmt.Sprint(bulkSize))...); err != nil {
				return err
			}
			return l.client(ctx, client, l.agent("bulk-recv", "-server", ep(serverAddr, bulkPort), "-sport", "40001", "-want", fmt.Sprint(bulkSize))...)
		},
		check: func(v *verifier) {
			seg := func(p pkt) bool { return p.data() && p.from(serverAddr, bulkPort) }
			sent, arrived := v.count("router-out", seg), v.count("router-in", seg)
			lost := sent - arrived
			v.that(lost >= 1 && lost*lossEvery <= sent+lossEvery, "router: %d of %d data segments lost (1 in %d)", lost, sent, lossEvery)
			resent := v.resent("client", seg)
			v.that(resent >= lost, "client: %d retransmitted segments fill the holes", resent)
			checkDownload(v, "client", bulkPort, bulkSize)
			v.eq(0, "client", "RSTs", pkt.rst)
		},
		Truth: Truth{
			Expect: []string{"path.lost"},
			Worst:  "info",
			Facts: []Fact{
				{Finding: "path.lost", Text: "about 1% of the data segments from 10.99.1.2:5001 (2 of some 180) are lost between router-out and router-in; each is retransmitted and the 262144-byte transfer to 10.99.0.2:40001 completes: ordinary loss, no error", Values: []string{"router-out", "router-in"}},
			},
		},
	}
}

// checkDownload checks at vantage that the server sent size bytes from port
// and the client acknowledged them all and the server's FIN.
func checkDownload(v *verifier, vantage string, port, size int) {
	synAcks := v.find(vantage, func(p pkt) bool { return p.synAck() && p.from(serverAddr, port) })
	if !v.that(len(synAcks) == 1, "%s: one SYN-ACK from :%d", vantage, port) {
		return
	}
	want := synAcks[0].Seq + 1 + uint32(size) + 1 // every byte and the FIN
	v.atLeast(1, vantage, fmt.Sprintf("ACKs of all %d bytes and the FIN of :%d", size, port), func(p pkt) bool {
		return p.tcp() && p.Dst == serverAddr && p.Dport == port && p.Flags&fACK != 0 && p.Ack == want
	})
}

// SNAT and MSS clamping on the router.
const (
	snatPorts   = "61000-61099"
	snatLow     = 61000
	snatHigh    = 61099
	clampMSS    = 1200
	clampedData = clampMSS - 12 // payload per segment with timestamps
)

func snatMSSClamp() Scenario {
	return Scenario{
		Name: "snat-mss-clamp",
		Doc:  "the router source-NATs the client to its own address and ports 61000-61099 and clamps the MSS to 1200: changed on the path, not a fault",
		setup: []step{
			{router, fmt.Sprintf("iptables -t nat -A POSTROUTING -o out0 -p tcp -j SNAT --to-source %s:%s", serverGW, snatPorts)},
			{router, fmt.Sprintf("iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss %d", clampMSS)},
		},
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, true); err != nil {
				return err
			}
			return l.get(ctx, webPort, "-sport", "40001", "-get", "300,6000:chunked,6000")
		},
		check: func(v *verifier) {
			v.eq(0, "server", "packets from 10.99.0.2", func(p pkt) bool { return p.Src == clientAddr })
			nat := func(p pkt) bool { return p.from(serverGW, 0) && p.Sport >= snatLow && p.Sport <= snatHigh }
			v.atLeast(5, "server", fmt.Sprintf("packets from %s:%s", serverGW, snatPorts), nat)
			v.eq(1, "client", "SYNs sent with MSS 1460", func(p pkt) bool { return p.syn() && p.MSS == 1460 })
			v.eq(1, "server", "SYNs arriving with MSS 1200", func(p pkt) bool { return p.syn() && p.MSS == clampMSS })
			v.eq(1, "server", "SYN-ACKs sent with MSS 1460", func(p pkt) bool { return p.synAck() && p.MSS == 1460 })
			v.eq(1, "client", "SYN-ACKs arriving with MSS 1200", func(p pkt) bool { return p.synAck() && p.MSS == clampMSS })
			v.atLeast(4, "client", fmt.Sprintf("full segments of %d bytes from the server", clampedData), func(p pkt) bool { return p.from(serverAddr, webPort) && p.TCPLen == clampedData })
			v.eq(0, "client", "larger segments", func(p pkt) bool { return p.from(serverAddr, webPort) && p.TCPLen > clampedData })
			v.eq(3, "client", "HTTP 200s", func(p pkt) bool { return p.HTTPCode == 200 })
			v.noLoss("server", "client", func(p pkt) bool { return p.data() && p.from(serverAddr, webPort) })
		},
		Truth: Truth{
			Expect: []string{"path.modified"},
			Worst:  "info",
			Facts: []Fact{
				{Finding: "path.modified", Text: "between router-in and router-out 10.99.0.2:40001 becomes 10.99.1.1 with a port in 61000-61099 (SNAT)", Values: []string{"10.99.0.2", "10.99.1.1"}},
				{Finding: "path.modified", Text: "the MSS option is rewritten from 1460 to 1200 in both directions (TCPMSS clamping)", Values: []string{"1200"}},
			},
		},
	}
}

// Duplicate forwarding: the addresses of the two forwarders on the LAN.
var (
	r1MAC = iface{r1, "out0", serverGW}.mac()
	r2MAC = iface{r2, "eth0", r2LAN}.mac()
)

func duplicateForwarding() Scenario {
	return Scenario{
		Name: "duplicate-forwarding",
		Doc:  "a second router on the server's LAN forwards copies of the client's packets (iptables TEE), so the server gets each one twice (the pfsync story)",
		topo: sharedLAN,
		setup: []step{
			{r1, fmt.Sprintf("iptables -t mangle -A PREROUTING -i in0 -j TEE --gateway %s", r2LAN)},
		},
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, true); err != nil {
				return err
			}
			return l.get(ctx, webPort, "-sport", "40001", "-get", "300,4000,300", "-idle", "50ms")
		},
		check: func(v *verifier) {
			fromClient := func(p pkt) bool { return p.from(clientAddr, 40001) }
			sent := v.atLeast(5, "client", "packets from the client", fromClient)
			v.eq(2*sent, "server", "packets from the client (each twice)", fromClient)
			type key struct {
				id, flags, len int
				seq            uint32
			}
			seen := map[key][]pkt{}
			for _, p := range v.find("server", fromClient) {
				k := key{p.ID, p.Flags, p.TCPLen, p.Seq}
				seen[k] = append(seen[k], p)
			}
			pairs := 0
			for _, ps := range seen {
				srcs := []string{ps[0].EthSrc, ps[len(ps)-1].EthSrc}
				slices.Sort(srcs)
				if len(ps) == 2 && slices.Equal(srcs, []string{r1MAC, r2MAC}) && ps[0].TTL+ps[1].TTL == 63+62 {
					pairs++
				}
			}
			v.that(pairs == sent, "server: %d of %d client packets arrive twice, from %s (TTL 63) and %s (TTL 62)", pairs, sent, r1MAC, r2MAC)
			v.eq(sent, "r2", "copies r2 receives", func(p pkt) bool { return fromClient(p) && p.TTL == 63 })
			v.eq(3, "client", "HTTP 200s", func(p pkt) bool { return p.HTTPCode == 200 })
		},
		Truth: Truth{
			Expect: []string{"tcp.duplicate-forwarding"},
			Allow:  []string{"path.injected", "handshake.spurious-synack", "resets.summary"},
			Facts: []Fact{
				{Finding: "tcp.duplicate-forwarding", Text: "every packet from 10.99.0.2:40001 to 10.99.1.2:80 reaches the server twice: from 02:00:0a:63:01:01 (r1, TTL 63) and from 02:00:0a:63:01:03 (r2, TTL 62); two devices forward the same traffic", Values: []string{"02:00:0a:63:01:03"}},
			},
		},
	}
}
