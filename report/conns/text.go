package conns

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wiresleuth/wiresleuth/conn"
)

// The text format: one aligned line per connection, for reading in a
// terminal. Rows are aligned in blocks of textBlock so that output streams;
// the header is repeated when a block needs wider columns.
const textBlock = 256

var textHeader = []string{"START (UTC)", "PROTO", "ORIG", "RESP", "STATE", "HISTORY", "DURATION", "BYTES O/R", "PKTS O/R", "NOTES"}

type textWriter struct {
	w      io.Writer
	rows   [][]string
	widths []int
	shown  bool
	err    error
}

func newText(w io.Writer) *textWriter { return &textWriter{w: w, widths: make([]int, len(textHeader))} }

func endpoint(a string, port uint16, proto conn.Proto) string {
	if strings.Contains(a, ":") {
		a = "[" + a + "]"
	}
	if proto == conn.ProtoUnknown {
		return a
	}
	return a + ":" + strconv.Itoa(int(port))
}

func textRow(r *conn.Record) []string {
	bytes, dur := "-", human(r.Duration())
	if r.HasDuration() || r.Proto != conn.ProtoTCP {
		bytes = strconv.FormatUint(r.OrigBytes, 10) + "/" + strconv.FormatUint(r.RespBytes, 10)
	}
	if r.Duration() <= 0 {
		dur = "-"
	}
	hist := r.History
	if hist == "" {
		hist = "-"
	}
	orig, resp := endpoint(r.ID.OrigH.String(), r.ID.OrigP, r.Proto), endpoint(r.ID.RespH.String(), r.ID.RespP, r.Proto)
	if r.Proto == conn.ProtoICMP {
		// The "ports" are the type and the code, or the counterpart type.
		orig = r.ID.OrigH.String() + " type " + strconv.Itoa(int(r.ID.OrigP))
		what := " code "
		if _, pair := conn.ICMPCounterpart(r.IPProto == 58, uint8(r.ID.OrigP)); pair {
			what = " type "
		}
		resp = r.ID.RespH.String() + what + strconv.Itoa(int(r.ID.RespP))
	}
	proto := r.Proto.String()
	if r.Proto == conn.ProtoUnknown {
		proto = "ip/" + strconv.Itoa(int(r.IPProto))
	}
	return []string{
		r.Start.UTC().Format("2006-01-02 15:04:05.000000"),
		proto, orig, resp, r.State.String(), safe(hist), dur, bytes,
		strconv.FormatUint(r.OrigPkts, 10) + "/" + strconv.FormatUint(r.RespPkts, 10),
		safe(strings.Join(notes(r), "; ")),
	}
}

func (t *textWriter) Write(r *conn.Record) error {
	t.rows = append(t.rows, textRow(r))
	if len(t.rows) >= textBlock {
		t.flush()
	}
	return t.err
}

func (t *textWriter) Close() error {
	if len(t.rows) > 0 || !t.shown {
		t.flush()
	}
	return t.err
}

func width(s string) int { return utf8.RuneCountInString(s) }

func (t *textWriter) flush() {
	grew := !t.shown
	for _, row := range append([][]string{textHeader}, t.rows...) {
		for i, c := range row[:len(row)-1] {
			if w := width(c); w > t.widths[i] {
				t.widths[i] = w
				grew = true
			}
		}
	}
	var b strings.Builder
	line := func(row []string) {
		var l strings.Builder
		for i, c := range row {
			l.WriteString(c)
			if i < len(row)-1 {
				l.WriteString(strings.Repeat(" ", t.widths[i]-width(c)+2))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	if grew {
		line(textHeader)
		t.shown = true
	}
	for _, row := range t.rows {
		line(row)
	}
	t.rows = t.rows[:0]
	if t.err == nil {
		_, t.err = io.WriteString(t.w, b.String())
	}
}
