package lab

import (
	"context"
	"fmt"
	"strings"
)

func healthy() Scenario {
	return Scenario{
		Name: "healthy",
		Doc:  "a baseline with nothing wrong: keep-alive HTTP with three framings, a short connection and a 64 KiB download",
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, true); err != nil {
				return err
			}
			if _, err := l.server(ctx, server, bulkPort, l.agent("bulk-send", "-listen", fmt.Sprintf(":%d", bulkPort), "-size", fmt.Sprint(64<<10))...); err != nil {
				return err
			}
			return l.clients(ctx, client,
				l.agent("http-client", "-server", ep(serverAddr, webPort), "-sport", "40001", "-get", "200,3000:chunked,100", "-idle", "50ms"),
				l.agent("http-client", "-server", ep(serverAddr, webPort), "-sport", "40101", "-get", "500:close"),
				l.agent("bulk-recv", "-server", ep(serverAddr, bulkPort), "-sport", "40201", "-want", fmt.Sprint(64<<10)))
		},
		check: func(v *verifier) {
			v.eq(4, "client", "HTTP 200s", func(p pkt) bool { return p.HTTPCode == 200 })
			checkDownload(v, "client", bulkPort, 64<<10)
			for _, vp := range []string{"client", "server"} {
				v.eq(0, vp, "RSTs", pkt.rst)
			}
			v.noLoss("server", "client", func(p pkt) bool { return p.data() && p.Src == serverAddr })
			v.noLoss("client", "server", func(p pkt) bool { return p.data() && p.Src == clientAddr })
		},
		Truth: Truth{Worst: "info"},
	}
}

// httpRequests is what the HTTP scenarios ask for: sizes and framings.
const httpRequests = "200,5000:chunked,300,12000,100:chunked"

func httpKeepalive() Scenario {
	return Scenario{
		Name: "http-keepalive",
		Doc:  "five HTTP/1.1 requests on one keep-alive connection; the client closes when done",
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, true); err != nil {
				return err
			}
			return l.get(ctx, webPort, "-sport", "40001", "-get", httpRequests, "-idle", "50ms")
		},
		check: func(v *verifier) {
			v.eq(1, "client", "SYNs", pkt.syn)
			v.eq(5, "client", "HTTP 200s", func(p pkt) bool { return p.HTTPCode == 200 })
			fins := v.find("client", pkt.fin)
			v.that(len(fins) == 2 && fins[0].Src == clientAddr, "client: the client closes first (%d FINs)", len(fins))
		},
		Truth: Truth{Worst: "info"},
	}
}

func httpNoKeepalive() Scenario {
	return Scenario{
		Name: "http-no-keepalive",
		Doc:  "the client asks for keep-alive but the server answers Connection: close and closes after every response: one connection per request (the F5 story's Go 1.4.3 problem)",
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, false); err != nil {
				return err
			}
			return l.get(ctx, webPort, "-sport", "40001", "-get", httpRequests, "-idle", "50ms")
		},
		check: func(v *verifier) {
			v.eq(5, "client", "SYNs", pkt.syn)
			for port := 40001; port <= 40005; port++ {
				onConn := func(p pkt) bool { return p.conn(port, webPort) }
				v.eq(1, "client", fmt.Sprintf(":%d: HTTP 200s", port), func(p pkt) bool { return onConn(p) && p.HTTPCode == 200 })
				fins := v.find("client", func(p pkt) bool { return onConn(p) && p.fin() })
				v.that(len(fins) == 2 && fins[0].Src == serverAddr, "client: :%d: the server closes first", port)
			}
		},
		Truth: Truth{
			Expect: []string{"conn.no-reuse"},
			Worst:  "warning",
			Facts: []Fact{
				{Finding: "conn.no-reuse", Text: "5 requests from 10.99.0.2 to 10.99.1.2:80 over 5 connections, one each, although the client speaks HTTP/1.1 without Connection: close; the server answers Connection: close and sends the first FIN every time (so it holds each 4-tuple in TIME_WAIT): 5 handshakes for 5 requests", Values: []string{"10.99.1.2"}},
			},
		},
	}
}

func oncrpc() Scenario {
	return Scenario{
		Name:  "oncrpc",
		Doc:   "rpcinfo queries rpcbind over TCP: a dump, a good call, a call to a version rpcbind lacks (PROG_MISMATCH) and to a program it does not serve (PROG_UNAVAIL)",
		needs: []string{"rpcbind", "rpcinfo"},
		run: func(ctx context.Context, l *lab) error {
			// rpcbind keeps its socket and lock in /run: a private tmpfs
			// (ip netns exec gives each command its own mount namespace)
			// keeps it from meeting the host's or another run's rpcbind.
			if _, err := l.server(ctx, server, rpcPort, "sh", "-c", "mount -t tmpfs tmpfs /run && mkdir -p /run/rpcbind && exec rpcbind -f"); err != nil {
				return err
			}
			for _, args := range []string{
				"-p " + serverAddr,
				"-t " + serverAddr + " 100000 4",
				"-t " + serverAddr + " 100000 5",
				// -a: call this universal address (port 111 = 0.111)
				// directly, without asking rpcbind where 100003 lives.
				"-a " + serverAddr + ".0.111 -T tcp 100003 3",
			} {
				if err := l.client(ctx, client, append([]string{"rpcinfo"}, strings.Fields(args)...)...); err != nil {
					return err
				}
			}
			return nil
		},
		check: func(v *verifier) {
			reply := func(state int) func(pkt) bool {
				return func(p pkt) bool { return p.from(serverAddr, rpcPort) && p.RPCState == state }
			}
			v.atLeast(2, "client", "RPC replies SUCCESS", reply(0))
			v.eq(1, "client", "RPC replies PROG_UNAVAIL", reply(1))
			v.eq(1, "client", "RPC replies PROG_MISMATCH, versions 2 to 4", func(p pkt) bool { return reply(2)(p) && p.RPCLow == 2 && p.RPCHigh == 4 })
			v.eq(0, "client", "RSTs from the server", func(p pkt) bool { return p.rst() && p.Src == serverAddr })
		},
		Truth: Truth{
			Expect: []string{"app.error-reply"},
			Facts: []Fact{
				{Finding: "app.error-reply", Text: "a call from 10.99.0.2 to portmapper (program 100000) version 5 at 10.99.1.2:111 is answered PROG_MISMATCH: versions 2 to 4 supported", Values: []string{"100000"}},
				{Finding: "app.error-reply", Text: "a call to NFS (program 100003) version 3 at 10.99.1.2:111 is answered PROG_UNAVAIL: rpcbind does not serve it", Values: []string{"100003"}},
			},
		},
	}
}
