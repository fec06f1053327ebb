package conns_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/report/conns"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.*")

// records runs captures through a Tracker, in order, and returns what it
// finalised.
func records(t *testing.T, opt conn.Options, paths ...string) []*conn.Record {
	t.Helper()
	var recs []*conn.Record
	for _, path := range paths {
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		tr := conn.New(opt, func(rec *conn.Record) { recs = append(recs, rec) })
		d := conn.NewDecoder()
		var p packet.Packet
		for f, err := range r.Frames() {
			if err != nil {
				t.Fatal(err)
			}
			d.Decode(f, &p)
			tr.Observe(&p, nil)
		}
		tr.Finish()
		r.Close()
	}
	return recs
}

func render(t *testing.T, f conns.Format, recs []*conn.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := conns.WriteAll(&b, f, recs, conns.Options{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGolden renders the records of some of the repository's captures in
// every format and compares with testdata/conns.golden.*; -update
// rewrites them.
func TestGolden(t *testing.T) {
	var paths []string
	for _, n := range []string{"http-veth.pcap", "icmp.pcap", "vxlan.pcap", "frag.pcap", "merged.pcapng"} {
		paths = append(paths, corpus.Path(t, "testdata", n))
	}
	opt := conn.DefaultOptions()
	opt.IgnoreChecksums = true // the veth captures carry offload checksums
	recs := records(t, opt, paths...)
	for _, f := range []struct {
		format conns.Format
		ext    string
	}{{conns.Text, "txt"}, {conns.JSON, "json"}, {conns.TSV, "tsv"}, {conns.Zeek, "log"}} {
		got := render(t, f.format, recs)
		golden := filepath.Join("testdata", "conns.golden."+f.ext)
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", f.format, golden, lineDiff(string(want), string(got)))
		}
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n- " + a + "\n+ " + b
		}
	}
	return ""
}

// zeekLog is a parsed conn.log: its header lines and rows by column.
type zeekLog struct {
	header map[string]string // "#separator" … "#types", "#open" stripped
	cols   []string
	rows   []map[string]string
}

// parseZeekLog reads a Zeek ASCII log as zeek-cut does: #separator names
// the separator (\x escapes allowed), #fields the columns.
func parseZeekLog(t *testing.T, data []byte) zeekLog {
	t.Helper()
	l := zeekLog{header: map[string]string{}}
	sep := "\t"
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#separator "):
			v := strings.TrimPrefix(line, "#separator ")
			if v != `\x09` {
				t.Fatalf("separator %q", v)
			}
			l.header["#separator"] = line
		case strings.HasPrefix(line, "#"):
			k, _, _ := strings.Cut(line, sep)
			l.header[k] = line
			if k == "#fields" {
				l.cols = strings.Split(line, sep)[1:]
			}
		default:
			if l.cols == nil {
				t.Fatalf("data before #fields: %q", line)
			}
			vals := strings.Split(line, sep)
			if len(vals) != len(l.cols) {
				t.Fatalf("%d values for %d columns: %q", len(vals), len(l.cols), line)
			}
			row := map[string]string{}
			for i, c := range l.cols {
				row[c] = vals[i]
			}
			l.rows = append(l.rows, row)
		}
	}
	return l
}

