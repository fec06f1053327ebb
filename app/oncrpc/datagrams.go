package oncrpc

import "github.com/wiresleuth/wiresleuth/app"

// Datagrams decodes ONC RPC over one UDP exchange: one message per
// datagram, calls and replies matched by XID, retransmitted calls counted.
// It implements app.Datagrams.
type Datagrams struct {
	conv  conv
	msg   Message // reused, so that it does not escape per datagram
	ended bool
}

// NewDatagrams returns a decoder for one UDP exchange.
func NewDatagrams(h Handler) *Datagrams { return &Datagrams{conv: newConv(h)} }

// Datagram implements app.Datagrams.
func (d *Datagrams) Datagram(side app.Side, b []byte, at app.Pos) {
	if d.ended || side > app.Server {
		return
	}
	d.msg = Message{Side: side, At: at, EndAt: at, Len: len(b)}
	d.conv.handle(b, &d.msg)
}

// End implements app.Datagrams: calls still waiting are reported
// StatusNoReply.
func (d *Datagrams) End(at app.Pos) {
	if d.ended {
		return
	}
	d.conv.end()
	d.ended = true
}
