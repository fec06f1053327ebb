package resets_test

import (
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// idleThen is a connection that idles for idle after its first exchange,
// then does then.
func idleThen(port int, start time.Time, idle time.Duration, then func(c *synth.Conn)) *synth.Conn {
	return simple(port, start, 2, synth.Endpoint{IDMode: synth.IDLinux}, func(c *synth.Conn) {
		c.Wait(idle)
		then(c)
	})
}

func again(c *synth.Conn) {
	c.Send(synth.Client, 100)
	c.Send(synth.Server, 3000)
	closeNormally(c)
}

// A load balancer in front of the server resets connections idle for
// 350 s, in the server's name but with its own TTL; connections idle for
// 100 s carry on.
func TestIdleTimeoutActive(t *testing.T) {
	var conns []*synth.Conn
	for i := range 3 {
		conns = append(conns, idleThen(40001+i, t0.Add(time.Duration(i)*7*time.Second), 350*time.Second, func(c *synth.Conn) {
			p := c.Template(synth.Server)
			p.Flags, p.Options, p.Origin, p.TTL = synth.RST|synth.ACK, nil, 0.5, 64
			c.Inject(p)
		}))
	}
	for i := range 2 {
		conns = append(conns, idleThen(40011+i, t0.Add(time.Duration(i)*11*time.Second), 100*time.Second, again))
	}
	rep := run(t, writeOne(t, 0, conns...))
	f := one(t, rep, "reset.idle-timeout")
	facts(t, f, map[string]string{"server": "10.2.0.2", "forged": "true"})
	factNear(t, f, "longest_idle_survived_s", 100, 0.1)
	factNear(t, f, "idle_timeout_s", 350, 0.1)
	says(t, f, "reset after being idle for 350 s", "350 s (AWS NAT gateway and NLB)", "carried on normally")
	none(t, rep, "reset.forged")
}

// The server itself resets connections idle for 60 s (its TTL): an idle
// timeout in the server, reported too.
func TestIdleTimeoutActiveServer(t *testing.T) {
	var conns []*synth.Conn
	for i := range 2 {
		conns = append(conns, idleThen(40001+i, t0.Add(time.Duration(i)*3*time.Second), 60*time.Second, func(c *synth.Conn) {
			c.Reset(synth.Server)
		}))
	}
	rep := run(t, writeOne(t, 0, conns...))
	f := one(t, rep, "reset.idle-timeout")
	facts(t, f, map[string]string{"forged": "false"})
	factNear(t, f, "idle_timeout_s", 60, 0.1)
}

// A NAT forgets idle mappings after 30 s and answers the next packet
// with a RST of its own; connections idle 10 s carry on.
func TestIdleTimeoutLazy(t *testing.T) {
	var conns []*synth.Conn
	for i, idle := range []time.Duration{45 * time.Second, 60 * time.Second, 120 * time.Second} {
		conns = append(conns, idleThen(40001+i, t0.Add(time.Duration(i)*time.Second), idle, func(c *synth.Conn) {
			c.Fault(synth.Match{From: synth.Client, Data: 1}, synth.Fate{Lost: true, At: 0.5})
			p := c.Template(synth.Server)
			p.Sent = c.Now().Add(5 * time.Millisecond)
			p.Flags, p.Options, p.Origin, p.TTL = synth.RST, nil, 0.5, 64
			c.Inject(p)
			c.Send(synth.Client, 100) // lost at the NAT
		}))
	}
	conns = append(conns, idleThen(40010, t0, 10*time.Second, again))
	rep := run(t, writeOne(t, 0, conns...))
	f := one(t, rep, "reset.idle-timeout")
	facts(t, f, map[string]string{"forged": "true"})
	factNear(t, f, "idle_timeout_min_s", 10, 0.1)
	factNear(t, f, "idle_timeout_max_s", 45, 0.1)
	says(t, f, "between 10.0 s and 45 s", "40001, 40002, 40003", "made 1 hop closer")
}

// Look-alikes.
func TestIdleTimeoutLookAlikes(t *testing.T) {
	t.Run("clients closing idle pooled connections with a reset", func(t *testing.T) {
		var conns []*synth.Conn
		for i := range 4 {
			conns = append(conns, idleThen(40001+i, t0.Add(time.Duration(i)*time.Second), 30*time.Second, func(c *synth.Conn) { c.Reset(synth.Client) }))
		}
		for _, at := range []float64{0, 1} {
			rep := run(t, writeOne(t, at, conns...))
			none(t, rep, "reset.idle-timeout", "reset.forged")
			quiet(t, rep)
		}
	})
	t.Run("server resets in the middle of data", func(t *testing.T) {
		var conns []*synth.Conn
		for i := range 3 {
			conns = append(conns, simple(40001+i, t0.Add(time.Duration(i)*time.Second), 2, synth.Endpoint{}, func(c *synth.Conn) {
				c.Reset(synth.Server)
			}))
		}
		rep := run(t, writeOne(t, 0, conns...))
		none(t, rep, "reset.idle-timeout", "reset.forged")
	})
	t.Run("a longer idle survived", func(t *testing.T) {
		a := idleThen(40001, t0, 10*time.Second, func(c *synth.Conn) { c.Reset(synth.Server) })
		b := idleThen(40002, t0.Add(time.Second), 12*time.Second, func(c *synth.Conn) { c.Reset(synth.Server) })
		ok := idleThen(40003, t0, 20*time.Second, again)
		rep := run(t, writeOne(t, 0, a, b, ok))
		none(t, rep, "reset.idle-timeout")
	})
	t.Run("one reset after idle", func(t *testing.T) {
		a := idleThen(40001, t0, 10*time.Second, func(c *synth.Conn) {
			p := c.Template(synth.Server)
			p.Sent = c.Now().Add(5 * time.Millisecond)
			p.Flags, p.Options = synth.RST, nil
			c.Inject(p)
			c.Send(synth.Client, 100)
		})
		rep := run(t, writeOne(t, 0, a))
		none(t, rep, "reset.idle-timeout")
	})
	t.Run("a server FIN retransmitted and the client's reset", func(t *testing.T) {
		// fin-lost: the server's FINs never arrive; the client gives up
		// after its timeout with a RST. Seen next to the server.
		c := simple(40001, t0, 2, synth.Endpoint{}, func(c *synth.Conn) {
			c.Lose(synth.Match{From: synth.Server, Flags: synth.FIN})
			c.Close(synth.Server)
			c.Wait(5 * time.Second)
			c.Reset(synth.Client)
		})
		rep := run(t, writeOne(t, 1, c))
		none(t, rep, "reset.idle-timeout", "reset.forged")
	})
}

// A server that restarts resets every connection on its next packet,
// idle or not: not an idle timeout.
func TestIdleTimeoutServerRestart(t *testing.T) {
	restart := func(c *synth.Conn) {
		c.Fault(synth.Match{From: synth.Client, Data: 1}, synth.Fate{Lost: true, At: 1})
		p := c.Template(synth.Server)
		p.Sent = c.Now().Add(5 * time.Millisecond)
		p.Flags, p.Options, p.Ack = synth.RST, nil, 0
		c.Inject(p)
		c.Send(synth.Client, 100)
	}
	a := idleThen(40001, t0, 30*time.Second, restart)
	b := idleThen(40002, t0.Add(time.Second), 40*time.Second, restart)
	busy := simple(40003, t0.Add(30*time.Second), 2, synth.Endpoint{}, func(c *synth.Conn) {
		for range 3 {
			c.Send(synth.Client, 100)
			c.Send(synth.Server, 1000)
		}
		restart(c)
	})
	rep := run(t, writeOne(t, 0, a, b, busy))
	none(t, rep, "reset.idle-timeout")
}
