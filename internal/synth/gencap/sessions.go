package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

var (
	serverMAC = synth.MAC{0x02, 0x42, 10, 0, 0, 1}
	resolver  = netip.MustParseAddr("10.0.0.53")
)

// clientEndpoint picks a real-world option set: most clients Linux-like
// (MSS 1460, SACK, timestamps, window scale 7), some without timestamps,
// a few Windows-like (window scale 8, no timestamps).
func clientEndpoint(g *gen) synth.Endpoint {
	addr, mac := g.client()
	ep := synth.Endpoint{Addr: addr, MAC: mac, Window: 64256, IDMode: synth.IDRandom}
	switch r := g.rng.IntN(100); {
	case r < 15:
		ep.NoTimestamps = true
	case r < 22:
		ep.NoTimestamps, ep.WScale, ep.Window, ep.IDMode = true, 8, 65280, synth.IDCounter
		ep.IDStart = uint16(g.rng.Uint32())
		ep.TTL = 128
	}
	return ep
}

func serverEndpoint(g *gen, port uint16) synth.Endpoint {
	a := netip.AddrFrom4([4]byte{10, 0, 0, 1 + byte(g.rng.IntN(16))})
	return synth.Endpoint{Addr: netip.AddrPortFrom(a, port), MAC: serverMAC, Window: 65160, IDMode: synth.IDLinux}
}

// httpSess is a keep-alive HTTP/1.1 connection: several requests, each
// answered, then a close by either side.
type httpSess struct {
	c       *synth.Conn
	phase   int
	req, n  int
	host    string
	closer  synth.Side
	think   time.Duration
	process time.Duration
}

func newHTTP(g *gen, at time.Time) *httpSess {
	g.nTCP++
	port := uint16(80)
	if g.rng.IntN(4) == 0 {
		port = 8080
	}
	cfg := synth.Config{
		Client: clientEndpoint(g), Server: serverEndpoint(g, port), Start: at,
		RTT:  time.Duration(g.lognormal(float64(12*time.Millisecond), 0.9)) + 200*time.Microsecond,
		Seed: g.rng.Uint64(),
	}
	c := synth.NewConn(cfg)
	switch r := g.rng.IntN(1000); {
	case r < 20: // a lost response segment, recovered
		lose(c, synth.Match{From: synth.Server, Data: 1, Nth: 1 + g.rng.IntN(3)})
	case r < 30: // a lost request
		lose(c, synth.Match{From: synth.Client, Data: 1, Nth: 1})
	case r < 35: // a SYN lost once
		lose(c, synth.Match{From: synth.Client, Flags: synth.SYN, Nth: 1})
	case r < 40: // a response segment arriving late: reordering
		c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 2}, synth.Fate{Delay: 30 * time.Microsecond, At: 0.75})
	}
	h := &httpSess{c: c, n: 1 + int(g.rng.ExpFloat64()*3), host: fmt.Sprintf("svc%d.example.com", g.rng.IntN(40)),
		closer: synth.Client, think: time.Duration(g.lognormal(float64(30*time.Millisecond), 1)),
		process: time.Duration(g.lognormal(float64(3*time.Millisecond), 0.8))}
	if g.rng.IntN(3) == 0 {
		h.closer = synth.Server
	}
	return h
}

func (h *httpSess) next(g *gen) ([]synth.Frame, bool) {
	c := h.c
	switch h.phase {
	case 0:
		c.Handshake()
		h.phase = 1
		if !c.Established() {
			h.phase = 4
		}
	case 1:
		c.SendData(synth.Client, request(g, h.host, h.req))
		c.Wait(h.process)
		c.SendData(synth.Server, response(g))
		h.req++
		h.phase = 2
		if h.req >= h.n || g.stop {
			h.phase = 3
		}
	case 2:
		c.Wait(g.exp(h.think))
		h.phase = 1
	case 3:
		c.Wait(g.exp(h.think))
		c.Close(h.closer)
		c.Close(h.closer.Other())
		h.phase = 4
	case 4:
		c.Wait(time.Second) // what is still in flight arrives
		return c.Take(vantage), true
	}
	return c.Take(vantage), false
}

var paths = []string{"/", "/api/v1/items", "/api/v1/users/me", "/static/app.js", "/static/style.css", "/img/logo.png", "/search", "/health"}

