package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/report/conns"
)

func runConns(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conns", flag.ContinueOnError)
	format := fs.String("format", "text", "output format: text, json, tsv or zeek (a conn.log)")
	bare := fs.Bool("bare", false, "orient connections as `zeek -b` does (its smaller list of likely server ports)")
	noSums := fs.Bool("C", false, "ignore checksums, as zeek -C")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wiresleuth conns [--format text|json|tsv|zeek] [--bare] [-C] FILE...")
		fmt.Fprintln(stderr, "Every TCP, UDP and ICMP connection as Zeek's conn.log has it (conn_state, history, bytes, packets),")
		fmt.Fprintln(stderr, "plus what troubleshooting needs: options, TTL and IP-ID behaviour, idle gaps, who closed, ICMP errors, checksums.")
		fs.PrintDefaults()
	}
	if code := parse(fs, args, stderr); code >= 0 {
		return code
	}
	f, err := conns.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "wiresleuth:", err)
		return 2
	}
	files, ok := inputs(fs.Args(), stderr)
	if !ok {
		return 2
	}
	opt := conn.DefaultOptions()
	if *bare {
		opt = conn.BareOptions()
	}
	opt.IgnoreChecksums = *noSums
	bw := bufio.NewWriterSize(stdout, 64<<10)
	defer bw.Flush()
	w, err := conns.NewWriter(bw, f, conns.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "wiresleuth:", err)
		return 2
	}
	var werr error
	for _, file := range files {
		tr := conn.New(opt, func(r *conn.Record) {
			if err := w.Write(r); err != nil && werr == nil {
				werr = err
			}
		})
		s, err := pipeline.Run(file, pipeline.Options{NewDecoder: conn.NewDecoder}, func(p *pipeline.Packet) error {
			tr.Observe(p.Packet, p.TCP)
			return werr
		})
		if err != nil {
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return 2
		}
		tr.Finish()
		if s.Damage != nil {
			fmt.Fprintf(stderr, "wiresleuth: warning: %v (analysed the %d frames before it)\n", s.Damage, s.Frames)
		}
	}
	if err := w.Close(); err != nil || werr != nil {
		fmt.Fprintln(stderr, "wiresleuth: writing output:", err, werr)
		return 2
	}
	return 0
}
