package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// inputs expands FILE arguments and checks every file opens as a capture
// before any work starts, so unusable input fails fast with exit status 2.
// Files in a directory that are not captures are skipped with a warning.
func inputs(args []string, stderr io.Writer) ([]string, bool) {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "wiresleuth: no capture file given (use - for standard input)")
		return nil, false
	}
	files, skipped, err := capture.Expand(args)
	if err != nil {
		fmt.Fprintln(stderr, "wiresleuth:", err)
		return nil, false
	}
	warnSkipped(stderr, skipped)
	if len(files) == 0 {
		fmt.Fprintln(stderr, "wiresleuth: no capture files in", args)
		return nil, false
	}
	for _, f := range files {
		if f == "-" {
			continue
		}
		r, err := capture.Open(f)
		if err != nil {
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return nil, false
		}
		r.Close()
	}
	return files, true
}

// warnSkipped names the files of a directory that are not captures, one
// line per directory: a scenario folder keeps its notes beside its
// captures, and the user should see they were left out without a wall of
// warnings.
func warnSkipped(stderr io.Writer, skipped []string) {
	var dirs []string
	byDir := map[string][]string{}
	for _, s := range skipped {
		d := filepath.Dir(s)
		if byDir[d] == nil {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], filepath.Base(s))
	}
	for _, d := range dirs {
		what := "not capture files"
		if len(byDir[d]) == 1 {
			what = "not a capture file"
		}
		fmt.Fprintf(stderr, "wiresleuth: %s: skipping %s (%s)\n", d, strings.Join(byDir[d], ", "), what)
	}
}

// runAll runs the pipeline over each file, reporting damage as a warning.
// It returns the summaries and false if a file could not be read at all.
func runAll(files []string, opt pipeline.Options, stderr io.Writer, fn func(file string, p *pipeline.Packet)) ([]*pipeline.Summary, bool) {
	var out []*pipeline.Summary
	for _, f := range files {
		s, err := pipeline.Run(f, opt, func(p *pipeline.Packet) error {
			fn(f, p)
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "wiresleuth:", err)
			return out, false
		}
		if s.Damage != nil {
			fmt.Fprintf(stderr, "wiresleuth: warning: %v (analysed the %d frames before it)\n", s.Damage, s.Frames)
		}
		out = append(out, s)
	}
	return out, true
}

// warnings lists damage for JSON output.
func warnings(sums []*pipeline.Summary) []string {
	w := []string{}
	for _, s := range sums {
		if s.Damage != nil {
			w = append(w, fmt.Sprintf("%v (analysed the %d frames before it)", s.Damage, s.Frames))
		}
		if s.Skipped > 0 {
			w = append(w, fmt.Sprintf("capture: %s: %d oversized packet blocks skipped", s.File, s.Skipped))
		}
	}
	return w
}

// parse parses flags, writing usage to stderr. It returns -1 to go on,
// or the exit status (0 after -h, 2 on a bad flag).
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) int {
	fs.SetOutput(stderr)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	return -1
}

func checkFormat(f string, stderr io.Writer, allowed ...string) bool {
	for _, a := range allowed {
		if f == a {
			return true
		}
	}
	fmt.Fprintf(stderr, "wiresleuth: unknown --format %q (want one of %v)\n", f, allowed)
	return false
}
