package dispatch

import (
	"errors"
	"fmt"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/dns"
	"github.com/wiresleuth/wiresleuth/app/ftp"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/app/tls"
)

// Caps on what is held back before a decision.
const (
	MaxProbe     = 1 << 10 // bytes per side of a TCP stream (app.Protocol.Probe sees at most this)
	MaxDatagrams = 4       // datagrams of a UDP exchange
)

// Standard returns this module's decoders in the order ties are broken:
// protocols with specific first bytes first.
func Standard() []app.Protocol {
	return []app.Protocol{tls.Protocol, http1.Protocol, dns.Protocol, ftp.Protocol}
}

// Dispatcher chooses decoders from a fixed list of protocols.
type Dispatcher struct {
	protos []app.Protocol
}

// ErrProtocol reports an unusable protocol list.
var ErrProtocol = errors.New("dispatch: bad protocol")

// New returns a dispatcher choosing among protocols, in this order for
// ties. Every protocol needs a name, a probe and at least one decoder, and
// names must be unique.
func New(protocols []app.Protocol) (*Dispatcher, error) {
	seen := map[string]bool{}
	for i, p := range protocols {
		switch {
		case p.Name == "" || p.Probe == nil:
			return nil, fmt.Errorf("%w: protocol %d has no name or no probe", ErrProtocol, i)
		case seen[p.Name]:
			return nil, fmt.Errorf("%w: %q listed twice", ErrProtocol, p.Name)
		case p.NewStream == nil && p.OpenStream == nil && p.NewDatagrams == nil && p.OpenDatagrams == nil:
			return nil, fmt.Errorf("%w: %q has no decoder", ErrProtocol, p.Name)
		}
		seen[p.Name] = true
	}
	return &Dispatcher{protos: append([]app.Protocol(nil), protocols...)}, nil
}

// choose returns the index of the best protocol for the bytes seen, and its
// confidence; -1 when every probe said No. tcp selects the protocols with
// stream decoders, otherwise those with datagram decoders.
func (d *Dispatcher) choose(tcp bool, port uint16, first [2][]byte, have [2]bool) (int, app.Confidence) {
	best, conf := -1, app.No
	for i, p := range d.protos {
		if tcp && p.NewStream == nil && p.OpenStream == nil || !tcp && p.NewDatagrams == nil && p.OpenDatagrams == nil {
			continue
		}
		c := combine(p, port, first, have)
		if c > conf {
			best, conf = i, c
		}
	}
	return best, conf
}

// combine judges both sides: Likely if either side is; otherwise Maybe only
// if no side that spoke said No (a POP3 server's "+OK" outweighs its
// client's FTP-like "USER").
func combine(p app.Protocol, port uint16, first [2][]byte, have [2]bool) app.Confidence {
	c, no := app.No, false
	for side := app.Client; side <= app.Server; side++ {
		if !have[side] {
			continue
		}
		switch v := p.Probe(side, first[side], port); v {
		case app.Likely:
			return app.Likely
		case app.No:
			no = true
		default:
			c = v
		}
	}
	if no {
		return app.No
	}
	return c
}
