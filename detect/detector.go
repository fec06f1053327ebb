package detect

import (
	"fmt"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/tcp"
)

const tcpRetransmission = tcp.Retransmission

// Detector recognises fault patterns and reports findings.
type Detector struct {
	// ID names the detector: its finding id, or the family of ids it
	// reports ("handshake.unanswered", "resets").
	ID  string
	Doc string
	// Requires lists the packet observers whose results Run reads.
	Requires []*Observer
	// Keep says which connection records Run needs in full
	// (Dataset.Conns); nil keeps none. Briefs of all connections are kept
	// regardless.
	Keep func(r *conn.Record) bool
	// Run examines the datasets and reports findings through the pass.
	Run func(p *Pass) error
}

// Observer watches every packet of a capture during the dataset's single
// pass, for detectors that need more than connection records (a packet
// seen twice, a SYN answered by a bare ACK). It keeps bounded state.
type Observer struct {
	Name string
	Doc  string
	// MultiOnly observers run only when several captures are diagnosed
	// together (BuildOptions.Captures > 1): their results compare
	// vantage points.
	MultiOnly bool
	// New starts an observation of one capture.
	New func() Observation
}

// Observation is one observer's state for one capture.
type Observation interface {
	Packet(p *pipeline.Packet)
	// Finish returns the result detectors read with Dataset.Result.
	Finish() any
}

// Pass is what a detector's Run sees.
type Pass struct {
	Detector *Detector
	// Datasets are the captures, one per vantage point, in path order
	// (client side first).
	Datasets []*Dataset
	findings []Finding
}

// Report adds a finding.
func (p *Pass) Report(f Finding) {
	if f.ID == "" {
		f.ID = p.Detector.ID
	}
	p.findings = append(p.findings, f)
}

// Run runs detectors over datasets and returns their findings, in detector
// order. A detector's error is returned with its id; findings reported
// before it are kept.
func Run(detectors []*Detector, datasets []*Dataset) ([]Finding, error) {
	var all []Finding
	for _, d := range detectors {
		p := &Pass{Detector: d, Datasets: datasets}
		if err := d.Run(p); err != nil {
			return append(all, p.findings...), fmt.Errorf("detector %s: %w", d.ID, err)
		}
		all = append(all, p.findings...)
	}
	return all, nil
}
