// Package report holds the diagnosis report model and renders it as text
// (for a terminal), JSON (the stable machine interface, schema-versioned)
// and HTML (a self-contained page). Renderers are pure functions of the
// report: deterministic, and they decide nothing. Everything derived from
// packets is untrusted: text output replaces control characters, HTML is
// escaped by html/template, JSON by encoding/json.
package report

import (
	"cmp"
	"slices"

	"github.com/wiresleuth/wiresleuth/detect"
)

// SchemaVersion is incremented when the JSON output changes incompatibly.
const SchemaVersion = 1

// Report is the whole diagnosis.
type Report struct {
	Schema   int              `json:"schema"`
	Tool     string           `json:"tool"`
	Captures []Capture        `json:"captures"`
	Summary  Summary          `json:"summary"`
	Findings []detect.Finding `json:"findings"`
	Warnings []string         `json:"warnings"`
	// Path describes the vantage points when several captures were given.
	Path *Path `json:"path,omitempty"`
}

// Capture summarises one input.
type Capture struct {
	Name        string   `json:"name"` // vantage point name
	File        string   `json:"file"`
	Format      string   `json:"format"`
	LinkTypes   []string `json:"link_types"`
	Frames      int64    `json:"frames"`
	Start       string   `json:"start,omitempty"`
	End         string   `json:"end,omitempty"`
	DurationS   float64  `json:"duration_s"`
	Connections int      `json:"connections"`
	// CaptureDrops is what the capture file says its capture dropped
	// (pcapng interface statistics), -1 when it does not say.
	CaptureDrops int64 `json:"capture_drops"`
	Complete     bool  `json:"complete"`
}

// Summary gives the outcome of connections and counts findings.
type Summary struct {
	Outcomes []Outcome `json:"outcomes"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Infos    int       `json:"infos"`
}

// Outcome counts connections that ended one way ("completed",
// "refused", "unanswered", "reset", "stalled", "timed out", "open at end").
type Outcome struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Path lists the vantage points in path order and their clock offsets,
// and the segments between them.
type Path struct {
	Vantages []Vantage `json:"vantages"`
	// Segments are the stretches between two captures that see the same
	// connections (usually neighbours), in path order.
	Segments []Segment `json:"segments,omitempty"`
}

// Segment is the stretch of path between two captures.
type Segment struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Connections int    `json:"connections"`
	Matched     int    `json:"matched_packets"`
	// OffsetS is To's clock minus From's.
	OffsetS      float64 `json:"offset_s"`
	OffsetErrS   float64 `json:"offset_err_s"`
	OverlapStart string  `json:"overlap_start,omitempty"`
	OverlapEnd   string  `json:"overlap_end,omitempty"`
	// Down is traffic travelling From→To, Up To→From.
	Down SegmentDir `json:"down"`
	Up   SegmentDir `json:"up"`
	// NAT lists address translations between the two captures.
	NAT []string `json:"nat,omitempty"`
}

// SegmentDir is one direction of a segment: packets matched, lost and
// injected, one-way delay after clock alignment, and the usual TTL
// decrement (-1 unknown).
type SegmentDir struct {
	Matched      int     `json:"matched"`
	Lost         int     `json:"lost"`
	Injected     int     `json:"injected"`
	DelayP50S    float64 `json:"delay_p50_s"`
	DelayP99S    float64 `json:"delay_p99_s"`
	DelayMaxS    float64 `json:"delay_max_s"`
	TTLDecrement int     `json:"ttl_decrement"`
}

// Vantage is one capture point on the path.
type Vantage struct {
	Name string `json:"name"`
	// OffsetS is this capture's clock minus the first capture's, as
	// estimated from matched packets, with its uncertainty.
	OffsetS    float64 `json:"offset_s"`
	OffsetErrS float64 `json:"offset_err_s"`
	// OneSided: packets were matched one way only somewhere on the chain
	// to the first capture, so OffsetS includes a one-way delay.
	OneSided     bool    `json:"offset_one_sided,omitempty"`
	DriftPPM     float64 `json:"drift_ppm"`
	MatchedPkts  int64   `json:"matched_packets"`
	OverlapStart string  `json:"overlap_start,omitempty"`
	OverlapEnd   string  `json:"overlap_end,omitempty"`
}

// Sort orders findings: errors first, then by score, then by id, so output
// is deterministic. It also fills the summary counts.
func (r *Report) Sort() {
	slices.SortStableFunc(r.Findings, func(a, b detect.Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	r.Summary.Errors, r.Summary.Warnings, r.Summary.Infos = 0, 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case detect.Error:
			r.Summary.Errors++
		case detect.Warning:
			r.Summary.Warnings++
		default:
			r.Summary.Infos++
		}
	}
}
