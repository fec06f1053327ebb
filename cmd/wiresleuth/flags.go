package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/wiresleuth/wiresleuth/flagstat"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

func runFlags(args []string, out, stderr io.Writer) int {
	bw := bufio.NewWriterSize(out, 64<<10)
	defer bw.Flush()
	var stdout io.Writer = bw
	fs := flag.NewFlagSet("flags", flag.ContinueOnError)
	format := fs.String("format", "text", "output format: text, json or tsv")
	port := fs.Uint("port", 0, "count only segments to or from this port, split into server (sends from it) and client")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wiresleuth flags [--port N] [--format text|json|tsv] FILE...")
		fmt.Fprintln(stderr, "TCP flag combinations counted per sender, written as tcpdump writes them.")
		fs.PrintDefaults()
	}
	if code := parse(fs, args, stderr); code >= 0 {
		return code
	}
	if !checkFormat(*format, stderr, "text", "json", "tsv") {
		return 2
	}
	if *port > 65535 {
		fmt.Fprintln(stderr, "wiresleuth: --port must be 0..65535")
		return 2
	}
	files, ok := inputs(fs.Args(), stderr)
	if !ok {
		return 2
	}
	counters := map[string]*flagstat.Counter{}
	for _, f := range files {
		counters[f] = flagstat.New(uint16(*port))
	}
	sums, ok := runAll(files, pipeline.Options{NoTCP: true}, stderr, func(f string, p *pipeline.Packet) { counters[f].Add(p) })
	if !ok {
		return 2
	}
	switch *format {
	case "json":
		type row struct {
			Capture string `json:"capture"`
			flagstat.Row
		}
		out := struct {
			Captures []captureJSON `json:"captures"`
			Flags    []row         `json:"flags"`
			Warnings []string      `json:"warnings"`
		}{Flags: []row{}, Warnings: warnings(sums)}
		for _, s := range sums {
			out.Captures = append(out.Captures, captureInfo(s))
		}
		for _, f := range files {
			for _, r := range counters[f].Rows() {
				out.Flags = append(out.Flags, row{f, r})
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	case "tsv":
		fmt.Fprintln(stdout, "capture\tsender\tflags\tcount\tshare")
		for _, f := range files {
			for _, r := range counters[f].Rows() {
				fmt.Fprintf(stdout, "%s\t%s\t[%s]\t%d\t%.4f\n", tsvField(f), r.Sender, r.Flags, r.Count, r.Share)
			}
		}
	default:
		for _, f := range files {
			fmt.Fprintf(stdout, "TCP flags in %s\n", f)
			tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
			last := ""
			for _, r := range counters[f].Rows() {
				s := r.Sender.String()
				if s == last {
					s = ""
				} else {
					last = s
				}
				fmt.Fprintf(tw, "  %s\t%8d\t[%s]\t%5.1f%%\n", s, r.Count, r.Flags, 100*r.Share)
			}
			tw.Flush()
			fmt.Fprintln(stdout)
		}
	}
	return 0
}
