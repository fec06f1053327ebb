package oncrpc

import (
	"strconv"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
)

// MessageRecord is a decoded message as an app.Record: a copy of what the
// decoder handed to Handler.Message, for callers that keep messages (the
// per-frame field views of `wiresleuth packets`, detectors reading
// app.Transaction.Detail).
type MessageRecord struct {
	Msg Message
}

// At implements app.Record: the frame of the message's first byte.
func (r *MessageRecord) At() app.Pos { return r.Msg.At }

// Done implements app.Record: the frame of its last byte, where tshark
// shows it.
func (r *MessageRecord) Done() app.Pos { return r.Msg.EndAt }

// Fields implements app.Record with the names and values of
// Message.Fields, typed: rpc.xid in hexadecimal, rpc.time a duration,
// gluster.op_ret and gluster.op_errno signed, names and paths strings.
//
// Fields also repeats what tshark repeats, so that `-T fields` output
// matches tshark's byte for byte: where tshark dissects the program part
// of a message (a call, or a successful reply, to a program version it
// knows) its program subtree shows rpc.programversion again; a call to a
// version of a known program that tshark does not know shows
// rpc.programversion and rpc.procedure again.
func (r *MessageRecord) Fields(yield func(app.Field) bool) {
	m := &r.Msg
	known := procedureField(m.Program, m.Version) != ""
	dissected := known && (m.Type == Call || m.Matched && m.ReplyStat == Accepted && m.AcceptStat == Success)
	unknownVersion := m.Type == Call && KnownProgram(m.Program) && !known
	for name, v := range m.Fields() {
		f := typedField(name, v)
		if !yield(f) {
			return
		}
		again := name == "rpc.programversion" && (dissected || unknownVersion) ||
			name == "rpc.procedure" && unknownVersion
		if again && !yield(f) {
			return
		}
	}
}

func typedField(name, v string) app.Field {
	switch name {
	case "rpc.xid":
		n, _ := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 32)
		return app.Hex(name, n, 8)
	case "rpc.time":
		return app.Duration(name, parseSeconds(v))
	case "gluster.op_ret", "gluster.op_errno":
		n, _ := strconv.ParseInt(v, 10, 64)
		return app.Int(name, n)
	case "portmap.rpcb.netid", "portmap.uaddr", "gluster.brick", "glusterfs.hndsk.getspec.key", "mount.path":
		return app.String(name, v)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return app.String(name, v)
	}
	return app.Uint(name, n)
}

// parseSeconds reads what seconds writes back into nanoseconds.
func parseSeconds(s string) int64 {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	sec, _ := strconv.ParseInt(whole, 10, 64)
	frac = (frac + "000000000")[:9]
	ns, _ := strconv.ParseInt(frac, 10, 64)
	n := sec*1e9 + ns
	if neg {
		return -n
	}
	return n
}

// handlerFor adapts an app.Output: transactions to its Sink, every message
// as a *MessageRecord to its Record sink.
func handlerFor(out app.Output) Handler {
	h := Handler{Transaction: out.Sink}
	if out.Record != nil {
		rec := out.Record
		h.Message = func(m *Message) { rec(&MessageRecord{Msg: *m}) }
	}
	return h
}
