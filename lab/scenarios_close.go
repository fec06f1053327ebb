package lab

import (
	"context"
	"fmt"
	"time"
)

// finLostTimeout is how long the client waits for the EOF in fin-lost.
const finLostTimeout = 4 * time.Second

func finLost() Scenario {
	return Scenario{
		Name: "fin-lost",
		Doc:  "the router drops small packets from the server, so its FINs never arrive; the client waits for EOF, then resets (the OpenStack story)",
		setup: []step{
			// Without timestamps the server's bare ACKs and FINs are 40-byte
			// IP packets: frames Ethernet pads to 60 bytes, the ones the
			// buggy Open vSwitch checksum dropped.
			{server, "sysctl -qw net.ipv4.tcp_timestamps=0"},
			{router, "iptables -A FORWARD -i out0 -p tcp -m length --length 0:45 -j DROP"},
		},
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, true); err != nil {
				return err
			}
			// Two PHP-like clients: HTTP/1.0, read until EOF.
			return l.get(ctx, webPort, "-sport", "40001", "-conns", "2", "-spacing", "100ms", "-get", "2000",
				"-http10", "-timeout", finLostTimeout.String(), "-reset-on-timeout")
		},
		check: func(v *verifier) {
			for _, port := range []int{40001, 40002} {
				srvFIN := func(p pkt) bool { return p.fin() && p.conn(port, webPort) && p.Src == serverAddr }
				what := fmt.Sprintf("FINs from the server on :%d", port)
				n := v.atLeast(2, "server", what+" (sent and retransmitted)", srvFIN)
				v.eq(n, "router-out", what, srvFIN)
				v.eq(0, "router-in", what, srvFIN)
				v.eq(0, "client", what, srvFIN)
				v.eq(1, "client", fmt.Sprintf("HTTP 200 on :%d", port), func(p pkt) bool { return p.conn(port, webPort) && p.HTTPCode == 200 })
				rst := v.find("client", func(p pkt) bool { return p.rst() && p.from(clientAddr, port) })
				data := v.find("client", func(p pkt) bool { return p.data() && p.from(serverAddr, webPort) && p.Dport == port })
				if v.that(len(rst) == 1 && len(data) > 0, "client: :%d resets once after the response (%d RSTs)", port, len(rst)) {
					idle := rst[0].T - data[len(data)-1].T
					// Only a lower bound is firm: a loaded machine may wake
					// the client late.
					v.that(idle > finLostTimeout.Seconds()-0.5 && idle < finLostTimeout.Seconds()+5, "client: :%d idle %.2fs between the last data and the RST", port, idle)
				}
			}
			small := func(p pkt) bool { return p.from(serverAddr, 0) && p.IPLen <= 45 }
			large := func(p pkt) bool { return p.from(serverAddr, 0) && p.IPLen > 45 }
			v.atLeast(4, "router-out", "packets of at most 45 bytes from the server", small)
			v.eq(0, "router-in", "packets of at most 45 bytes from the server", small)
			v.eq(v.count("router-out", large), "router-in", "larger packets from the server (all pass)", large)
			v.eq(0, "server", "server packets with TCP timestamps", func(p pkt) bool { return p.from(serverAddr, 0) && p.TS })
		},
		settle: 500 * time.Millisecond,
		Truth: Truth{
			Expect: []string{"close.fin-missing", "path.lost"},
			Allow:  []string{"resets.summary"},
			Facts: []Fact{
				{Finding: "close.fin-missing", Text: "on 2 connections from 10.99.0.2 (ports 40001, 40002) to 10.99.1.2:80 the 2000-byte response arrives complete (Content-Length) but the server's FIN never reaches the client; the client waits 4 s, then resets", Values: []string{"10.99.1.2"}},
				{Finding: "path.lost", Text: "the server's FINs (sent and retransmitted) and bare ACKs reach router-out and never router-in: every packet of 40 bytes (no TCP options, as the server has timestamps off; a frame Ethernet pads to 60 bytes) from the server is lost in the router, larger ones pass", Values: []string{"router-out", "router-in"}},
			},
		},
	}
}

