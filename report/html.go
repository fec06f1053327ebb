package report

import (
	_ "embed"
	"html/template"
	"io"
	"strings"

	"github.com/wiresleuth/wiresleuth/detect"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"sev":   func(s detect.Severity) string { return s.String() },
	"upper": strings.ToUpper,
	"join":  strings.Join,
}).Parse(htmlSource))

// HTML writes the report as one self-contained page (inline CSS, no
// scripts, nothing fetched). html/template escapes markup; control
// characters are replaced as for the terminal, so the file is also safe to
// cat.
func HTML(w io.Writer, r *Report) error { return htmlTemplate.Execute(w, cleaned(r)) }

// cleaned returns a copy of r with every string passed through Clean.
func cleaned(r *Report) *Report {
	c := *r
	c.Warnings = cleanAll(r.Warnings)
	c.Captures = append([]Capture(nil), r.Captures...)
	for i := range c.Captures {
		c.Captures[i].Name, c.Captures[i].File = Clean(c.Captures[i].Name), Clean(c.Captures[i].File)
	}
	c.Findings = append([]detect.Finding(nil), r.Findings...)
	for i := range c.Findings {
		f := &c.Findings[i]
		f.Title, f.Explanation, f.Comparable = Clean(f.Title), Clean(f.Explanation), Clean(f.Comparable)
		f.NextSteps, f.Vantages = cleanAll(f.NextSteps), cleanAll(f.Vantages)
		f.Evidence = append([]detect.Evidence(nil), f.Evidence...)
		for j := range f.Evidence {
			e := &f.Evidence[j]
			e.Capture, e.Line, e.Note = Clean(e.Capture), Clean(e.Line), Clean(e.Note)
		}
		f.Connections = append([]detect.Conn(nil), f.Connections...)
		for j := range f.Connections {
			k := &f.Connections[j]
			k.Capture, k.ClientAddr, k.ServerAddr = Clean(k.Capture), Clean(k.ClientAddr), Clean(k.ServerAddr)
		}
		f.Facts = append([]detect.Fact(nil), f.Facts...)
		for j := range f.Facts {
			f.Facts[j].Key, f.Facts[j].Value = Clean(f.Facts[j].Key), Clean(f.Facts[j].Value)
		}
	}
	return &c
}

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Clean(s)
	}
	return out
}
