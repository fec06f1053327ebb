package detect

import (
	"cmp"
	"slices"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/dispatch"
	"github.com/wiresleuth/wiresleuth/app/ftp"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/app/oncrpc"
	"github.com/wiresleuth/wiresleuth/app/tls"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/tcp/reasm"
)

// Protocols are the application decoders a dataset runs, in the order the
// dispatcher breaks ties.
func Protocols() []app.Protocol { return append(dispatch.Standard(), oncrpc.Protocol) }

// Application streams end when idle this long, or this long after both
// sides closed, so that their state is released during the pass.
const (
	appIdle    = 10 * time.Minute
	appLinger  = 10 * time.Second
	appUDPIdle = 30 * time.Second
	appSweep   = time.Second
)

// appTracker feeds every TCP stream through reassembly and the protocol
// dispatcher, and every UDP exchange through the dispatcher.
type appTracker struct {
	ds        *Dataset
	disp      *dispatch.Dispatcher
	tcp       map[int64]*tcpApp
	udp       map[flow.Key]*udpApp
	nextSweep capture.Time
}

type tcpApp struct {
	info   *AppConn
	re     *reasm.Conn
	st     *dispatch.Stream
	last   capture.Time
	closed [2]bool
	reset  bool
}

type udpApp struct {
	info  *AppConn
	dg    *dispatch.Datagrams
	last  capture.Time
	first int64 // frame of the first datagram: the order exchanges end in
}

func newAppTracker(ds *Dataset) (*appTracker, error) {
	d, err := dispatch.New(Protocols())
	if err != nil {
		return nil, err
	}
	return &appTracker{ds: ds, disp: d, tcp: map[int64]*tcpApp{}, udp: map[flow.Key]*udpApp{}}, nil
}

// output collects what the decoders of one stream say.
func (t *appTracker) output(info *AppConn, stream int64) app.Output {
	return app.Output{
		Sink: func(x app.Transaction) {
			info.Transactions++
			switch x.Status {
			case app.StatusError:
				info.Errors++
			case app.StatusNoReply:
				info.NoReply++
			}
			ds := t.ds
			if len(ds.Transactions) < MaxTransactions || x.Status != app.StatusOK {
				ds.Transactions = append(ds.Transactions, x)
				ds.TxnStreams = append(ds.TxnStreams, stream)
				ds.TxnApps = append(ds.TxnApps, info)
			}
		},
		Record: func(r app.Record) {
			switch r.(type) {
			case *http1.ConnSummary, *ftp.ConnSummary, *tls.ConnSummary:
				info.Summary = r
			}
		},
	}
}

func (t *appTracker) packet(p *pipeline.Packet) {
	if p.Time >= t.nextSweep {
		t.sweep(p.Time)
		t.nextSweep = p.Time.Add(appSweep)
	}
	switch {
	case p.Packet.TCP != nil && p.TCP != nil && !p.TCP.Quoted:
		t.tcpPacket(p)
	case p.UDP != nil && p.PayloadLen > 0:
		t.udpPacket(p)
	}
}

func (t *appTracker) tcpPacket(p *pipeline.Packet) {
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
		case likelyServer(src.Port, dst.Port):
			client, server = dst, src
		}
		info := &AppConn{Client: client, Server: server}
		a = &tcpApp{info: info}
		a.st = t.disp.NewStream(server.Port, t.output(info, p.TCP.Stream))
		a.re = reasm.New(a.st, reasm.Options{})
		t.tcp[p.TCP.Stream] = a
		t.ds.Apps[p.TCP.Stream] = info
	}
	side := app.Client
	if src != a.info.Client {
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

// likelyServer guesses, for a stream whose SYN was not seen, whether the
// source port is the server's: a well-known port talking to an ephemeral
// one.
func likelyServer(src, dst uint16) bool {
	return src < 1024 && dst >= 1024 || src < dst && dst >= 32768
}

// likelyReply guesses whether the first datagram of a UDP exchange is a
// reply, the capture having missed the request: it comes from a lower
// port to an ephemeral one (32768 and up). The first sender is otherwise
// the client: a privileged client port (an NFS client's 801 talking to
// 2049) is no reply.
func likelyReply(src, dst uint16) bool { return dst >= 32768 && src < dst }

func (t *appTracker) udpPacket(p *pipeline.Packet) {
	key, _ := flow.New(header.ProtoUDP, p.Src, p.SrcPort, p.Dst, p.DstPort)
	u := t.udp[key]
	src := flow.Endpoint{Addr: p.Src, Port: p.SrcPort}
	if u == nil {
		client, server := src, flow.Endpoint{Addr: p.Dst, Port: p.DstPort}
		if likelyReply(client.Port, server.Port) {
			client, server = server, client
		}
		info := &AppConn{Client: client, Server: server}
		u = &udpApp{info: info, first: p.Frame}
		u.dg = t.disp.NewDatagrams(server.Port, t.output(info, -1))
		t.udp[key] = u
	}
	side := app.Client
	if src != u.info.Client {
		side = app.Server
	}
	u.dg.Datagram(side, p.Payload, app.Pos{Frame: p.Frame, Time: p.Time})
	u.last = p.Time
}

func (t *appTracker) sweep(now capture.Time) {
	t.endAll(func(a *tcpApp) bool {
		done := a.reset || a.closed[0] && a.closed[1]
		return now.Sub(a.last) > appIdle || done && now.Sub(a.last) > appLinger
	}, func(u *udpApp) bool { return now.Sub(u.last) > appUDPIdle })
}

// endAll ends the streams and exchanges the functions select, TCP streams
// by tcp.stream and UDP exchanges by first frame: the order of their
// transactions, and so the report, must not depend on map iteration.
func (t *appTracker) endAll(tcpDone func(*tcpApp) bool, udpDone func(*udpApp) bool) {
	var streams []int64
	for s, a := range t.tcp {
		if tcpDone(a) {
			streams = append(streams, s)
		}
	}
	slices.Sort(streams)
	for _, s := range streams {
		t.endTCP(s, t.tcp[s])
	}
	var keys []flow.Key
	for k, u := range t.udp {
		if udpDone(u) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b flow.Key) int { return cmp.Compare(t.udp[a].first, t.udp[b].first) })
	for _, k := range keys {
		t.endUDP(k, t.udp[k])
	}
}

func (t *appTracker) endTCP(s int64, a *tcpApp) {
	a.re.End(app.Pos{Time: a.last})
	a.info.Protocol = a.st.Protocol()
	if a.info.Protocol == "" && a.info.Transactions == 0 {
		delete(t.ds.Apps, s) // nothing recognised: no application view
	}
	delete(t.tcp, s)
}

func (t *appTracker) endUDP(k flow.Key, u *udpApp) {
	u.dg.End(app.Pos{Time: u.last})
	u.info.Protocol = u.dg.Protocol()
	if u.info.Protocol != "" || u.info.Transactions > 0 {
		t.ds.UDPApps = append(t.ds.UDPApps, u.info)
	}
	delete(t.udp, k)
}

// finish ends every stream still open at the end of the capture.
func (t *appTracker) finish() {
	t.endAll(func(*tcpApp) bool { return true }, func(*udpApp) bool { return true })
}