// conntrackTimeout is the router's nf_conntrack_tcp_timeout_established in
// conntrack-idle-reset, in seconds.
const conntrackTimeout = 2

// idleClients are the pauses between the two requests of each connection
// in conntrack-idle-reset: two well below the timeout, two well above, so
// that a loaded machine's late timers cannot move one across.
var idleClients = []struct {
	port int
	idle time.Duration
}{{40001, 300 * time.Millisecond}, {40002, 600 * time.Millisecond}, {40003, 3500 * time.Millisecond}, {40004, 4500 * time.Millisecond}}

func conntrackIdleReset() Scenario {
	return Scenario{
		Name: "conntrack-idle-reset",
		Doc:  "a stateful firewall forgets idle connections after 2 s and answers their next packet with a RST",
		setup: []step{
			{router, "iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"},
			{router, "iptables -A FORWARD -p tcp --syn -m conntrack --ctstate NEW -j ACCEPT"},
			{router, "iptables -A FORWARD -p tcp -j REJECT --reject-with tcp-reset"},
			// Not loose: a mid-stream packet without state is INVALID
			// instead of being picked up as a new connection.
			{router, fmt.Sprintf("sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 net.netfilter.nf_conntrack_tcp_timeout_established=%d", conntrackTimeout)},
		},
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, true); err != nil {
				return err
			}
			var cmds [][]string
			for _, c := range idleClients {
				cmds = append(cmds, l.agent("http-client", "-server", ep(serverAddr, webPort), "-sport", fmt.Sprint(c.port),
					"-get", "300,300", "-idle", c.idle.String()))
			}
			return l.clients(ctx, client, cmds...)
		},
		check: func(v *verifier) {
			for _, c := range idleClients {
				onConn := func(p pkt) bool { return p.conn(c.port, webPort) }
				request := func(p pkt) bool { return onConn(p) && p.data() && p.Src == clientAddr }
				if c.idle < conntrackTimeout*time.Second {
					v.eq(2, "client", fmt.Sprintf(":%d (idle %v): HTTP 200s", c.port, c.idle), func(p pkt) bool { return onConn(p) && p.HTTPCode == 200 })
					v.eq(0, "client", fmt.Sprintf(":%d (idle %v): RSTs", c.port, c.idle), func(p pkt) bool { return onConn(p) && p.rst() })
					continue
				}
				what := fmt.Sprintf(":%d (idle %v)", c.port, c.idle)
				v.eq(1, "client", what+": RSTs from 10.99.1.2:80 with TTL 64 (made by the router)", func(p pkt) bool { return onConn(p) && p.rst() && p.Src == serverAddr && p.TTL == 64 })
				v.eq(2, "router-in", what+": requests", request)
				v.eq(1, "router-out", what+": requests (the second is rejected)", request)
				v.eq(0, "server", what+": RSTs", func(p pkt) bool { return onConn(p) && p.rst() })
			}
		},
		Truth: Truth{
			Expect: []string{"reset.idle-timeout"},
			Allow:  []string{"reset.forged", "path.lost", "path.injected", "resets.summary"},
			Facts: []Fact{
				{Finding: "reset.idle-timeout", Text: "connections from 10.99.0.2 (ports 40003, 40004) to 10.99.1.2:80 idle for 3.5 s and 4.5 s are reset when the client sends its next request; those idle 0.3 s and 0.6 s (ports 40001, 40002) are not: an idle timeout between 0.6 s and 3.5 s (the router's nf_conntrack_tcp_timeout_established=2)", Values: []string{"10.99.1.2"}},
				{Finding: "reset.idle-timeout", Text: "the RSTs are made by the router (TTL 64 where the server's packets arrive with 63); the request never reaches the server, which sees no RST"},
			},
		},
	}
}

// Numbers of timewait-reuse.
const (
	twPort  = 40001
	twSYNs  = 3
	twBelow = 1000000
	twMark  = "0x5157"
)

