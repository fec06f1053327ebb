// Package replay holds what the tests of packet observers share: a capture
// decoded once into packets that stay valid, replayed through an
// observation as often as a benchmark wants, and the datasets and findings
// of detectors run on capture files.
package replay

import (
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Packets decodes a capture as a dataset's pass does (Zeek's decoder, TCP
// analysis) into packets that own their frames, so that they can be fed to
// an observation again and again. Fragments are decoded but their
// reassembly buffers are the decoder's: do not use captures with IP
// fragments.
func Packets(tb testing.TB, file string) []*pipeline.Packet {
	tb.Helper()
	r, err := capture.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	dec := conn.NewDecoder()
	an := tcp.NewAnalyzer(tcp.Config{})
	var out []*pipeline.Packet
	var first, prev capture.Time
	for f, err := range r.Frames() {
		if err != nil {
			tb.Fatal(err)
		}
		p := &packet.Packet{}
		dec.Decode(f.Clone(), p)
		pk := &pipeline.Packet{Packet: p}
		var ann tcp.Annotation
		if an.Analyze(p, &ann) {
			pk.TCP = &ann
		}
		if len(out) == 0 {
			first, prev = p.Time, p.Time
		}
		pk.First, pk.Prev = first, prev
		prev = p.Time
		out = append(out, pk)
	}
	return out
}

// Concat joins the packets of several captures as one, numbering their TCP
// streams apart.
func Concat(lists ...[]*pipeline.Packet) []*pipeline.Packet {
	var out []*pipeline.Packet
	var base int64
	for _, l := range lists {
		var top int64
		for _, p := range l {
			if p.TCP != nil {
				p.TCP.Stream += base
				top = max(top, p.TCP.Stream+1)
			}
		}
		base = max(base, top)
		out = append(out, l...)
	}
	return out
}

// Replayer feeds the same packets to an observation lap after lap. With
// Shift, their times move on by the capture's span each lap, as in one long
// capture; without, every lap repeats the same times, so that connections
// stay open (an observation finishing and recycling connections allocates
// per connection, not per packet).
type Replayer struct {
	Pkts  []*pipeline.Packet
	Shift bool
	span  time.Duration
}

// NewReplayer prepares packets for replaying.
func NewReplayer(pkts []*pipeline.Packet) *Replayer {
	r := &Replayer{Pkts: pkts}
	if n := len(pkts); n > 0 {
		r.span = pkts[n-1].Time.Sub(pkts[0].Time) + time.Millisecond
	}
	return r
}

// Lap feeds every packet once.
func (r *Replayer) Lap(o detect.Observation) {
	for _, p := range r.Pkts {
		o.Packet(p)
	}
	if !r.Shift {
		return
	}
	for _, p := range r.Pkts {
		p.Time = p.Time.Add(r.span)
		p.First, p.Prev = p.First.Add(r.span), p.Prev.Add(r.span)
	}
}

// Diagnose builds a dataset from each file (named by its index in names)
// and runs the detectors over them, as diagnose does before merging.
func Diagnose(tb testing.TB, detectors []*detect.Detector, names, files []string) ([]detect.Finding, []*detect.Dataset) {
	tb.Helper()
	var dss []*detect.Dataset
	for i, f := range files {
		ds, err := detect.Build(detect.BuildOptions{Name: names[i], File: f, Detectors: detectors, NoApp: true})
		if err != nil {
			tb.Fatal(err)
		}
		dss = append(dss, ds)
	}
	fs, err := detect.Run(detectors, dss)
	if err != nil {
		tb.Fatal(err)
	}
	return fs, dss
}

// WithID returns the findings with one id, optionally only those at or above
// a severity.
func WithID(fs []detect.Finding, id string, min detect.Severity) []detect.Finding {
	var out []detect.Finding
	for _, f := range fs {
		if f.ID == id && f.Severity >= min {
			out = append(out, f)
		}
	}
	return out
}
