// Package track runs a capture's packets through the application
// decoders: every TCP stream through reassembly (package tcp/reasm) and the
// protocol dispatcher, every UDP exchange (4-tuple) through the
// dispatcher. State is bounded by the streams open at once: a stream ends
// when it has been idle for a while or some time after both sides closed,
// and its decoders then report what is left and are released.
//
// It applies the same policy as detect's dataset pass (package detect,
// apps.go): the side that sent the SYN is the client; without one, a
// well-known port talking to an ephemeral one is the server.
package track

import (
	"cmp"
	"slices"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/dispatch"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/tcp/reasm"
)

// Streams end when idle this long, or this long after both sides closed
// (or one reset).
const (
	Idle    = 10 * time.Minute
	Linger  = 10 * time.Second
	UDPIdle = 30 * time.Second
	sweep   = time.Second
)

// Conn is one TCP stream or UDP exchange as decoding sees it.
type Conn struct {
	// Stream is the tcp.stream index; -1 for UDP.
	Stream         int64
	Client, Server flow.Endpoint
	// First is the first packet of the stream or exchange.
	First app.Pos
	// Protocol is the decoder the dispatcher chose ("http", "oncrpc" …);
	// known when the conn ends, "" if nothing matched.
	Protocol string
}

// UDP reports whether c is a UDP exchange.
func (c *Conn) UDP() bool { return c.Stream < 0 }

// Options configure a Tracker.
type Options struct {
	// Protocols are the decoders the dispatcher chooses from, in the order
	// it breaks ties.
	Protocols []app.Protocol
	// Output returns where the decoders of a new conn report; called once
	// per conn, when its first packet arrives.
	Output func(c *Conn) app.Output
	// Ended, if set, is called when a conn ends, with its protocol known.
	Ended func(c *Conn)
	// Reasm configures TCP reassembly; the zero value is reasm's default.
	Reasm reasm.Options
}

// Tracker feeds decoders from packets. Not safe for concurrent use.
type Tracker struct {
	opt       Options
	disp      *dispatch.Dispatcher
	tcp       map[int64]*tcpConn
	udp       map[flow.Key]*udpConn
	nextSweep capture.Time
}

type tcpConn struct {
	c      Conn
	re     *reasm.Conn
	st     *dispatch.Stream
	last   capture.Time
	closed [2]bool
	reset  bool
}

type udpConn struct {
	c    Conn
	dg   *dispatch.Datagrams
	last capture.Time
}

// New returns a tracker.
func New(opt Options) (*Tracker, error) {
	d, err := dispatch.New(opt.Protocols)
	if err != nil {
		return nil, err
	}
	if opt.Output == nil {
		opt.Output = func(*Conn) app.Output { return app.Output{} }
	}
	return &Tracker{opt: opt, disp: d, tcp: map[int64]*tcpConn{}, udp: map[flow.Key]*udpConn{}}, nil
}

// Packet feeds one packet of the pipeline.
func (t *Tracker) Packet(p *pipeline.Packet) {
	if p.Time >= t.nextSweep {
		t.sweep(p.Time)
		t.nextSweep = p.Time.Add(sweep)
	}
	switch {
	case p.Packet.TCP != nil && p.TCP != nil && !p.TCP.Quoted:
		t.tcpPacket(p)
	case p.UDP != nil && p.PayloadLen > 0:
		t.udpPacket(p)
	}
}

