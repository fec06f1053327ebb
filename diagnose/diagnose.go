// Package diagnose runs a diagnosis: it builds a dataset from each capture
// (one vantage point each, in path order), runs the detectors, reads back
// the packets the findings cite to render them, and assembles the report.
package diagnose

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/vantage"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/pktline"
	"github.com/wiresleuth/wiresleuth/report"
)

// Input is one capture and the name of its vantage point.
type Input struct {
	Name string
	File string
}

// Options configure a diagnosis.
type Options struct {
	Detectors []*detect.Detector
	Conn      *conn.Options // nil: conn.DefaultOptions
	NoApp     bool
	Tool      string // name and version for the report
}

var ordinal = regexp.MustCompile(`^\d+[-_]`)

// VantageName derives a vantage point's name from a capture file name: the
// base name without capture and compression extensions and without a
// leading ordinal ("02-router-in.pcap.gz" → "router-in").
func VantageName(file string) string {
	if file == "-" {
		return "stdin"
	}
	base := filepath.Base(file)
	for _, ext := range []string{".gz", ".zst", ".pcapng", ".pcap", ".cap"} {
		base = strings.TrimSuffix(base, ext)
	}
	if s := ordinal.ReplaceAllString(base, ""); s != "" {
		base = s
	}
	return base
}

// Inputs turns command-line arguments into inputs: "name=FILE" names a
// vantage point, a plain FILE is named after its file, a directory stands
// for the captures in it sorted by name. Files in a directory that are not
// captures are returned in skipped. Names must be unique.
func Inputs(args []string) (in []Input, skipped []string, err error) {
	for _, a := range args {
		name, file, named := strings.Cut(a, "=")
		if !named {
			file = a
		}
		files, sk, err := capture.Expand([]string{file})
		if err != nil {
			return nil, nil, err
		}
		skipped = append(skipped, sk...)
		for _, f := range files {
			n := VantageName(f)
			if named && len(files) == 1 {
				n = name
			}
			in = append(in, Input{Name: n, File: f})
		}
	}
	seen := map[string]bool{}
	for _, i := range in {
		if seen[i.Name] {
			return nil, nil, fmt.Errorf("two captures are named %q: name them (name=FILE)", i.Name)
		}
		seen[i.Name] = true
	}
	return in, skipped, nil
}

// Order puts inputs in the path order named by names (client side first).
func Order(in []Input, names []string) ([]Input, error) {
	if len(names) != len(in) {
		return nil, fmt.Errorf("--path names %d vantage points, %d captures given", len(names), len(in))
	}
	out := make([]Input, 0, len(in))
	for _, n := range names {
		i := slices.IndexFunc(in, func(x Input) bool { return x.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("--path names %q, which is not one of the captures", n)
		}
		out = append(out, in[i])
	}
	return out, nil
}

// Run diagnoses the inputs. An error means a capture could not be read at
// all (the report is then nil).
func Run(inputs []Input, opt Options) (*report.Report, error) {
	var datasets []*detect.Dataset
	for _, in := range inputs {
		ds, err := detect.Build(detect.BuildOptions{Name: in.Name, File: in.File, Detectors: opt.Detectors, Conn: opt.Conn, NoApp: opt.NoApp, Captures: len(inputs)})
		if err != nil {
			return nil, err
		}
		datasets = append(datasets, ds)
	}
	findings, runErr := detect.Run(opt.Detectors, datasets)
	path := vantage.Path(datasets)
	findings = mergeVantages(findings, datasets, path)
	if err := renderEvidence(inputs, findings); err != nil {
		return nil, err
	}
	r := &report.Report{Schema: report.SchemaVersion, Tool: opt.Tool, Findings: findings}
	for _, ds := range datasets {
		r.Captures = append(r.Captures, captureOf(ds))
		r.Warnings = append(r.Warnings, warningsOf(ds)...)
	}
	if runErr != nil {
		r.Warnings = append(r.Warnings, runErr.Error())
	}
	if len(datasets) > 0 {
		r.Summary.Outcomes = outcomes(datasets[0])
	}
	if len(datasets) > 1 {
		r.Path = pathOf(datasets, path)
		r.Warnings = append(r.Warnings, unmatchedWarnings(datasets, path)...)
	}
	r.Sort()
	return r, nil
}

func captureOf(ds *detect.Dataset) report.Capture {
	s := ds.Summary
	c := report.Capture{Name: ds.Name, File: ds.File, Format: s.Format.String(), Frames: s.Frames, Connections: ds.Total,
		CaptureDrops: s.CaptureDrops(), Complete: s.Damage == nil, LinkTypes: []string{}}
	for _, lt := range s.LinkTypes() {
		c.LinkTypes = append(c.LinkTypes, lt.String())
	}
	if s.Frames > 0 {
		c.Start, c.End = s.Start.String(), s.End.String()
		c.DurationS = s.End.Sub(s.Start).Seconds()
	}
	return c
}

func warningsOf(ds *detect.Dataset) []string {
	var w []string
	s := ds.Summary
	if s.Damage != nil {
		w = append(w, fmt.Sprintf("%v (the %d frames before it were analysed)", s.Damage, s.Frames))
	}
	if s.Skipped > 0 {
		w = append(w, fmt.Sprintf("%s: %d oversized packet blocks skipped", ds.File, s.Skipped))
	}
	if d := s.CaptureDrops(); d > 0 {
		w = append(w, fmt.Sprintf("%s: the capture itself dropped %d packets (interface statistics): packets missing from it may have crossed the network", ds.File, d))
	}
	if ds.NotKept > 0 {
		w = append(w, fmt.Sprintf("%s: %d connections beyond the %d kept in detail were only counted", ds.File, ds.NotKept, detect.MaxKept))
	}
	if ds.Total > detect.MaxBriefs {
		w = append(w, fmt.Sprintf("%s: %d connections; comparisons use a uniform sample of %d", ds.File, ds.Total, detect.MaxBriefs))
	}
	return w
}

func outcomes(ds *detect.Dataset) []report.Outcome {
	n := map[detect.Outcome]int{}
	for i := range ds.Briefs {
		n[ds.FinalOutcome(&ds.Briefs[i])]++
	}
	var out []report.Outcome
	for _, o := range detect.Outcomes() {
		if n[o] > 0 {
			out = append(out, report.Outcome{Name: o.String(), Count: n[o]})
		}
	}
	return out
}

// renderEvidence reads each capture again and renders the frames the
// findings cite as tcpdump-style lines.
func renderEvidence(inputs []Input, findings []detect.Finding) error {
	want := map[string]map[int64]string{}
	for _, f := range findings {
		for _, e := range f.Evidence {
			if want[e.Capture] == nil {
				want[e.Capture] = map[int64]string{}
			}
			want[e.Capture][e.Frame] = ""
		}
	}
	for _, in := range inputs {
		frames := want[in.Name]
		if len(frames) == 0 {
			continue
		}
		last := int64(0)
		for fr := range frames {
			last = max(last, fr)
		}
		_, err := pipeline.Run(in.File, pipeline.Options{NewDecoder: conn.NewDecoder}, func(p *pipeline.Packet) error {
			if _, ok := frames[p.Frame]; ok {
				frames[p.Frame] = string(pktline.Append(nil, p.Packet, p.TCP, pktline.Options{Time: pktline.DateTime}))
			}
			if p.Frame >= last {
				return pipeline.ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i := range findings {
		for j := range findings[i].Evidence {
			e := &findings[i].Evidence[j]
			e.Line = want[e.Capture][e.Frame]
			e.TimeStr = e.Time.String()
		}
	}
	return nil
}
