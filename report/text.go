package report

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wiresleuth/wiresleuth/detect"
)

// TextOptions control the terminal rendering.
type TextOptions struct {
	Color bool // ANSI colours (only when writing to a terminal)
	Width int  // wrap explanations at this many columns (default 100)
}

// Clean makes a string safe to print on a terminal: control characters,
// escape sequences and invalid UTF-8 become \xNN, so a capture cannot
// drive the user's terminal.
func Clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) && r != '\n' {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1, unicode.IsControl(r) && r != '\n':
			for _, c := range []byte(s[i : i+max(n, 1)]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += max(n, 1)
	}
	return b.String()
}

func (o TextOptions) paint(code, s string) string {
	if !o.Color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (o TextOptions) severity(s detect.Severity) string {
	label := strings.ToUpper(s.String())
	switch s {
	case detect.Error:
		return o.paint("1;31", fmt.Sprintf("%-7s", label))
	case detect.Warning:
		return o.paint("1;33", fmt.Sprintf("%-7s", label))
	}
	return o.paint("36", fmt.Sprintf("%-7s", label))
}

// Text writes the report for a terminal: captures, outcomes, then each
// finding with its evidence and next steps, errors first.
func Text(w io.Writer, r *Report, o TextOptions) error {
	if o.Width <= 0 {
		o.Width = 100
	}
	bw := &errWriter{w: w}
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("%s\n\n", o.paint("1", fmt.Sprintf("wiresleuth diagnosis of %d capture%s", len(r.Captures), plural(len(r.Captures)))))
	for _, c := range r.Captures {
		state := "complete"
		if !c.Complete {
			state = o.paint("33", "damaged: see warnings")
		}
		drops := ""
		if c.CaptureDrops > 0 {
			drops = o.paint("33", fmt.Sprintf(", capture dropped %d packets", c.CaptureDrops))
		}
		p("  %-12s %s (%s, %s): %d frames, %d connections, %.1f s from %s%s; %s\n", Clean(c.Name), Clean(c.File), c.Format,
			strings.Join(c.LinkTypes, "+"), c.Frames, c.Connections, c.DurationS, c.Start, drops, state)
	}
	if r.Path != nil && len(r.Path.Vantages) > 1 {
		p("\n  Path (client side first):")
		for i, v := range r.Path.Vantages {
			if i > 0 {
				p(" →")
			}
			p(" %s", Clean(v.Name))
		}
		p("\n")
		for _, v := range r.Path.Vantages[1:] {
			if v.MatchedPkts > 0 {
				one := ""
				if v.OneSided {
					one = ", one-sided: includes a one-way delay"
				}
				p("  clock of %s: %+.6f s ± %.6f s relative to %s (%d packets matched%s)\n", Clean(v.Name), v.OffsetS, v.OffsetErrS, Clean(r.Path.Vantages[0].Name), v.MatchedPkts, one)
			}
		}
		for _, s := range r.Path.Segments {
			if s.Matched > 0 {
				p("  %s → %s: %d packets of %d connections matched", Clean(s.From), Clean(s.To), s.Matched, s.Connections)
			} else {
				p("  %s → %s (across captures that were not running)", Clean(s.From), Clean(s.To))
			}
			for _, d := range []struct {
				arrow string
				x     SegmentDir
			}{{"→", s.Down}, {"←", s.Up}} {
				if d.x.Matched+d.x.Lost+d.x.Injected == 0 {
					continue
				}
				if d.x.Matched > 0 {
					p("; %s delay %s median, %s at 99%%", d.arrow, seconds(d.x.DelayP50S), seconds(d.x.DelayP99S))
				} else {
					p("; %s", d.arrow)
				}
				if d.x.Lost > 0 {
					p(", %d lost", d.x.Lost)
				}
				if d.x.Injected > 0 {
					p(", %d injected", d.x.Injected)
				}
			}
			p("\n")
			for _, n := range s.NAT {
				p("    NAT: %s\n", Clean(n))
			}
		}
	}
	if len(r.Summary.Outcomes) > 0 {
		p("\n  Connections:")
		for i, oc := range r.Summary.Outcomes {
			sep := ","
			if i == 0 {
				sep = ""
			}
			p("%s %d %s", sep, oc.Count, oc.Name)
		}
		p("\n")
	}
	p("  Findings: %d error%s, %d warning%s, %d info\n", r.Summary.Errors, plural(r.Summary.Errors), r.Summary.Warnings, plural(r.Summary.Warnings), r.Summary.Infos)
	if len(r.Findings) == 0 {
		p("\n  No fault recognised.\n")
	}
	for _, f := range r.Findings {
		p("\n%s %s — %s\n", o.severity(f.Severity), o.paint("1", f.ID), Clean(f.Title))
		if f.OutOf > 0 {
			what := f.Comparable
			if what == "" {
				what = "connections"
			}
			p("        affects %d of %d %s\n", f.Affected, f.OutOf, Clean(what))
		}
		for _, line := range wrap(Clean(f.Explanation), o.Width-8) {
			p("        %s\n", line)
		}
		if len(f.Vantages) > 0 {
			p("        Seen along the path:\n")
			for _, v := range f.Vantages {
				p("          %s\n", Clean(v))
			}
		}
		if len(f.Evidence) > 0 {
			p("        Evidence:\n")
			for _, e := range f.Evidence {
				note := ""
				if e.Note != "" {
					note = "  ← " + Clean(e.Note)
				}
				p("          %s #%d  %s%s\n", Clean(e.Capture), e.Frame, Clean(e.Line), note)
			}
		}
		if len(f.Connections) > 0 {
			p("        Connections:")
			shown := min(len(f.Connections), 4)
			for i, c := range f.Connections[:shown] {
				sep := ","
				if i == 0 {
					sep = ""
				}
				p("%s %s → %s", sep, Clean(c.ClientAddr), Clean(c.ServerAddr))
			}
			if more := f.Affected - shown; more > 0 {
				p(" and %d more", more)
			}
			p("\n")
		}
		if len(f.NextSteps) > 0 {
			p("        Next steps:\n")
			for _, s := range f.NextSteps {
				for i, line := range wrap(Clean(s), o.Width-12) {
					lead := "- "
					if i > 0 {
						lead = "  "
					}
					p("          %s%s\n", lead, line)
				}
			}
		}
	}
	if len(r.Warnings) > 0 {
		p("\n%s\n", o.paint("33", "Warnings:"))
		for _, w := range r.Warnings {
			p("  %s\n", Clean(w))
		}
	}
	return bw.err
}

// seconds writes a duration given in seconds compactly: "12 µs", "3.4 ms", "1.2 s".
func seconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.1f ms", s*1e3)
	}
	return fmt.Sprintf("%.0f µs", s*1e6)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// wrap breaks text into lines of at most width columns at spaces.
func wrap(s string, width int) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width {
				lines = append(lines, line)
				line = word
				continue
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		lines = append(lines, line)
	}
	return lines
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}
