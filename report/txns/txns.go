// Package txns renders application transactions (a request and its reply,
// or the lack of one, as the app decoders report them) as a table: text
// for terminals, TSV for scripts, JSON. Every string that comes from
// packets is escaped for the format.
package txns

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
)

// Row is one transaction with where it ran.
type Row struct {
	Capture        string
	Transport      string // "tcp" or "udp"
	Stream         int64  // tcp.stream; -1 for UDP
	Client, Server flow.Endpoint
	app.Transaction
}

// Time is when the transaction began: its request, or its reply when the
// request was not seen.
func (r *Row) Time() capture.Time {
	if r.RequestAt.Frame != 0 {
		return r.RequestAt.Time
	}
	return r.ReplyAt.Time
}

// Format is an output format.
type Format uint8

const (
	Text Format = iota
	TSV
	JSON
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "text":
		return Text, nil
	case "tsv":
		return TSV, nil
	case "json":
		return JSON, nil
	}
	return 0, fmt.Errorf("unknown format %q (want text, tsv or json)", s)
}

var columns = []string{"time", "capture", "proto", "client", "server", "operation", "request", "reply", "status",
	"error", "latency_s", "request_frame", "reply_frame", "transport", "stream"}

// Write renders rows in format f.
func Write(w io.Writer, f Format, rows []Row) error {
	bw := bufio.NewWriter(w)
	switch f {
	case JSON:
		return writeJSON(w, rows)
	case TSV:
		for i, c := range columns {
			if i > 0 {
				bw.WriteByte('\t')
			}
			bw.WriteString(c)
		}
		bw.WriteByte('\n')
		var b []byte
		for i := range rows {
			b = appendTSV(b[:0], &rows[i])
			bw.Write(b)
		}
	default:
		writeText(bw, rows)
	}
	return bw.Flush()
}

func cells(r *Row) []string {
	lat := ""
	if r.ReplyAt.Frame != 0 && r.RequestAt.Frame != 0 {
		lat = seconds(r.Latency)
	}
	frame := func(p app.Pos) string {
		if p.Frame == 0 {
			return ""
		}
		return strconv.FormatInt(p.Frame, 10)
	}
	return []string{r.Time().String(), r.Capture, r.Protocol, r.Client.String(), r.Server.String(), r.Operation, r.Request,
		r.Reply, r.Status.String(), r.Error, lat, frame(r.RequestAt), frame(r.ReplyAt), r.Transport, strconv.FormatInt(r.Stream, 10)}
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

func appendTSV(b []byte, r *Row) []byte {
	for i, c := range cells(r) {
		if i > 0 {
			b = append(b, '\t')
		}
		b = appendCell(b, c)
	}
	return append(b, '\n')
}

// writeText writes one line per transaction: time, client → server,
// protocol, request, reply or status, latency, frames.
func writeText(w *bufio.Writer, rows []Row) {
	fmt.Fprintf(w, "%-26s  %-6s  %-45s  %-40s  %-40s  %-10s  %9s  %s\n", "TIME (UTC)", "PROTO", "CLIENT → SERVER",
		"REQUEST", "REPLY", "STATUS", "LATENCY", "FRAMES")
	for i := range rows {
		r := &rows[i]
		req := r.Request
		if req == "" {
			req = "(" + r.Operation + ")"
		}
		reply := r.Reply
		if reply == "" && r.Status == app.StatusNoReply {
			reply = "-"
		}
		lat := ""
		if r.ReplyAt.Frame != 0 && r.RequestAt.Frame != 0 {
			lat = short(r.Latency)
		}
		frames := ""
		if r.RequestAt.Frame != 0 {
			frames = strconv.FormatInt(r.RequestAt.Frame, 10)
		}
		if r.ReplyAt.Frame != 0 {
			frames += "→" + strconv.FormatInt(r.ReplyAt.Frame, 10)
		}
		t := time.Unix(0, int64(r.Time())).UTC().Format("2006-01-02 15:04:05.000000")
		fmt.Fprintf(w, "%-26s  %-6s  %-45s  %-40s  %-40s  %-10s  %9s  %s\n", clip(t, 26), r.Protocol,
			r.Client.String()+" → "+r.Server.String(), clip(safe(req), 40), clip(safe(reply), 40), r.Status, lat, frames)
	}
}

func short(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%d µs", d/time.Microsecond)
}

// clip cuts s to n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

type jsonRow struct {
	Time         string  `json:"time"`
	Capture      string  `json:"capture"`
	Protocol     string  `json:"proto"`
	Transport    string  `json:"transport"`
	Stream       int64   `json:"stream"`
	Client       string  `json:"client"`
	Server       string  `json:"server"`
	Operation    string  `json:"operation"`
	Request      string  `json:"request,omitempty"`
	Reply        string  `json:"reply,omitempty"`
	Status       string  `json:"status"`
	Error        string  `json:"error,omitempty"`
	LatencyS     float64 `json:"latency_s,omitempty"`
	RequestFrame int64   `json:"request_frame,omitempty"`
	ReplyFrame   int64   `json:"reply_frame,omitempty"`
}

func writeJSON(w io.Writer, rows []Row) error {
	out := struct {
		Transactions []jsonRow `json:"transactions"`
	}{Transactions: make([]jsonRow, len(rows))}
	for i := range rows {
		r := &rows[i]
		j := jsonRow{Time: r.Time().String(), Capture: r.Capture, Protocol: r.Protocol, Transport: r.Transport, Stream: r.Stream,
			Client: r.Client.String(), Server: r.Server.String(), Operation: valid(r.Operation), Request: valid(r.Request),
			Reply: valid(r.Reply), Status: r.Status.String(), Error: valid(r.Error), RequestFrame: r.RequestAt.Frame,
			ReplyFrame: r.ReplyAt.Frame}
		if r.ReplyAt.Frame != 0 && r.RequestAt.Frame != 0 {
			j.LatencyS = r.Latency.Seconds()
		}
		out.Transactions[i] = j
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// valid makes s valid UTF-8 for JSON, escaping bytes that are not as
// \xNN (encoding/json would replace them with U+FFFD, losing them).
func valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(appendText(nil, s))
}
