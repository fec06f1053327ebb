package lab

import (
	"context"
	"fmt"
	"time"
)

// Path drops: each router drops packets of one direction only, r2 also
// translates the client's address, and two captures run only part of the
// time, so that a correlation must put every loss at the right router and
// claim nothing where a capture was not running.
const (
	dropRequestEvery = 5  // r1 drops one client request in this many
	dropSegmentEvery = 15 // r2 drops one full-size server segment in this many
	pathDropsPorts   = "62000-62099"
	pathDropsWorkers = 4
	pathDropsGets    = 12
	windowLate       = 1200 * time.Millisecond // r1-out's capture starts this long after the traffic
	windowEarly      = 2500 * time.Millisecond // r2-in's capture stops this long after the traffic starts
)

func pathDrops() Scenario {
	gets := "2000"
	for range pathDropsGets - 1 {
		gets += ",2000"
	}
	return Scenario{
		Name: "path-drops",
		Doc: fmt.Sprintf("r1 drops one client request in %d, r2 source-NATs the client and drops one full-size server segment in %d; "+
			"the capture at r1-out starts %v late and the one at r2-in stops %v after the traffic starts: each loss belongs to its router, none outside the overlap",
			dropRequestEvery, dropSegmentEvery, windowLate, windowEarly),
		topo: func() *topology { return twoRouters(0) },
		setup: []step{
			// A GET with timestamps is 100 bytes or more; bare ACKs are 52.
			{r1, fmt.Sprintf("iptables -A FORWARD -i in0 -p tcp --dport %d -m length --length 53:65535 -m statistic --mode nth --every %d --packet %d -j DROP", webPort, dropRequestEvery, dropRequestEvery/2)},
			{r2, fmt.Sprintf("iptables -A FORWARD -i out0 -p tcp --sport %d -m length --length 1000:65535 -m statistic --mode nth --every %d --packet %d -j DROP", webPort, dropSegmentEvery, dropSegmentEvery/2)},
			{r2, fmt.Sprintf("iptables -t nat -A POSTROUTING -o out0 -p tcp -j SNAT --to-source %s:%s", serverGW, pathDropsPorts)},
		},
		late:  map[string]time.Duration{"r1-out": windowLate},
		early: map[string]time.Duration{"r2-in": windowEarly},
		run: func(ctx context.Context, l *lab) error {
			if err := l.web(ctx, webPort, true); err != nil {
				return err
			}
			return l.get(ctx, webPort, "-sport", "40001", "-conns", fmt.Sprint(pathDropsWorkers), "-spacing", "200ms",
				"-get", gets, "-idle", "250ms", "-timeout", "5s")
		},
		check: func(v *verifier) {
			request := func(p pkt) bool { return p.data() && p.Dport == webPort }
			full := func(p pkt) bool { return p.from(serverAddr, webPort) && p.IPLen >= 1000 }
			sent := v.count("client", request)
			arrived := v.count("server", request)
			v.that(sent > arrived && arrived > 0, "r1 drops requests: %d sent by the client (with retransmissions), %d reach the server", sent, arrived)
			sentSeg, gotSeg := v.count("server", full), v.count("client", full)
			v.that(sentSeg > gotSeg && gotSeg > 0, "r2 drops full-size segments: %d sent by the server, %d reach the client", sentSeg, gotSeg)
			v.eq(0, "server", "packets from 10.99.0.2 (SNAT)", func(p pkt) bool { return p.Src == clientAddr })
			// tshark may not reassemble a response whose segment came late.
			v.atLeast(pathDropsWorkers*pathDropsGets-4, "client", "HTTP 200s", func(p pkt) bool { return p.HTTPCode == 200 })
			first := func(vp string) float64 {
				ps := v.at(vp)
				if len(ps) == 0 {
					return 0
				}
				return ps[0].T
			}
			last := func(vp string) float64 {
				ps := v.at(vp)
				if len(ps) == 0 {
					return 0
				}
				return ps[len(ps)-1].T
			}
			v.that(first("r1-out")-first("r1-in") >= windowLate.Seconds()-0.3, "r1-out's capture starts %.1f s after r1-in's", first("r1-out")-first("r1-in"))
			v.that(last("r2-out")-last("r2-in") >= 0.5, "r2-in's capture ends %.1f s before r2-out's", last("r2-out")-last("r2-in"))
		},
		limit: 60 * time.Second,
		Truth: Truth{
			Expect: []string{"path.lost", "path.modified"},
			Allow:  []string{"resets.summary"},
			Facts: []Fact{
				{Finding: "path.lost", Text: "client requests (one in 5) vanish in r1: seen at r1-in, never at r1-out (or, before r1-out's capture started, never at r2-in); each is retransmitted", Values: []string{"r1-in", "10.99.0.2"}},
				{Finding: "path.lost", Text: "full-size segments from 10.99.1.2:80 (one in 15) vanish in r2: seen at r2-out, never at r2-in (or, after r2-in's capture stopped, never at r1-out); each is retransmitted", Values: []string{"r2-out", "10.99.1.2"}},
				{Finding: "path.modified", Text: "between r2-in and r2-out 10.99.0.2 becomes 10.99.1.1 with a port in 62000-62099 (SNAT)", Values: []string{"10.99.0.2", "10.99.1.1"}},
			},
		},
	}
}
