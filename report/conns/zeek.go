package conns

import (
	"io"
	"strconv"
	"strings"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
)

// The columns and types of Zeek's conn.log (base/protocols/conn/main.zeek,
// Conn::Info, at the commit of the peer baselines).
var (
	zeekFields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
		"duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
		"orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto"}
	zeekTypes = []string{"time", "string", "addr", "port", "addr", "port", "enum", "string",
		"interval", "count", "count", "string", "bool", "bool", "count", "string",
		"count", "count", "count", "count", "set[string]", "count"}
)

// zeekWriter writes a conn.log as Zeek's ASCII writer does. The #open and
// #close times come from the capture, not from the wall clock.
type zeekWriter struct {
	w       io.Writer
	opt     Options
	started bool
	last    capture.Time
	buf     []byte
}

func newZeek(w io.Writer, opt Options) *zeekWriter { return &zeekWriter{w: w, opt: opt} }

func zeekStamp(t capture.Time) string {
	return t.UTC().Format("2006-01-02-15-04-05")
}

func (z *zeekWriter) header(open capture.Time) error {
	var b strings.Builder
	b.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n")
	b.WriteString("#open\t" + zeekStamp(open) + "\n")
	b.WriteString("#fields\t" + strings.Join(zeekFields, "\t") + "\n")
	b.WriteString("#types\t" + strings.Join(zeekTypes, "\t") + "\n")
	z.started = true
	_, err := io.WriteString(z.w, b.String())
	return err
}

func (z *zeekWriter) Write(r *conn.Record) error {
	if !z.started {
		open := z.opt.Open
		if open == 0 {
			open = r.Start
		}
		if err := z.header(open); err != nil {
			return err
		}
	}
	z.last = max(z.last, r.EndTime, r.LastSeen)
	z.buf = appendZeekRow(z.buf[:0], r)
	_, err := z.w.Write(z.buf)
	return err
}

func (z *zeekWriter) Close() error {
	if !z.started {
		if err := z.header(z.opt.Open); err != nil {
			return err
		}
	}
	close := z.last
	if close == 0 {
		close = z.opt.Open
	}
	_, err := io.WriteString(z.w, "#close\t"+zeekStamp(close)+"\n")
	return err
}

func appendBool(b []byte, known, v bool) []byte {
	switch {
	case !known:
		return append(b, '-')
	case v:
		return append(b, 'T')
	}
	return append(b, 'F')
}

// appendZeekRow appends r as one conn.log line.
func appendZeekRow(b []byte, r *conn.Record) []byte {
	tab := func() { b = append(b, '\t') }
	u := strconv.AppendUint
	b = appendMicros(b, int64(r.Start))
	tab()
	b = appendZeek(b, r.UID, false)
	tab()
	b = r.ID.OrigH.AppendTo(b)
	tab()
	b = u(b, uint64(r.ID.OrigP), 10)
	tab()
	b = r.ID.RespH.AppendTo(b)
	tab()
	b = u(b, uint64(r.ID.RespP), 10)
	tab()
	b = append(b, r.Proto.String()...)
	tab()
	if r.Service == "" {
		b = append(b, '-')
	} else {
		b = appendZeek(b, r.Service, true)
	}
	tab()
	if r.HasDuration() {
		b = appendMicros(b, int64(r.ZeekDuration()))
		tab()
		b = u(b, r.OrigBytes, 10)
		tab()
		b = u(b, r.RespBytes, 10)
	} else {
		b = append(b, "-\t-\t-"...)
	}
	tab()
	b = append(b, r.State.String()...)
	tab()
	b = appendBool(b, r.LocalKnown, r.LocalOrig)
	tab()
	b = appendBool(b, r.LocalKnown, r.LocalResp)
	tab()
	b = u(b, r.MissedBytes, 10)
	tab()
	if r.History == "" {
		b = append(b, '-')
	} else {
		b = appendZeek(b, r.History, false)
	}
	tab()
	b = u(b, r.OrigPkts, 10)
	tab()
	b = u(b, r.OrigIPBytes, 10)
	tab()
	b = u(b, r.RespPkts, 10)
	tab()
	b = u(b, r.RespIPBytes, 10)
	tab()
	if len(r.TunnelParents) == 0 {
		b = append(b, '-')
	}
	for i, p := range r.TunnelParents {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendZeek(b, p, true)
	}
	tab()
	b = u(b, uint64(r.IPProto), 10)
	return append(b, '\n')
}
