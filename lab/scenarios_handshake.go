package lab

import (
	"context"
	"fmt"
)

// synRetries is the client's net.ipv4.tcp_syn_retries in syn-drop: the
// client sends synRetries+1 SYNs (at 0, 1 and 3 s) and gives up at 7 s.
// Kernels since 6.6 retry the first SYNs at linear 1 s intervals
// (net.ipv4.tcp_syn_linear_timeouts, default 4); the scenario turns that
// off where it exists (sysctl -e) so the schedule is the same on every
// kernel.
const synRetries = 2

// Every handshake scenario first makes one good request to port 80 and then
// tries port 8080, so each capture also holds the path's normal behaviour
// (TTLs, addresses) to compare the failure with.

func synDrop() Scenario {
	return Scenario{
		Name: "syn-drop",
		Doc:  "the router silently drops SYNs to port 8080 (firewall DROP); the client retries and gives up",
		setup: []step{
			{router, fmt.Sprintf("iptables -A FORWARD -p tcp --dport %d --syn -j DROP", blockedPort)},
			{client, fmt.Sprintf("sysctl -qw net.ipv4.tcp_syn_retries=%d", synRetries)},
			{client, "sysctl -qw -e net.ipv4.tcp_syn_linear_timeouts=0"},
		},
		run: func(ctx context.Context, l *lab) error {
			return handshakeTraffic(ctx, l, true)
		},
		check: func(v *verifier) {
			syn := func(p pkt) bool { return p.syn() && p.to(serverAddr, blockedPort) }
			v.eq(synRetries+1, "client", "SYNs to 8080", syn)
			v.eq(0, "client", "answers from 8080", func(p pkt) bool { return p.from(serverAddr, blockedPort) })
			v.eq(synRetries+1, "router-in", "SYNs to 8080", syn)
			v.eq(0, "router-out", "SYNs to 8080", syn)
			v.eq(0, "server", "SYNs to 8080", syn)
			if s := v.find("client", syn); len(s) == synRetries+1 {
				span := s[len(s)-1].T - s[0].T
				v.that(span > 2.5 && span < 3.5, "client: SYNs span %.2fs (1 s then 2 s back-off)", span)
			}
			goodRequest(v)
		},
		Truth: Truth{
			Expect: []string{"handshake.unanswered", "path.lost"},
			Facts: []Fact{
				{Finding: "handshake.unanswered", Text: "10.99.0.2:40002 sends 3 SYNs to 10.99.1.2:8080 (at 0, 1 and 3 s) and none is answered; the client gives up 7 s after the first (connection timed out; net.ipv4.tcp_syn_retries=2)", Values: []string{"10.99.1.2", "8080"}},
				{Finding: "handshake.unanswered", Text: "a connection to port 80 of the same server completes: the host is up, port 8080 is filtered"},
				{Finding: "path.lost", Text: "the 3 SYNs reach router-in and never router-out: dropped inside the router", Values: []string{"router-in", "router-out"}},
			},
		},
	}
}

func rejectPortUnreachable() Scenario {
	return rejectICMP("reject-port-unreachable", "icmp-port-unreachable", 3, "port unreachable", "connection refused")
}

func rejectAdminProhibited() Scenario {
	return rejectICMP("reject-admin-prohibited", "icmp-admin-prohibited", 13, "communication administratively prohibited", "no route to host")
}

// rejectICMP is a firewall REJECT answering SYNs with an ICMP error, as in
// the Gluster mount failures.
func rejectICMP(name, with string, code int, codeText, clientErr string) Scenario {
	return Scenario{
		Name: name,
		Doc:  fmt.Sprintf("the router rejects SYNs to port 8080 with ICMP %s (iptables REJECT --reject-with %s)", codeText, with),
		setup: []step{
			{router, fmt.Sprintf("iptables -A FORWARD -p tcp --dport %d -j REJECT --reject-with %s", blockedPort, with)},
		},
		run: func(ctx context.Context, l *lab) error {
			return handshakeTraffic(ctx, l, true)
		},
		check: func(v *verifier) {
			syn := func(p pkt) bool { return p.syn() && p.to(serverAddr, blockedPort) }
			icmp := func(p pkt) bool {
				return p.icmpUnreach() && p.ICMPCode == code && p.Src == clientGW && p.InnerDst == serverAddr && p.Dport == blockedPort
			}
			n := v.atLeast(1, "client", "SYNs to 8080", syn)
			v.eq(n, "client", fmt.Sprintf("ICMP type 3 code %d from %s quoting the SYN to 8080", code, clientGW), icmp)
			v.eq(n, "router-in", "the same ICMP", icmp)
			v.eq(0, "router-out", "SYNs to 8080", syn)
			v.eq(0, "router-out", "ICMP errors", func(p pkt) bool { return p.Proto == 1 })
			v.eq(0, "server", "SYNs to 8080", syn)
			goodRequest(v)
		},
		Truth: Truth{
			Expect: []string{"handshake.icmp-unreachable"},
			Allow:  []string{"path.lost", "path.injected"},
			Facts: []Fact{
				{Finding: "handshake.icmp-unreachable", Text: fmt.Sprintf("the SYN from 10.99.0.2:40002 to 10.99.1.2:8080 is answered by ICMP destination unreachable, code %d (%s), sent by 10.99.0.1 — the router, not the server; the client fails at once (%s)", code, codeText, clientErr), Values: []string{"10.99.0.1", "8080"}},
				{Finding: "handshake.icmp-unreachable", Text: "the SYN never reaches router-out or the server; port 80 of the same server works"},
			},
		},
	}
}