// TestZeekFormatIsZeeks: the header lines are byte for byte those of a
// conn.log Zeek wrote, and every column but ts, uid (random in Zeek) and
// service (wiresleuth runs no application analyzers) equals Zeek's, row
// for row, on Zeek's own traces.
func TestZeekFormatIsZeeks(t *testing.T) {
	dir := filepath.Join(corpus.Peers(t), "zeek")
	for _, c := range []struct {
		trace, baseline string
		opt             func() conn.Options
	}{
		{"http-get.pcap", "http-get.conn.log", func() conn.Options {
			o := conn.BareOptions()
			o.ServerPorts, _ = conn.ScriptPorts("http")
			return o
		}},
		{"teredo.pcap", "teredo.conn.log", func() conn.Options {
			o := conn.BareOptions()
			o.ServerPorts, _ = conn.ScriptPorts("http", "dns", "dhcp")
			return o
		}},
		{"wikipedia.pcap", "wikipedia.conn.log", func() conn.Options {
			o := conn.DefaultOptions()
			o.IgnoreChecksums = true
			return o
		}},
	} {
		want, err := os.ReadFile(filepath.Join(dir, c.baseline))
		if err != nil {
			t.Fatal(err)
		}
		base := parseZeekLog(t, want)
		ours := parseZeekLog(t, render(t, conns.Zeek, records(t, c.opt(), filepath.Join(dir, c.trace))))
		for _, k := range []string{"#separator", "#set_separator", "#empty_field", "#unset_field", "#path", "#fields", "#types"} {
			if ours.header[k] != base.header[k] {
				t.Errorf("%s: %q, Zeek writes %q", k, ours.header[k], base.header[k])
			}
		}
		if _, ok := ours.header["#open"]; !ok {
			t.Error("no #open line")
		}
		if _, ok := ours.header["#close"]; !ok {
			t.Error("no #close line")
		}
		if len(ours.rows) != len(base.rows) {
			t.Fatalf("%s: %d rows, Zeek %d", c.trace, len(ours.rows), len(base.rows))
		}
		// Join on the 5-tuple and order, as the rows come in removal order.
		used := make([]bool, len(ours.rows))
		key := func(r map[string]string) string {
			return r["id.orig_h"] + " " + r["id.orig_p"] + " " + r["id.resp_h"] + " " + r["id.resp_p"] + " " + r["proto"]
		}
		for _, b := range base.rows {
			found := false
			for i, o := range ours.rows {
				if used[i] || key(o) != key(b) {
					continue
				}
				same := true
				for _, col := range base.cols {
					switch col {
					case "ts", "uid", "service":
						continue
					case "tunnel_parents":
						if (o[col] == "-") != (b[col] == "-") || strings.Count(o[col], ",") != strings.Count(b[col], ",") {
							same = false
						}
						continue
					}
					if o[col] != b[col] {
						same = false
					}
				}
				if same {
					used[i], found = true, true
					break
				}
			}
			if !found {
				t.Errorf("%s: no row equal to Zeek's %v", c.trace, b)
			}
		}
	}
}

