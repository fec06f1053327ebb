package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/track"
	"github.com/wiresleuth/wiresleuth/diagnose"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/report/txns"
)

func runApps(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apps", flag.ContinueOnError)
	format := fs.String("format", "text", "output format: text, tsv or json")
	status := fs.String("status", "all", "which transactions: all, failed (error, no-reply or incomplete), error, no-reply, incomplete or ok")
	proto := fs.String("proto", "", "only this protocol: http, ftp, dns, tls or oncrpc (comma-separated list)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wiresleuth apps [--format text|tsv|json] [--status all|failed|error|no-reply|incomplete|ok] [--proto P,...] FILE...")
		fmt.Fprintln(stderr, "Application transactions (HTTP requests, FTP commands, DNS queries, TLS handshakes, ONC RPC calls) with")
		fmt.Fprintln(stderr, "their replies, status and latency, decoded from the reassembled streams, in request order.")
		fs.PrintDefaults()
	}
	if code := parse(fs, args, stderr); code >= 0 {
		return code
	}
	f, err := txns.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "wiresleuth:", err)
		return 2
	}
	keep, ok := statusFilter(*status)
	if !ok {
		fmt.Fprintf(stderr, "wiresleuth: unknown --status %q\n", *status)
		return 2
	}
	var protos []string
	if *proto != "" {
		protos = strings.Split(*proto, ",")
	}
	files, ok := inputs(fs.Args(), stderr)
	if !ok {
		return 2
	}
	var rows []txns.Row
	for _, file := range files {
		var mine []txns.Row
		tr, err := track.New(track.Options{Protocols: track.Protocols(), Output: func(c *track.Conn) app.Output {
			return app.Output{Sink: func(t app.Transaction) {
				if !keep(t.Status) || len(protos) > 0 && !slices.Contains(protos, t.Protocol) {
					return
				}
				r := txns.Row{Capture: diagnose.VantageName(file), Transport: "tcp", Stream: c.Stream, Client: c.Client, Server: c.Server, Transaction: t}
				r.Detail = nil
				if c.UDP() {
					r.Transport = "udp"
				}
				mine = append(mine, r)
			}}
		}})
		if err != nil {
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return 2
		}
		s, err := pipeline.Run(file, pipeline.Options{}, func(p *pipeline.Packet) error {
			tr.Packet(p)
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return 2
		}
		tr.Finish()
		if s.Damage != nil {
			fmt.Fprintf(stderr, "wiresleuth: warning: %v (analysed the %d frames before it)\n", s.Damage, s.Frames)
		}
		slices.SortStableFunc(mine, func(a, b txns.Row) int { return cmp.Compare(first(&a), first(&b)) })
		rows = append(rows, mine...)
	}
	if err := txns.Write(stdout, f, rows); err != nil {
		fmt.Fprintln(stderr, "wiresleuth: writing output:", err)
		return 2
	}
	return 0
}

// first is the frame a transaction begins at.
func first(r *txns.Row) int64 {
	if r.RequestAt.Frame != 0 {
		return r.RequestAt.Frame
	}
	return r.ReplyAt.Frame
}

func statusFilter(s string) (func(app.Status) bool, bool) {
	switch s {
	case "all":
		return func(app.Status) bool { return true }, true
	case "failed":
		return func(st app.Status) bool { return st != app.StatusOK }, true
	case "error":
		return func(st app.Status) bool { return st == app.StatusError }, true
	case "no-reply":
		return func(st app.Status) bool { return st == app.StatusNoReply }, true
	case "incomplete":
		return func(st app.Status) bool { return st == app.StatusIncomplete }, true
	case "ok":
		return func(st app.Status) bool { return st == app.StatusOK }, true
	}
	return nil, false
}
