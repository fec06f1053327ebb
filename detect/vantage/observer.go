package vantage

import (
	"github.com/wiresleuth/wiresleuth/correlate"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// Observer records the compact signature of every packet for correlation
// (a *correlate.Capture per dataset).
var Observer = &detect.Observer{
	Name:      "correlate",
	Doc:       "compact per-packet signatures (IP ID, TTL, TCP numbers, flags, options, payload hashes) for matching packets across captures",
	MultiOnly: true,
	New:       func() detect.Observation { return &observation{correlate.NewRecorder(correlate.Options{})} },
}

type observation struct{ r *correlate.Recorder }

func (o *observation) Packet(p *pipeline.Packet) { o.r.Packet(p.Packet) }
func (o *observation) Finish() any               { return o.r.Finish() }

// Path returns the correlation of the datasets, in their (path) order, or
// nil when there are fewer than two or the observer did not run. It is
// computed once and shared (correlate.Correlate remembers it).
func Path(datasets []*detect.Dataset) *correlate.Path {
	if len(datasets) < 2 {
		return nil
	}
	in := make([]correlate.Input, len(datasets))
	for i, ds := range datasets {
		c, _ := ds.Result(Observer).(*correlate.Capture)
		if c == nil {
			return nil
		}
		in[i] = correlate.Input{Name: ds.Name, Capture: c}
	}
	return correlate.Correlate(in)
}