// TestJSONShape: one top-level object with a "connections" array, each
// with the stable field names.
func TestJSONShape(t *testing.T) {
	recs := records(t, conn.DefaultOptions(), corpus.Path(t, "testdata", "raw-ip.pcap"))
	var doc struct {
		Schema      string           `json:"schema"`
		Version     int              `json:"version"`
		Connections []map[string]any `json:"connections"`
	}
	if err := json.Unmarshal(render(t, conns.JSON, recs), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "wiresleuth.conns" || doc.Version != conns.SchemaVersion || len(doc.Connections) != len(recs) || len(recs) == 0 {
		t.Fatalf("schema %q v%d, %d connections for %d records", doc.Schema, doc.Version, len(doc.Connections), len(recs))
	}
	c := doc.Connections[0]
	for _, k := range []string{"uid", "id", "proto", "ts", "duration", "orig_bytes", "resp_bytes", "conn_state", "history",
		"orig_pkts", "resp_ip_bytes", "tunnel_parents", "orig", "resp", "handshake", "close", "idle", "icmp_errors", "evidence"} {
		if _, ok := c[k]; !ok {
			t.Errorf("no %q in %v", k, c)
		}
	}
	if c["conn_state"] != "SF" || c["history"] != "ShADadfF" {
		t.Errorf("raw-ip.pcap: %v %v", c["conn_state"], c["history"])
	}
	side := c["orig"].(map[string]any)
	for _, k := range []string{"packets", "tcp_options", "ttl", "ip_id", "checksums", "analysis", "first_data", "fin"} {
		if _, ok := side[k]; !ok {
			t.Errorf("no %q in orig %v", k, side)
		}
	}
	// An empty run is still one valid document.
	var empty struct{ Connections []any }
	if err := json.Unmarshal(render(t, conns.JSON, nil), &empty); err != nil || empty.Connections == nil {
		t.Errorf("empty output: %v %v", err, empty)
	}
}

// TestEscaping: hostile strings in every field that could carry them never
// reach any output raw.
func TestEscaping(t *testing.T) {
	hostile := "a\tb\nc\x1b[31m,\\d\x00\xff-"
	r := &conn.Record{
		UID: hostile, Service: hostile, History: hostile, TunnelParents: []string{hostile, "Cx"},
		ID:    conn.ID{OrigH: netip.MustParseAddr("10.0.0.1"), OrigP: 1, RespH: netip.MustParseAddr("10.0.0.2"), RespP: 2},
		Proto: conn.ProtoTCP, IPProto: 6, Start: capture.Time(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()),
	}
	r.LastTime = r.Start + capture.Time(time.Second)
	for _, f := range conns.Formats {
		out := render(t, f, []*conn.Record{r})
		for _, bad := range []byte{0x1b, 0x00, 0xff} {
			if bytes.IndexByte(out, bad) >= 0 {
				t.Errorf("%s: raw byte %#x in output:\n%q", f, bad, out)
			}
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		switch f {
		case conns.Zeek:
			l := parseZeekLog(t, out)
			if len(l.rows) != 1 || l.rows[0]["history"] != `a\x09b\x0ac\x1b[31m,\x5cd\x00\xff-` || l.rows[0]["tunnel_parents"] != `Cx,a\x09b\x0ac\x1b[31m\x2c\x5cd\x00\xff-` && l.rows[0]["tunnel_parents"] != `a\x09b\x0ac\x1b[31m\x2c\x5cd\x00\xff-,Cx` {
				t.Errorf("zeek row %v", l.rows)
			}
		case conns.TSV:
			if len(lines) != 2 || strings.Count(lines[0], "\t") != strings.Count(lines[1], "\t") {
				t.Errorf("tsv: %d lines, header %d tabs, row %d", len(lines), strings.Count(lines[0], "\t"), strings.Count(lines[1], "\t"))
			}
		case conns.Text:
			if len(lines) != 2 {
				t.Errorf("text: %d lines:\n%s", len(lines), out)
			}
		case conns.JSON:
			var doc struct{ Connections []struct{ History string } }
			if err := json.Unmarshal(out, &doc); err != nil || len(doc.Connections) != 1 {
				t.Fatalf("json: %v", err)
			}
			if h := doc.Connections[0].History; strings.ContainsAny(h, "\x1b\x00\t\n") {
				t.Errorf("json history %q", h)
			}
		}
	}
}

// TestTextAligned: every column starts at the same place on every line.
func TestTextAligned(t *testing.T) {
	recs := records(t, conn.DefaultOptions(), corpus.Path(t, "testdata", "merged.pcapng"), corpus.Path(t, "testdata", "icmp.pcap"))
	out := string(render(t, conns.Text, recs))
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(recs)+1 {
		t.Fatalf("%d lines for %d records:\n%s", len(lines), len(recs), out)
	}
	head := lines[0]
	for _, col := range []string{"PROTO", "ORIG", "RESP", "STATE", "HISTORY", "DURATION"} {
		at := strings.Index(head, col)
		for _, l := range lines[1:] {
			r := []rune(l)
			if at >= len(r) || r[at] == ' ' || r[at-1] != ' ' {
				t.Errorf("column %s (at %d) not aligned in %q", col, at, l)
			}
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range conns.Formats {
		if g, err := conns.ParseFormat(string(f)); err != nil || g != f {
			t.Errorf("%s: %v %v", f, g, err)
		}
	}
	if _, err := conns.ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}
