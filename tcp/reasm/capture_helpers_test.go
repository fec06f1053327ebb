package reasm

import (
	"net/netip"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

// capConn is one TCP connection read from a capture by reassemble.
type capConn struct {
	client, server netip.AddrPort
	rec            *recorder
	conn           *Conn
	last           app.Pos
}

// reassemble reads a capture and reassembles its TCP connections, found by
// 4-tuple (a SYN on a 4-tuple whose connection has closed starts a new
// one), in order of first packet. drop, when set, pretends the frames it
// returns true for were not captured.
func reassemble(t testing.TB, file string, opt Options, drop func(frame int64) bool) []*capConn {
	t.Helper()
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var conns []*capConn
	byKey := map[flow.Key]*capConn{}
	d := packet.NewDecoder()
	var p packet.Packet
	for fr, err := range r.Frames() {
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if drop != nil && drop(fr.Number) {
			continue
		}
		d.Decode(fr, &p)
		if p.TCP == nil {
			continue
		}
		src := netip.AddrPortFrom(p.Src.Unmap(), p.SrcPort)
		dst := netip.AddrPortFrom(p.Dst.Unmap(), p.DstPort)
		k, _ := flow.New(p.Proto, p.Src, p.SrcPort, p.Dst, p.DstPort)
		c := byKey[k]
		syn := p.TCP.Flags()&(header.FlagSYN|header.FlagACK) == header.FlagSYN
		if c != nil && syn && c.rec.closed[0] && c.rec.closed[1] {
			c = nil
		}
		if c == nil {
			c = &capConn{client: src, server: dst, rec: &recorder{}}
			if p.TCP.Flags()&(header.FlagSYN|header.FlagACK) == header.FlagSYN|header.FlagACK {
				c.client, c.server = dst, src
			}
			c.conn = New(c.rec, opt)
			byKey[k] = c
			conns = append(conns, c)
		}
		side := app.Client
		if src != c.client {
			side = app.Server
		}
		c.last = app.Pos{Frame: p.Frame, Time: p.Time}
		c.conn.Segment(&p, side)
	}
	for _, c := range conns {
		c.conn.End(c.last)
		for _, e := range c.rec.errs {
			t.Errorf("%s %s: contract: %s", file, c.client, e)
		}
	}
	return conns
}
