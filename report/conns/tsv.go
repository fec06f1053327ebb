package conns

import (
	"io"
	"strconv"
	"strings"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// tsvColumns are Zeek's conn.log columns followed by the extras, one line
// of names first; unset values are "-".
var tsvColumns = append(append([]string(nil), zeekFields...),
	"exact_duration", "ended", "first_frame", "last_frame",
	"handshake_rtt", "resp_rtt", "orig_rtt", "syns", "syn_acks",
	"orig_mss", "resp_mss", "orig_wscale", "resp_wscale", "orig_sack", "resp_sack", "tcp_timestamps",
	"orig_ttl", "resp_ttl", "orig_ip_id", "resp_ip_id", "orig_checksums", "resp_checksums",
	"close_by", "close_how", "close_frame",
	"idle_gap", "idle_from_frame", "idle_to_frame", "idle_after_last_data", "idle_ends_with_close", "trailing_idle",
	"icmp_errors", "icmp_first",
	"orig_retransmissions", "resp_retransmissions", "orig_dup_acks", "resp_dup_acks", "orig_zero_windows", "resp_zero_windows",
	"evidence")

type tsvWriter struct {
	w       io.Writer
	started bool
	buf     []byte
}

func newTSV(w io.Writer) *tsvWriter { return &tsvWriter{w: w} }

func (t *tsvWriter) head() error {
	t.started = true
	_, err := io.WriteString(t.w, strings.Join(tsvColumns, "\t")+"\n")
	return err
}

func (t *tsvWriter) Write(r *conn.Record) error {
	if !t.started {
		if err := t.head(); err != nil {
			return err
		}
	}
	b := appendZeekRow(t.buf[:0], r) // the Zeek columns, already escaped
	b = b[:len(b)-1]
	cell := func(s string) {
		b = append(b, '\t')
		if s == "" {
			s = "-"
		}
		b = appendCell(b, s)
	}
	num := func(v int64) { cell(strconv.FormatInt(v, 10)) }
	dur := func(ok bool, secs float64) {
		if !ok {
			cell("-")
			return
		}
		cell(strconv.FormatFloat(secs, 'f', 6, 64))
	}
	frame := func(ref conn.Ref) {
		if !ref.Valid() {
			cell("-")
			return
		}
		num(ref.Frame)
	}
	yn := func(v bool) string {
		if v {
			return "T"
		}
		return "F"
	}
	tcpOnly := func(s string) string {
		if r.Proto != conn.ProtoTCP {
			return "-"
		}
		return s
	}
	dur(true, r.Duration().Seconds())
	cell(r.Ended.String())
	num(r.FirstFrame)
	num(r.LastFrame)
	h := &r.Handshake
	dur(h.SYN.Valid() && h.ACK.Valid(), h.RTT.Seconds())
	dur(h.SYN.Valid() && h.SYNACK.Valid(), h.RespRTT().Seconds())
	dur(h.SYNACK.Valid() && h.ACK.Valid(), h.OrigRTT().Seconds())
	cell(tcpOnly(strconv.Itoa(h.SYNs)))
	cell(tcpOnly(strconv.Itoa(h.SYNACKs)))
	for _, o := range []conn.TCPOptions{r.Orig.Options, r.Resp.Options} {
		if o.HasMSS {
			cell(strconv.Itoa(int(o.MSS)))
		} else {
			cell("-")
		}
	}
	for _, o := range []conn.TCPOptions{r.Orig.Options, r.Resp.Options} {
		if o.HasWScale {
			cell(strconv.Itoa(int(o.WScale)))
		} else {
			cell("-")
		}
	}
	for _, o := range []conn.TCPOptions{r.Orig.Options, r.Resp.Options} {
		if o.Seen {
			cell(yn(o.SACKPermitted))
		} else {
			cell("-")
		}
	}
	cell(tcpOnly(r.Timestamps().String()))
	cell(ttlSummary(&r.Orig.TTL))
	cell(ttlSummary(&r.Resp.TTL))
	cell(ipidSummary(&r.Orig.IPID))
	cell(ipidSummary(&r.Resp.IPID))
	cell(r.Orig.Checksums.Verdict.String())
	cell(r.Resp.Checksums.Verdict.String())
	cell(role(r.Close.By))
	cell(r.Close.How.String())
	frame(r.Close.At)
	id := &r.Idle
	dur(id.From.Valid(), id.Gap.Seconds())
	frame(id.From)
	frame(id.To)
	cell(yn(id.AfterLastData))
	cell(yn(id.EndsWithClose))
	dur(true, id.Trailing.Seconds())
	num(int64(r.ICMPErrorCount))
	if len(r.ICMPErrors) > 0 {
		e := r.ICMPErrors[0]
		cell(strconv.Itoa(int(e.Type)) + "/" + strconv.Itoa(int(e.Code)) + " from " + e.From.String() + " @" + strconv.FormatInt(e.Frame, 10))
	} else {
		cell("-")
	}
	for _, f := range []tcp.Flags{tcp.Retransmission, tcp.DuplicateAck, tcp.ZeroWindow} {
		for _, s := range []*conn.Side{&r.Orig, &r.Resp} {
			if r.Annotated {
				num(s.Analysis.Count(f))
			} else {
				cell("-")
			}
		}
	}
	var ev []string
	for _, e := range r.Evidence {
		ev = append(ev, e.Kind.String()+":"+strconv.FormatInt(e.Frame, 10))
	}
	cell(strings.Join(ev, ","))
	b = append(b, '\n')
	t.buf = b
	_, err := t.w.Write(b)
	return err
}

func (t *tsvWriter) Close() error {
	if !t.started {
		return t.head()
	}
	return nil
}
