package vantage

import (
	"fmt"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/correlate"
	"github.com/wiresleuth/wiresleuth/detect"
)

// Latency reports one-way delay trouble on a segment of the path, after
// the clocks of its two captures are aligned: queueing episodes (the delay
// stays far above its baseline for a while) and outliers. Every segment's
// delays are in the report's path summary; only trouble is a finding.
var Latency = &detect.Detector{
	ID:       "path.latency",
	Doc:      "one-way delay per path segment after clock alignment: queueing episodes and outliers",
	Requires: []*detect.Observer{Observer},
	Run:      runLatency,
}

// Thresholds: an episode or outliers must add this much delay to matter,
// and this much to be a warning.
const (
	latencyNotable = 10 * time.Millisecond
	latencyWarning = 100 * time.Millisecond
)

func runLatency(p *detect.Pass) error {
	path := Path(p.Datasets)
	if path == nil {
		return nil
	}
	for _, s := range path.Segments() {
		for d := range 2 {
			sd := s.Dir[d]
			from, to := path.Name(s.From), path.Name(s.To)
			if d == 1 {
				from, to = to, from
			}
			outliers := sd.Outliers >= 3 && sd.Outliers*100 >= sd.Delay.N
			if len(sd.Episodes) == 0 && !outliers {
				continue
			}
			var worst correlate.Episode
			for _, e := range sd.Episodes {
				if e.Peak-e.Baseline > worst.Peak-worst.Baseline {
					worst = e
				}
			}
			extra := max(worst.Peak-worst.Baseline, sd.Delay.Max-sd.Delay.P50)
			if extra < latencyNotable {
				continue
			}
			f := detect.Finding{Severity: detect.Info, Score: 0.3}
			if extra >= latencyWarning {
				f.Severity = detect.Warning
			}
			f.Title = fmt.Sprintf("One-way delay from %s to %s rises to %s (usually %s)", from, to, detect.Seconds(sd.Delay.Max), detect.Seconds(sd.Delay.P50))
			var b strings.Builder
			fmt.Fprintf(&b, "After aligning the clocks of %s and %s (offset %s ± %s), the %d packets matched from %s to %s took %s at the median, %s at the 99th percentile and %s at most.",
				path.Name(s.From), path.Name(s.To), detect.Seconds(s.Offset.Abs()), detect.Seconds(s.Err), sd.Delay.N, from, to,
				detect.Seconds(sd.Delay.P50), detect.Seconds(sd.Delay.P99), detect.Seconds(sd.Delay.Max))
			if len(sd.Episodes) > 0 {
				fmt.Fprintf(&b, " %s of queueing: the delay stayed far above its baseline of %s, the worst for %s from %s (%d packets, up to %s).",
					plural(len(sd.Episodes), "episode", "episodes"), detect.Seconds(worst.Baseline), detect.Seconds(worst.End.Sub(worst.Start)), worst.Start, worst.Packets, detect.Seconds(worst.Peak))
			}
			if outliers {
				fmt.Fprintf(&b, " %d packets were delayed far beyond the usual.", sd.Outliers)
			}
			if s.OneSided {
				b.WriteString(" Packets were matched in one direction only, so the delays are relative to the fastest packet, not absolute.")
			}
			f.Explanation = b.String()
			f.AddFact("segment", from+"→"+to)
			f.AddFact("p50_ms", fmt.Sprintf("%.3f", float64(sd.Delay.P50)/1e6))
			f.AddFact("p99_ms", fmt.Sprintf("%.3f", float64(sd.Delay.P99)/1e6))
			f.AddFact("max_ms", fmt.Sprintf("%.3f", float64(sd.Delay.Max)/1e6))
			f.AddFact("episodes", fmt.Sprint(len(sd.Episodes)))
			f.NextSteps = []string{
				fmt.Sprintf("Look for a full queue between %s and %s: tc -s qdisc (backlog, drops), interface utilisation, a shaper or policer; a bufferbloated link shows delay rising with load.", from, to),
			}
			p.Report(f)
		}
	}
	return nil
}
