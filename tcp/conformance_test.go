package tcp_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/fields"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/tshark"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// analysisFields are compared frame by frame with tshark.
var analysisFields = []string{
	"tcp.stream", "tcp.seq", "tcp.ack", "tcp.nxtseq", "tcp.len", "tcp.completeness",
	"tcp.window_size", "tcp.window_size_scalefactor",
	"tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission",
	"tcp.analysis.out_of_order", "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
	"tcp.analysis.duplicate_ack", "tcp.analysis.duplicate_ack_num", "tcp.analysis.duplicate_ack_frame",
	"tcp.analysis.zero_window", "tcp.analysis.zero_window_probe", "tcp.analysis.zero_window_probe_ack",
	"tcp.analysis.window_full", "tcp.analysis.window_update", "tcp.analysis.keep_alive", "tcp.analysis.keep_alive_ack",
	"tcp.analysis.reused_ports", "tcp.analysis.ack_rtt", "tcp.analysis.acks_frame", "tcp.analysis.initial_rtt",
	"tcp.analysis.bytes_in_flight", "tcp.analysis.push_bytes_sent", "tcp.analysis.rto", "tcp.analysis.rto_frame",
}

// ours returns, per frame, our value of every field as tshark formats it.
func ours(t *testing.T, file string, names []string) [][]string {
	t.Helper()
	fs := make([]*fields.Field, len(names))
	for i, n := range names {
		f, ok := fields.Lookup(n)
		if !ok {
			t.Fatalf("no field %s", n)
		}
		fs[i] = f
	}
	var rows [][]string
	var vals []fields.Value
	_, err := pipeline.Run(file, pipeline.Options{}, func(p *pipeline.Packet) error {
		c := fields.Context{P: p.Packet, A: p.TCP, First: p.First, Prev: p.Prev}
		row := make([]string, len(fs))
		for i, f := range fs {
			vals = f.Values(&c, vals[:0])
			row[i] = string(fields.AppendAll(nil, vals, ','))
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

type confusion struct{ both, onlyUs, onlyTshark int }

// Disagreements that remain, each explained:
//   - tcp.completeness on FTP data connections (ftp-bigtransfer, ftp-ipv6):
//     tshark's FTP dissector creates the data connection's conversation
//     when it reads PASV/PORT, so the data connection's SYN does not find
//     a new conversation and does not set the SYN bit (packet-tcp.c sets it
//     only in a conversation the SYN creates). wiresleuth's TCP analysis
//     does not depend on application decoding.
//   - cisco-fabric-path: 16 frames whose TCP header tshark reads from inside
//     the FabricPath FCS (their IP length runs past the frame); wiresleuth
//     decodes no header it does not have whole, so they get no tcp.stream.
//
// TestAnalysisAgainstTshark compares every tcp.analysis field, and the
// stream, relative sequence numbers, window and completeness, with tshark
// 4.0 on every capture of the corpus. For each flag it requires agreement
// on at least 99% of the frames either tool flags, and prints a confusion
// table.
func TestAnalysisAgainstTshark(t *testing.T) {
	// The repository's captures, the peers' traces, and the lab's real
	// loss, reordering, retransmission and zero-window captures.
	files := append(corpus.All(t), corpus.Lab(t)...)
	flagStats := map[string]*confusion{}
	valueStats := map[string]*confusion{}
	for _, name := range analysisFields {
		flagStats[name] = &confusion{}
		valueStats[name] = &confusion{}
	}
	var frames int
	for _, file := range files {
		want := tshark.Fields(t, strings.TrimSuffix(file, ".zst"), analysisFields)
		if len(want) == 0 {
			continue
		}
		got := ours(t, file, analysisFields)
		if len(want) != len(got) {
			t.Fatalf("%s: %d frames, tshark %d", file, len(got), len(want))
		}
		shown := 0
		for i := range got {
			frames++
			for j, name := range analysisFields {
				g, w := got[i][j], want[i][j]
				c := valueStats[name]
				switch {
				case g == w && g != "":
					c.both++
				case g != w && w != "":
					c.onlyTshark++
				case g != w:
					c.onlyUs++
				}
				if g != w && shown < 8 {
					shown++
					t.Logf("%s frame %d %s: ours %q tshark %q", filepath.Base(file), i+1, name, g, w)
				}
			}
		}
	}
	names := append([]string(nil), analysisFields...)
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d frames; per field: agree / only tshark (or different) / only wiresleuth\n", frames)
	for _, n := range names {
		c := valueStats[n]
		fmt.Fprintf(&b, "  %-42s %7d %5d %5d\n", n, c.both, c.onlyTshark, c.onlyUs)
		total := c.both + c.onlyTshark + c.onlyUs
		if total > 0 && float64(c.both) < 0.99*float64(total) {
			t.Errorf("%s: agreement %.2f%% < 99%%", n, 100*float64(c.both)/float64(total))
		}
	}
	t.Log("\n" + b.String())
}