func timewaitReuse() Scenario {
	return Scenario{
		Name: "timewait-reuse",
		Doc:  "a client reuses a 4-tuple the server still holds in TIME_WAIT, with a lower ISN and no timestamps: bare ACKs instead of SYN-ACKs (the F5 story)",
		setup: []step{
			// The F5 stripped timestamps; without them Linux cannot
			// accept a SYN for a TIME_WAIT tuple unless its ISN is higher.
			{client, "sysctl -qw net.ipv4.tcp_timestamps=0"},
			// The raw client has no socket: keep the client kernel from
			// resetting the server's answers (the raw client's own RST
			// carries the mark).
			{client, fmt.Sprintf("iptables -A OUTPUT -p tcp --sport %d --tcp-flags RST RST -m mark ! --mark %s -j DROP", twPort, twMark)},
		},
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, false); err != nil {
				return err
			}
			return l.client(ctx, client, l.agent("raw-syn", "-server", ep(serverAddr, webPort), "-sport", fmt.Sprint(twPort),
				"-syns", fmt.Sprint(twSYNs), "-interval", "1s", "-below", fmt.Sprint(twBelow), "-pause", "500ms", "-mark", twMark)...)
		},
		check: func(v *verifier) {
			onConn := func(p pkt) bool { return p.conn(twPort, webPort) }
			v.eq(1+twSYNs, "server", "SYNs on the 4-tuple", func(p pkt) bool { return onConn(p) && p.syn() })
			v.eq(1, "server", "SYN-ACKs", func(p pkt) bool { return onConn(p) && p.synAck() })
			fins := v.find("server", func(p pkt) bool { return onConn(p) && p.fin() })
			if !v.that(len(fins) == 2 && fins[0].Src == serverAddr, "server: the server sends the first FIN (%d FINs)", len(fins)) {
				return
			}
			rcvNxt := fins[1].Seq + 1 // the client's FIN ends the old connection
			syns := v.find("server", func(p pkt) bool { return onConn(p) && p.syn() && p.T > fins[1].T })
			for _, s := range syns {
				v.that(s.Seq == rcvNxt-twBelow && !s.TS, "server: reused SYN seq %d = old RCV.NXT %d - %d, timestamps present: %v", s.Seq, rcvNxt, twBelow, s.TS)
			}
			if !v.that(len(syns) == twSYNs, "server: %d SYNs after the old connection closed", len(syns)) {
				return
			}
			v.that(syns[0].T-fins[1].T < 1, "server: first reused SYN %.2fs after the old connection closed", syns[0].T-fins[1].T)
			staleAck := func(p pkt) bool {
				return onConn(p) && p.Src == serverAddr && p.bareAck() && p.T >= syns[0].T && p.Ack == rcvNxt
			}
			v.eq(twSYNs, "server", "bare ACKs answering them with the old numbers (ack = old RCV.NXT)", staleAck)
			v.eq(twSYNs, "client", "those bare ACKs arrive", staleAck)
			v.eq(1, "client", "RSTs from the client (only the raw client's)", func(p pkt) bool { return onConn(p) && p.rst() && p.Src == clientAddr })
		},
		Truth: Truth{
			Expect: []string{"handshake.stale-ack"},
			Allow:  []string{"resets.summary", "conn.no-reuse"},
			Facts: []Fact{
				{Finding: "handshake.stale-ack", Text: "10.99.1.2:80 closed its connection with 10.99.0.2:40001 first and holds it in TIME_WAIT; about 0.5 s later 3 SYNs on the same 4-tuple, 1 s apart, with an ISN 1000000 below the server's RCV.NXT, are each answered by a bare ACK carrying the old connection's numbers", Values: []string{"10.99.0.2", "40001"}},
				{Finding: "handshake.stale-ack", Text: "no TCP timestamps on either side (the client has them off), so the server cannot accept the reused tuple; the client gives up with a RST after 3 SYNs (net.ipv4.tcp_tw_reuse on the client would not help)"},
			},
		},
	}
}
