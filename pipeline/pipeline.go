// Package pipeline runs the one pass every command makes over a capture:
// read frames, decode them, analyse TCP, and hand each packet with its
// annotation to the caller. It also gathers what the capture summary
// reports: formats, interfaces and their drop counters, time span, decode
// problems, and where a damaged file stopped.
package pipeline

import (
	"errors"
	"fmt"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Options configure a run.
type Options struct {
	TCP tcp.Config
}

// Packet is one decoded frame as handed to the caller, valid only during
// the call.
type Packet struct {
	*packet.Packet
	// TCP is the analysis of a TCP segment, or of the TCP header an ICMP
	// error quotes; nil otherwise.
	TCP *tcp.Annotation
	// First and Prev are the timestamps of the capture's first frame and
	// of the previous frame.
	First, Prev capture.Time
}

// Summary describes a capture after the run.
type Summary struct {
	File        string
	Format      capture.Format
	Compression capture.Compression
	Interfaces  []capture.Interface
	Comments    []string
	Frames      int64
	Start, End  capture.Time
	Decode      packet.Stats
	Streams     int64 // tcp.stream indexes handed out
	// Damage is the error that ended reading early (truncation or
	// corruption), nil for a complete file. Everything before it was
	// analysed.
	Damage error
	// Skipped is the number of oversized packet blocks skipped.
	Skipped int64
}

// LinkTypes lists the distinct link types of the capture's interfaces.
func (s *Summary) LinkTypes() []capture.LinkType {
	var out []capture.LinkType
	seen := map[capture.LinkType]bool{}
	for _, i := range s.Interfaces {
		if !seen[i.LinkType] {
			seen[i.LinkType] = true
			out = append(out, i.LinkType)
		}
	}
	return out
}

// ErrStop may be returned by the callback to end the run early.
var ErrStop = errors.New("stop")

// Run reads file ("-" for standard input) and calls fn for every frame. An
// error opening the file is returned (the input is unusable); damage later
// in the file is recorded in Summary.Damage instead.
func Run(file string, opt Options, fn func(p *Packet) error) (*Summary, error) {
	r, err := capture.Open(file)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &Summary{File: file, Format: r.Format(), Compression: r.Compression()}
	dec := packet.NewDecoder()
	an := tcp.NewAnalyzer(opt.TCP)
	var (
		p   packet.Packet
		ann tcp.Annotation
		pk  = Packet{Packet: &p}
	)
	for f, err := range r.Frames() {
		if err != nil {
			s.Damage = err
			break
		}
		dec.Decode(f, &p)
		if s.Frames == 0 {
			s.Start = f.Time
			pk.First, pk.Prev = f.Time, f.Time
		}
		s.Frames++
		if f.Time > s.End {
			s.End = f.Time
		}
		pk.TCP = nil
		if an.Analyze(&p, &ann) {
			pk.TCP = &ann
		}
		if err := fn(&pk); err != nil {
			if err == ErrStop {
				break
			}
			return s, fmt.Errorf("%s: frame %d: %w", file, f.Number, err)
		}
		pk.Prev = f.Time
	}
	s.Interfaces = r.Interfaces()
	s.Comments = r.Comments()
	s.Decode = dec.Stats
	s.Streams = an.Streams()
	s.Skipped = r.Skipped()
	return s, nil
}