func (t *Tracker) tcpPacket(p *pipeline.Packet) {
	a := t.tcp[p.TCP.Stream]
	src := flow.Endpoint{Addr: p.Src, Port: p.SrcPort}
	dst := flow.Endpoint{Addr: p.Dst, Port: p.DstPort}
	if a == nil {
		client, server := src, dst
		flags := p.Packet.TCP.Flags()
		switch {
		case flags&(header.FlagSYN|header.FlagACK) == header.FlagSYN|header.FlagACK:
			client, server = dst, src
		case flags&header.FlagSYN != 0:
		case LikelyServer(src.Port, dst.Port):
			client, server = dst, src
		}
		a = &tcpConn{c: Conn{Stream: p.TCP.Stream, Client: client, Server: server, First: app.Pos{Frame: p.Frame, Time: p.Time}}}
		a.st = t.disp.NewStream(server.Port, t.opt.Output(&a.c))
		a.re = reasm.New(a.st, t.opt.Reasm)
		t.tcp[p.TCP.Stream] = a
	}
	side := app.Client
	if src != a.c.Client {
		side = app.Server
	}
	a.re.Segment(p.Packet, side)
	a.last = p.Time
	f := p.Packet.TCP.Flags()
	if f&header.FlagFIN != 0 {
		a.closed[side] = true
	}
	if f&header.FlagRST != 0 {
		a.reset = true
	}
}

// LikelyServer guesses, for a stream whose SYN was not seen, whether the
// source port is the server's: a well-known port talking to an ephemeral
// one.
func LikelyServer(src, dst uint16) bool {
	return src < 1024 && dst >= 1024 || src < dst && dst >= 32768
}

// likelyReply guesses whether the first datagram of a UDP exchange is a
// reply, the capture having missed the request: it comes from a lower
// port to an ephemeral one (32768 and up). The first sender is otherwise
// the client: a privileged client port (an NFS client's 801 talking to
// 2049) is no reply.
func likelyReply(src, dst uint16) bool { return dst >= 32768 && src < dst }

func (t *Tracker) udpPacket(p *pipeline.Packet) {
	key, _ := flow.New(header.ProtoUDP, p.Src, p.SrcPort, p.Dst, p.DstPort)
	u := t.udp[key]
	src := flow.Endpoint{Addr: p.Src, Port: p.SrcPort}
	if u == nil {
		client, server := src, flow.Endpoint{Addr: p.Dst, Port: p.DstPort}
		if likelyReply(client.Port, server.Port) {
			client, server = server, client
		}
		u = &udpConn{c: Conn{Stream: -1, Client: client, Server: server, First: app.Pos{Frame: p.Frame, Time: p.Time}}}
		u.dg = t.disp.NewDatagrams(server.Port, t.opt.Output(&u.c))
		t.udp[key] = u
	}
	side := app.Client
	if src != u.c.Client {
		side = app.Server
	}
	u.dg.Datagram(side, p.Payload, app.Pos{Frame: p.Frame, Time: p.Time})
	u.last = p.Time
}

func (t *Tracker) sweep(now capture.Time) {
	for s, a := range t.tcp {
		done := a.reset || a.closed[0] && a.closed[1]
		if now.Sub(a.last) > Idle || done && now.Sub(a.last) > Linger {
			t.endTCP(s, a)
		}
	}
	for k, u := range t.udp {
		if now.Sub(u.last) > UDPIdle {
			t.endUDP(k, u)
		}
	}
}

func (t *Tracker) endTCP(s int64, a *tcpConn) {
	a.re.End(app.Pos{Time: a.last})
	a.c.Protocol = a.st.Protocol()
	delete(t.tcp, s)
	if t.opt.Ended != nil {
		t.opt.Ended(&a.c)
	}
}

func (t *Tracker) endUDP(k flow.Key, u *udpConn) {
	u.dg.End(app.Pos{Time: u.last})
	u.c.Protocol = u.dg.Protocol()
	delete(t.udp, k)
	if t.opt.Ended != nil {
		t.opt.Ended(&u.c)
	}
}

// Finish ends every stream and exchange still open, in the order they
// began: the end of the capture.
func (t *Tracker) Finish() {
	type open struct {
		first int64
		end   func()
	}
	var all []open
	for s, a := range t.tcp {
		all = append(all, open{a.c.First.Frame, func() { t.endTCP(s, a) }})
	}
	for k, u := range t.udp {
		all = append(all, open{u.c.First.Frame, func() { t.endUDP(k, u) }})
	}
	slices.SortFunc(all, func(a, b open) int { return cmp.Compare(a.first, b.first) })
	for _, o := range all {
		o.end()
	}
}