func rejectTCPReset() Scenario {
	return Scenario{
		Name: "reject-tcp-reset",
		Doc:  "the router answers SYNs to port 8080 with a RST in the server's name (iptables REJECT --reject-with tcp-reset)",
		setup: []step{
			{router, fmt.Sprintf("iptables -A FORWARD -p tcp --dport %d -j REJECT --reject-with tcp-reset", blockedPort)},
		},
		run: func(ctx context.Context, l *lab) error {
			return handshakeTraffic(ctx, l, true)
		},
		check: func(v *verifier) {
			rst := func(p pkt) bool { return p.rst() && p.from(serverAddr, blockedPort) }
			v.eq(1, "client", "RSTs from 10.99.1.2:8080", rst)
			v.eq(1, "client", "RSTs from 10.99.1.2:8080 with TTL 64 (made one hop closer)", func(p pkt) bool { return rst(p) && p.TTL == 64 })
			v.atLeast(1, "client", "packets from 10.99.1.2:80 with TTL 63", func(p pkt) bool { return p.from(serverAddr, webPort) && p.TTL == 63 })
			v.eq(0, "client", "packets from 10.99.1.2:80 with another TTL", func(p pkt) bool { return p.from(serverAddr, webPort) && p.TTL != 63 })
			v.eq(0, "router-out", "packets on port 8080", func(p pkt) bool { return p.tcp() && (p.Dport == blockedPort || p.Sport == blockedPort) })
			v.eq(0, "server", "packets on port 8080", func(p pkt) bool { return p.tcp() && (p.Dport == blockedPort || p.Sport == blockedPort) })
			goodRequest(v)
		},
		Truth: Truth{
			Expect: []string{"reset.forged"},
			Allow:  []string{"path.lost", "path.injected", "resets.summary"},
			Facts: []Fact{
				{Finding: "reset.forged", Text: "the RST answering 10.99.0.2:40002 → 10.99.1.2:8080 claims to come from 10.99.1.2 but arrives with TTL 64 where the server's packets arrive with 63: made one hop closer, by the router; the SYN never reaches the server", Values: []string{"10.99.1.2", "8080"}},
			},
		},
	}
}

func closedPort() Scenario {
	return Scenario{
		Name: "closed-port",
		Doc:  "nothing listens on port 8080: the server's kernel answers the SYN with RST",
		run: func(ctx context.Context, l *lab) error {
			return handshakeTraffic(ctx, l, false)
		},
		check: func(v *verifier) {
			syn := func(p pkt) bool { return p.syn() && p.to(serverAddr, blockedPort) }
			rst := func(p pkt) bool { return p.rst() && p.from(serverAddr, blockedPort) }
			v.eq(1, "server", "SYNs to 8080", syn)
			v.eq(1, "server", "RSTs from 8080, TTL 64", func(p pkt) bool { return rst(p) && p.TTL == 64 })
			v.eq(1, "client", "RSTs from 8080, TTL 63 like the server's other packets", func(p pkt) bool { return rst(p) && p.TTL == 63 })
			goodRequest(v)
		},
		Truth: Truth{
			Expect: []string{"handshake.refused"},
			Allow:  []string{"resets.summary"},
			Facts: []Fact{
				{Finding: "handshake.refused", Text: "the SYN from 10.99.0.2:40002 to 10.99.1.2:8080 is answered by RST/ACK from the server itself (TTL 63 at the client like its other packets): nothing listens on 8080", Values: []string{"10.99.1.2", "8080"}},
			},
		},
	}
}

// handshakeTraffic makes a good request to port 80 from port 40001, then
// tries port 8080 from port 40002 (with a server listening there if
// listen8080).
func handshakeTraffic(ctx context.Context, l *lab, listen8080 bool) error {
	if err := l.web(ctx, webPort, true); err != nil {
		return err
	}
	if listen8080 {
		if err := l.web(ctx, blockedPort, true); err != nil {
			return err
		}
	}
	if err := l.get(ctx, webPort, "-sport", "40001", "-get", "300"); err != nil {
		return err
	}
	return l.get(ctx, blockedPort, "-sport", "40002", "-get", "300")
}

// goodRequest checks the request to port 80 that every handshake
// scenario makes first.
func goodRequest(v *verifier) {
	v.eq(1, "client", "HTTP 200 from port 80", func(p pkt) bool { return p.from(serverAddr, webPort) && p.HTTPCode == 200 })
}