func request(g *gen, host string, i int) []byte {
	path := paths[g.rng.IntN(len(paths))]
	b := fmt.Appendf(nil, "GET %s?id=%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) gencap/1.0\r\n"+
		"Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n", path, i, host)
	if n := int(g.lognormal(300, 0.6)); n > 0 { // cookies make requests vary
		b = append(b, "Cookie: session="...)
		for range min(n, 4000) {
			b = append(b, 'a'+byte(g.rng.IntN(26)))
		}
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

func response(g *gen) []byte {
	n := min(int(g.lognormal(1500, 1.2)), len(g.body))
	b := fmt.Appendf(make([]byte, 0, n+160), "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n"+
		"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n", n)
	return append(b, g.body[:n]...)
}

// lose drops matching packets between their sender and the tap, so the tap
// sees the gap and the retransmission that fills it. (Loss beyond the tap
// would show the tap a retransmission of data it already passed on, which
// tshark 4.0 flags as a reassembly error when the data completes an HTTP
// message.)
func lose(c *synth.Conn, m synth.Match) {
	at := 0.25
	if m.From == synth.Server {
		at = 0.75
	}
	c.Fault(m, synth.Fate{Lost: true, At: at})
}

// bulkSess is a long transfer (a backup, say) with random loss, to a port
// no tshark dissector claims.
type bulkSess struct {
	c     *synth.Conn
	left  int
	phase int
}

func newBulk(g *gen, at time.Time) *bulkSess {
	g.nTCP++
	g.nBulk++
	cfg := synth.Config{Client: clientEndpoint(g), Server: serverEndpoint(g, 50000), Start: at,
		RTT: time.Duration(g.lognormal(float64(20*time.Millisecond), 0.5)), Rate: 60e6, Seed: g.rng.Uint64()}
	cfg.Client.Window, cfg.Server.Window = 3<<20, 3<<20
	c := synth.NewConn(cfg)
	// About one segment in 2000 lost, at random.
	nth := 0
	for range 40 {
		nth += 1 + g.rng.IntN(4000)
		lose(c, synth.Match{From: synth.Server, Data: 1, Nth: nth})
	}
	return &bulkSess{c: c, left: int(g.lognormal(20e6, 0.7))}
}

func (b *bulkSess) next(g *gen) ([]synth.Frame, bool) {
	c := b.c
	switch b.phase {
	case 0:
		c.Handshake()
		c.Send(synth.Client, 120)
		b.phase = 1
	case 1:
		n := min(b.left, 256<<10)
		c.SendData(synth.Server, g.body[:n])
		b.left -= n
		if b.left <= 0 || g.stop {
			b.phase = 2
		}
	case 2:
		c.Close(synth.Server)
		c.Close(synth.Client)
		c.Wait(time.Second)
		return c.Take(vantage), true
	}
	return c.Take(vantage), false
}

// dnsSess is one DNS query over UDP and its answer (NXDOMAIN now and then,
// and a few unanswered).
type dnsSess struct {
	frames []synth.Frame
}

var names = []string{"www.example.com", "api.example.net", "cdn.example.org", "mail.example.com", "db.internal.example", "nonexistent.example.com"}

func newDNS(g *gen, at time.Time) *dnsSess {
	g.nDNS++
	cl, mac := g.client()
	id := uint16(g.rng.Uint32())
	name := names[g.rng.IntN(len(names))]
	q := dnsQuery(id, name)
	srv := netip.AddrPortFrom(resolver, 53)
	d := &dnsSess{}
	d.frames = append(d.frames, synth.Frame{Time: at, Data: synth.Encode(nil,
		&synth.Ethernet{Src: mac, Dst: serverMAC, Pad: true},
		&synth.IPv4{Src: cl.Addr(), Dst: srv.Addr(), ID: uint16(g.rng.Uint32()), TTL: 63},
		&synth.UDP{SrcPort: cl.Port(), DstPort: 53}, synth.Payload(q))})
	if g.rng.IntN(100) == 0 {
		return d // unanswered
	}
	rcode := 0
	if name == "nonexistent.example.com" {
		rcode = 3
	}
	a := dnsAnswer(q, rcode, [4]byte{192, 0, 2, byte(g.rng.IntN(250) + 1)})
	d.frames = append(d.frames, synth.Frame{Time: at.Add(time.Duration(g.lognormal(float64(400*time.Microsecond), 1))), Data: synth.Encode(nil,
		&synth.Ethernet{Src: serverMAC, Dst: mac},
		&synth.IPv4{Src: srv.Addr(), Dst: cl.Addr(), ID: 0, DF: true},
		&synth.UDP{SrcPort: 53, DstPort: cl.Port()}, synth.Payload(a))})
	return d
}

func (d *dnsSess) next(*gen) ([]synth.Frame, bool) {
	f := d.frames
	d.frames = nil
	return f, true
}

// dnsQuery is a recursive query for name's A record.
func dnsQuery(id uint16, name string) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // RD; one question
	for len(name) > 0 {
		label := name
		if i := indexByte(name, '.'); i >= 0 {
			label, name = name[:i], name[i+1:]
		} else {
			name = ""
		}
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0, 0, 1, 0, 1) // root; type A, class IN
}

// dnsAnswer answers q with one A record, or with rcode and no answer.
func dnsAnswer(q []byte, rcode int, addr [4]byte) []byte {
	b := append([]byte(nil), q...)
	b[2], b[3] = 0x81, 0x80|byte(rcode) // QR, RD, RA
	if rcode != 0 {
		return b
	}
	b[7] = 1 // one answer
	b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4)
	return append(b, addr[:]...)
}

func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return -1
}
