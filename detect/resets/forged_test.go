package resets_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// simple is a connection from 10.1.0.1:port to 10.2.0.2:80 starting at
// start across hops routers: a request and a response, then what more does.
func simple(port int, start time.Time, hops int, srv synth.Endpoint, more func(c *synth.Conn)) *synth.Conn {
	srv.Addr = ep("10.2.0.2:80")
	if srv.IDStart == 0 {
		srv.IDStart = 1000
	}
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: ep(fmt.Sprintf("10.1.0.1:%d", port)), IDMode: synth.IDLinux, IDStart: 20000},
		Server: srv,
		Start:  start, RTT: 10 * time.Millisecond, Hops: hops, Seed: uint64(port),
	})
	c.Handshake()
	if srv.Refuse {
		return c
	}
	c.Send(synth.Client, 100)
	c.Send(synth.Server, 3000)
	if more != nil {
		more(c)
	}
	return c
}

func closeNormally(c *synth.Conn) {
	c.Close(synth.Client)
	c.Close(synth.Server)
}

// A RST in the server's name from a device with initial TTL 255 in the
// middle of the path, with an IP ID off the server's counter.
func TestForgedOtherInitialTTL(t *testing.T) {
	c := simple(40001, t0, 3, synth.Endpoint{IDMode: synth.IDLinux}, func(c *synth.Conn) {
		p := c.Template(synth.Server)
		p.Flags, p.Options, p.TTL, p.Origin, p.ID, p.Window = synth.RST, nil, 255, 0.5, 50000, 0
		c.Inject(p)
	})
	ok := simple(40002, t0.Add(time.Second), 3, synth.Endpoint{IDMode: synth.IDLinux}, closeNormally)
	rep := run(t, writeOne(t, 0, c, ok))
	f := one(t, rep, "reset.forged")
	facts(t, f, map[string]string{"claimed_sender": "10.2.0.2", "rst_ttl": "254", "sender_ttl": "61", "rst_initial_ttl": "255", "after_data": "1"})
	says(t, f, "another initial TTL (255", "IP ID (50000) also breaks", "1 router beyond cap")
	if f.Severity.String() != "error" {
		t.Errorf("severity %s", f.Severity)
	}
}

// Look-alikes: genuine resets whose TTL differs from some of the host's
// packets for good reasons.
func TestForgedLookAlikes(t *testing.T) {
	t.Run("load balancer backends at different distances", func(t *testing.T) {
		// 10.2.0.2 is a VIP: one backend is 1 router away, another 2; a
		// refused connection from the far one has its TTL.
		a := simple(40001, t0, 1, synth.Endpoint{}, closeNormally)
		b := simple(40002, t0.Add(time.Second), 2, synth.Endpoint{}, closeNormally)
		r := simple(40003, t0.Add(2*time.Second), 2, synth.Endpoint{Refuse: true}, nil)
		rep := run(t, writeOne(t, 0, a, b, r))
		none(t, rep, "reset.forged")
	})
	t.Run("route change before the reset", func(t *testing.T) {
		// The path to the server grows by a router mid-connection; the
		// server's own RST comes over the longer path.
		c := simple(40001, t0, 1, synth.Endpoint{}, func(c *synth.Conn) {
			c.Wait(time.Second)
			c.Reset(synth.Server)
		})
		change := t0.Add(500 * time.Millisecond)
		cap := &capture{v: synth.Vantage{At: 0, Edit: func(p *synth.Packet) {
			if p.From == synth.Server && p.Sent.After(change) {
				p.TTL--
			}
		}}}
		cap.add(c)
		rep := run(t, write(t, map[string]*capture{"cap": cap}, "cap"))
		none(t, rep, "reset.forged")
	})
	t.Run("route change mid-connection", func(t *testing.T) {
		c := simple(40001, t0, 2, synth.Endpoint{}, func(c *synth.Conn) {
			c.Send(synth.Client, 100)
			c.Send(synth.Server, 3000)
			c.Reset(synth.Server)
		})
		change := c.Now().Add(-30 * time.Millisecond)
		cap := &capture{v: synth.Vantage{At: 0, Edit: func(p *synth.Packet) {
			if p.From == synth.Server && p.Sent.After(change) {
				p.TTL++ // a shorter path from here on
			}
		}}}
		cap.add(c)
		rep := run(t, write(t, map[string]*capture{"cap": cap}, "cap"))
		none(t, rep, "reset.forged")
	})
	t.Run("clients that close with a reset", func(t *testing.T) {
		var conns []*synth.Conn
		for i := range 5 {
			conns = append(conns, simple(40001+i, t0.Add(time.Duration(i)*time.Second), 2, synth.Endpoint{}, func(c *synth.Conn) {
				c.Reset(synth.Client)
			}))
		}
		for _, at := range []float64{0, 0.5, 1} {
			rep := run(t, writeOne(t, at, conns...))
			quiet(t, rep)
			none(t, rep, "reset.forged", "reset.idle-timeout")
		}
	})
	t.Run("reset after a FIN exchange", func(t *testing.T) {
		c := simple(40001, t0, 2, synth.Endpoint{}, func(c *synth.Conn) {
			closeNormally(c)
			p := c.Template(synth.Server)
			p.Flags, p.Options = synth.RST, nil
			c.Inject(p)
		})
		rep := run(t, writeOne(t, 0, c))
		quiet(t, rep)
	})
}

// IPv6: hop limits tell the same.
func TestForgedIPv6(t *testing.T) {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: ep("[fd00::1]:40001")},
		Server: synth.Endpoint{Addr: ep("[fd00::2]:443")},
		Start:  t0, RTT: 10 * time.Millisecond, Hops: 2,
	})
	c.Handshake()
	c.Send(synth.Client, 300)
	c.Send(synth.Server, 5000)
	p := c.Template(synth.Server)
	p.Flags, p.Options, p.Origin = synth.RST|synth.ACK, nil, 0.5
	c.Inject(p)
	rep := run(t, writeOne(t, 0, c))
	f := one(t, rep, "reset.forged")
	facts(t, f, map[string]string{"claimed_sender": "fd00::2", "rst_ttl": "63", "sender_ttl": "62", "hops_closer": "1"})
}
