package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/wiresleuth/wiresleuth/convtable"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/tcp"
)

func runConv(args []string, out, stderr io.Writer) int {
	bw := bufio.NewWriterSize(out, 64<<10)
	defer bw.Flush()
	var stdout io.Writer = bw
	fs := flag.NewFlagSet("conv", flag.ContinueOnError)
	format := fs.String("format", "text", "output format: text, json or tsv")
	proto := fs.String("proto", "all", "conversations to list: tcp, udp or all")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wiresleuth conv [--format text|json|tsv] [--proto tcp|udp|all] FILE...")
		fmt.Fprintln(stderr, "One row per TCP stream and UDP 4-tuple, as tshark -q -z conv,tcp / conv,udp.")
		fs.PrintDefaults()
	}
	if code := parse(fs, args, stderr); code >= 0 {
		return code
	}
	if !checkFormat(*format, stderr, "text", "json", "tsv") || !checkFormat(*proto, stderr, "tcp", "udp", "all") {
		return 2
	}
	files, ok := inputs(fs.Args(), stderr)
	if !ok {
		return 2
	}
	tables := map[string]*convtable.Table{}
	for _, f := range files {
		tables[f] = convtable.New()
	}
	// The table needs tcp.stream, not the per-segment analysis.
	opt := pipeline.Options{TCP: tcp.Config{StreamsOnly: true}}
	sums, ok := runAll(files, opt, stderr, func(f string, p *pipeline.Packet) { tables[f].Add(p) })
	if !ok {
		return 2
	}
	var protos []string
	if *proto == "all" {
		protos = []string{"tcp", "udp"}
	} else {
		protos = []string{*proto}
	}
	switch *format {
	case "json":
		return convJSON(stdout, files, tables, protos, sums)
	case "tsv":
		fmt.Fprintln(stdout, "capture\tproto\tstream\ta_addr\ta_port\tb_addr\tb_port\ta_to_b_frames\ta_to_b_bytes\tb_to_a_frames\tb_to_a_bytes\ttotal_frames\ttotal_bytes\trel_start\tduration")
		for _, f := range files {
			for _, pr := range protos {
				for _, c := range tables[f].Rows(pr) {
					fmt.Fprintf(stdout, "%s\t%s\t%d\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.9f\t%.6f\n", tsvField(f), pr, c.Stream,
						c.A.Addr, c.A.Port, c.B.Addr, c.B.Port, c.AtoB.Frames, c.AtoB.Bytes, c.BtoA.Frames, c.BtoA.Bytes,
						c.Total().Frames, c.Total().Bytes, c.Start.Seconds(), c.Duration.Seconds())
				}
			}
		}
	default:
		for _, f := range files {
			for _, pr := range protos {
				rows := tables[f].Rows(pr)
				fmt.Fprintf(stdout, "%s conversations in %s: %d\n", upper(pr), f, len(rows))
				if len(rows) == 0 {
					fmt.Fprintln(stdout)
					continue
				}
				tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "A\t\tB\tA→B frames\tbytes\tB→A frames\tbytes\tframes\tbytes\tstart\tduration\t")
				for _, c := range rows {
					fmt.Fprintf(tw, "%s\t<->\t%s\t%d\t%s\t%d\t%s\t%d\t%s\t%.6f\t%.4f\t\n", c.A, c.B,
						c.AtoB.Frames, si(c.AtoB.Bytes), c.BtoA.Frames, si(c.BtoA.Bytes), c.Total().Frames, si(c.Total().Bytes),
						c.Start.Seconds(), c.Duration.Seconds())
				}
				tw.Flush()
				fmt.Fprintln(stdout)
			}
		}
	}
	return 0
}

type convRow struct {
	Capture   string           `json:"capture"`
	Proto     string           `json:"proto"`
	Stream    int64            `json:"stream"`
	A         endpointJSON     `json:"a"`
	B         endpointJSON     `json:"b"`
	AtoB      convtable.Counts `json:"a_to_b"`
	BtoA      convtable.Counts `json:"b_to_a"`
	Total     convtable.Counts `json:"total"`
	RelStart  float64          `json:"rel_start_s"`
	DurationS float64          `json:"duration_s"`
}

type endpointJSON struct {
	Addr string `json:"addr"`
	Port uint16 `json:"port"`
}

func convJSON(w io.Writer, files []string, tables map[string]*convtable.Table, protos []string, sums []*pipeline.Summary) int {
	out := struct {
		Captures      []captureJSON `json:"captures"`
		Conversations []convRow     `json:"conversations"`
		Warnings      []string      `json:"warnings"`
	}{Conversations: []convRow{}, Warnings: warnings(sums)}
	for _, s := range sums {
		out.Captures = append(out.Captures, captureInfo(s))
	}
	for _, f := range files {
		for _, pr := range protos {
			for _, c := range tables[f].Rows(pr) {
				out.Conversations = append(out.Conversations, convRow{f, pr, c.Stream,
					endpointJSON{c.A.Addr.String(), c.A.Port}, endpointJSON{c.B.Addr.String(), c.B.Port},
					c.AtoB, c.BtoA, c.Total(), c.Start.Seconds(), c.Duration.Seconds()})
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return 2
	}
	return 0
}

// si formats a byte count as tshark's tables do (Wireshark's format_size:
// truncating division, a prefix only from ten units up).
func si(n int64) string {
	for _, p := range []struct {
		div    int64
		prefix string
	}{{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}} {
		if n/p.div >= 10 {
			return fmt.Sprintf("%d %s", n/p.div, p.prefix)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
