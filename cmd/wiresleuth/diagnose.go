package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/detect/all"
	"github.com/wiresleuth/wiresleuth/diagnose"
	"github.com/wiresleuth/wiresleuth/report"
)

func runDiagnose(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diagnose", flag.ContinueOnError)
	format := fs.String("format", "text", "output format: text, json or html")
	path := fs.String("path", "", "vantage point names in path order, client side first, comma-separated (default: the order given)")
	color := fs.String("color", "auto", "colour in text output: auto (on a terminal), always or never")
	noApp := fs.Bool("no-app", false, "skip application-protocol decoding")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: wiresleuth diagnose [--format text|json|html] [--path a,b,c] [name=]FILE|DIR...")
		fmt.Fprintln(stderr, "Names the faults the captures show, with the packets that prove them and what to do next.")
		fmt.Fprintln(stderr, "Several captures are vantage points along one path, client side first; a directory is a set of them.")
		fmt.Fprintln(stderr, "Exit status: 0 no error finding, 1 error findings, 2 unusable input.")
		fs.PrintDefaults()
	}
	if code := parse(fs, args, stderr); code >= 0 {
		return code
	}
	if !checkFormat(*format, stderr, "text", "json", "html") || !checkFormat(*color, stderr, "auto", "always", "never") {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "wiresleuth: no capture file given (use - for standard input)")
		return 2
	}
	inputs, skipped, err := diagnose.Inputs(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "wiresleuth:", err)
		return 2
	}
	warnSkipped(stderr, skipped)
	if len(inputs) == 0 {
		fmt.Fprintln(stderr, "wiresleuth: no capture files in", fs.Args())
		return 2
	}
	for i, in := range inputs {
		if in.File == "-" {
			// The diagnosis reads a capture twice (the second time for the
			// evidence lines): keep standard input in a temporary file.
			tmp, err := spool(os.Stdin)
			if err != nil {
				fmt.Fprintln(stderr, "wiresleuth: reading standard input:", err)
				return 2
			}
			defer os.Remove(tmp)
			inputs[i].File = tmp
			in.File = tmp
		}
		r, err := capture.Open(in.File)
		if err != nil {
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return 2
		}
		r.Close()
	}
	if *path != "" {
		if inputs, err = diagnose.Order(inputs, strings.Split(*path, ",")); err != nil {
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return 2
		}
	}
	rep, err := diagnose.Run(inputs, diagnose.Options{Detectors: all.Detectors(), NoApp: *noApp, Tool: "wiresleuth " + version})
	if err != nil {
		fmt.Fprintln(stderr, "wiresleuth:", err)
		return 2
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "wiresleuth: warning:", w)
	}
	bw := bufio.NewWriter(stdout)
	switch *format {
	case "json":
		err = report.JSON(bw, rep)
	case "html":
		err = report.HTML(bw, rep)
	default:
		useColor := *color == "always" || *color == "auto" && isTerminal(stdout)
		err = report.Text(bw, rep, report.TextOptions{Color: useColor})
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		fmt.Fprintln(stderr, "wiresleuth: writing the report:", err)
		return 2
	}
	if rep.Summary.Errors > 0 {
		return 1
	}
	return 0
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// spool copies r to a temporary file and returns its name.
func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "wiresleuth-stdin-*.pcap")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), f.Close()
}
