package dispatch

import "github.com/wiresleuth/wiresleuth/app"

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

type heldDatagram struct {
	side app.Side
	b    []byte
	at   app.Pos
}

// Datagrams holds back a UDP exchange's first datagrams, chooses its
// decoder, then forwards everything to it. It implements app.Datagrams.
type Datagrams struct {
	d       *Dispatcher
	port    uint16
	out     app.Output
	held    []heldDatagram
	decided bool
	name    string
	dec     app.Datagrams
}

// NewDatagrams returns the dispatcher for one UDP exchange whose server
// uses serverPort; the chosen decoder reports to out.
func (d *Dispatcher) NewDatagrams(serverPort uint16, out app.Output) *Datagrams {
	return &Datagrams{d: d, port: serverPort, out: out}
}

// Protocol returns the chosen protocol's name, "" while undecided or when no
// protocol matched.
func (g *Datagrams) Protocol() string { return g.name }

// Datagram implements app.Datagrams. Each datagram is probed on its own.
func (g *Datagrams) Datagram(side app.Side, b []byte, at app.Pos) {
	if g.decided {
		if g.dec != nil {
			g.dec.Datagram(side, b, at)
		}
		return
	}
	if side > app.Server {
		return
	}
	g.held = append(g.held, heldDatagram{side, append([]byte(nil), b[:min(len(b), maxDatagram)]...), at})
	g.try(len(g.held) >= MaxDatagrams)
}

// End implements app.Datagrams.
func (g *Datagrams) End(at app.Pos) {
	if !g.decided {
		g.try(true)
	}
	if g.dec != nil {
		g.dec.End(at)
	}
}

func (g *Datagrams) try(force bool) {
	best, conf := -1, app.No
	for _, h := range g.held {
		var first [2][]byte
		var have [2]bool
		first[h.side], have[h.side] = h.b, true
		if i, c := g.d.choose(false, g.port, first, have); c > conf || c == conf && c > app.No && i < best {
			best, conf = i, c
		}
	}
	if conf < app.Likely && !force {
		return
	}
	g.decided = true
	if best >= 0 {
		p := g.d.protos[best]
		g.name, g.dec = p.Name, p.Datagrams(g.out)
	}
	if g.dec != nil {
		for _, h := range g.held {
			g.dec.Datagram(h.side, h.b, h.at)
		}
	}
	g.held = nil
}
