package track

import (
	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/dispatch"
	"github.com/wiresleuth/wiresleuth/app/dns"
	"github.com/wiresleuth/wiresleuth/app/ftp"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/app/oncrpc"
	"github.com/wiresleuth/wiresleuth/app/tls"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// Protocols are the decoders this module has, in the order the dispatcher
// breaks ties (detect.Protocols is the same list).
func Protocols() []app.Protocol { return append(dispatch.Standard(), oncrpc.Protocol) }

// ProtocolOf names the display-filter protocol of a message record: "http",
// "ftp", "dns", "tls" or "rpc"; "" for records that are not messages (the
// per-connection summaries) or not known here.
func ProtocolOf(r app.Record) string {
	switch r.(type) {
	case *http1.Request, *http1.Response:
		return "http"
	case *ftp.Command, *ftp.Reply:
		return "ftp"
	case *dns.Message:
		return "dns"
	case *tls.ClientHello, *tls.ServerHello, *tls.Handshake, *tls.Alert:
		return "tls"
	case *oncrpc.MessageRecord:
		return "rpc"
	}
	return ""
}

// FrameFields maps frame numbers to the application fields shown on them.
type FrameFields map[int64][]app.Field

// Fields decodes the application messages of a capture and returns, per
// frame, the fields of the messages whose last byte that frame carried
// (where tshark shows them), in message order, keeping only the names keep
// accepts. A message also yields its protocol's name ("http", "rpc" …) as
// a field, for existence tests. Per-connection summary records are not
// messages and yield nothing.
//
// Memory: the decoders' bounded state, plus the kept values; ask only for
// the fields you need.
func Fields(file string, popt pipeline.Options, keep func(name string) bool) (FrameFields, *pipeline.Summary, error) {
	table := FrameFields{}
	out := app.Output{Record: func(r app.Record) {
		proto := ProtocolOf(r)
		if proto == "" {
			return
		}
		frame := r.Done().Frame
		row := table[frame]
		if keep(proto) {
			row = append(row, app.Bool(proto, true))
		}
		for f := range r.Fields {
			if keep(f.Name) {
				row = append(row, f)
			}
		}
		if len(row) > 0 {
			table[frame] = row
		}
	}}
	t, err := New(Options{Protocols: Protocols(), Output: func(*Conn) app.Output { return out }})
	if err != nil {
		return nil, nil, err
	}
	s, err := pipeline.Run(file, popt, func(p *pipeline.Packet) error {
		t.Packet(p)
		return nil
	})
	if err != nil {
		return nil, s, err
	}
	t.Finish()
	return table, s, nil
}
