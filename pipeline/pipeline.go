// Package pipeline runs the one pass every command makes over a capture:
// read frames, decode them, analyse TCP, and hand each packet with its
// annotation to the caller. It also gathers what the capture summary
// reports: formats, interfaces and their drop counters, time span, decode
// problems, and where a damaged file stopped.
//
// Reading and decoding run in one goroutine and analysis in the caller's,
// passing batches of decoded packets, so a pass uses two cores. Packets
// reach the caller in capture order either way.
package pipeline

import (
	"errors"
	"fmt"
	"io"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Options configure a run.
type Options struct {
	TCP tcp.Config
	// Serial decodes in the caller's goroutine (for profiling and for
	// machines with one core).
	Serial bool
	// NewDecoder makes the packet decoder; nil: packet.NewDecoder (tshark's
	// choices). conn.NewDecoder makes Zeek's.
	NewDecoder func() *packet.Decoder
	// NoTCP skips TCP analysis: Packet.TCP is always nil.
	NoTCP bool
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

// CaptureDrops sums what the capture's interface statistics say the
// capture dropped, or -1 when the file reports nothing.
func (s *Summary) CaptureDrops() int64 {
	var n int64 = -1
	for _, i := range s.Interfaces {
		if st := i.Stats; st != nil && st.Has&(capture.HasDropped|capture.HasOSDropped) != 0 {
			n = max(n, 0) + int64(st.Dropped+st.OSDropped)
		}
	}
	return n
}

// ErrStop may be returned by the callback to end the run early.
var ErrStop = errors.New("stop")

// batchSize is the number of packets decoded ahead in one batch.
const batchSize = 256

type batch struct {
	pkts   []packet.Packet
	frames []capture.Frame // copies of frames whose bytes are in arena
	n      int
	arena  []byte // frame bytes copied out of a reader that reuses its buffer
	err    error  // on the last batch: the damage, nil for a clean end
	last   bool
}

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
	if opt.NewDecoder != nil {
		dec = opt.NewDecoder()
	}
	an := tcp.NewAnalyzer(opt.TCP)
	var (
		ann tcp.Annotation
		pk  Packet
	)
	consume := func(p *packet.Packet) error {
		pk.Packet = p
		if s.Frames == 0 {
			s.Start = p.Time
			pk.First, pk.Prev = p.Time, p.Time
		}
		s.Frames++
		if p.Time > s.End {
			s.End = p.Time
		}
		pk.TCP = nil
		if !opt.NoTCP && an.Analyze(p, &ann) {
			pk.TCP = &ann
		}
		err := fn(&pk)
		pk.Prev = p.Time
		return err
	}
	var runErr error
	if opt.Serial {
		var p packet.Packet
		for f, err := range r.Frames() {
			if err != nil {
				s.Damage = err
				break
			}
			dec.Decode(f, &p)
			if err := consume(&p); err != nil {
				runErr = err
				break
			}
		}
	} else {
		runErr = parallel(r, dec, s, consume)
	}
	if runErr != nil && runErr != ErrStop {
		return s, fmt.Errorf("%s: frame %d: %w", file, s.Frames, runErr)
	}
	s.Interfaces = r.Interfaces()
	s.Comments = r.Comments()
	s.Decode = dec.Stats
	s.Streams = an.Streams()
	s.Skipped = r.Skipped()
	return s, nil
}

// parallel decodes in a second goroutine, batchSize packets at a time.
// Frame bytes of a memory-mapped file stay valid until the reader is
// closed; those of a stream reader are copied into the batch.
func parallel(r *capture.Reader, dec *packet.Decoder, s *Summary, consume func(*packet.Packet) error) error {
	const inFlight = 4
	full := make(chan *batch, inFlight)
	empty := make(chan *batch, inFlight)
	for range inFlight {
		empty <- &batch{pkts: make([]packet.Packet, batchSize), frames: make([]capture.Frame, batchSize)}
	}
	stop := make(chan struct{})
	go func() {
		defer close(full)
		copyData := !r.InPlace()
		for {
			var b *batch
			select {
			case b = <-empty:
			case <-stop:
				return
			}
			b.n, b.arena, b.err = 0, b.arena[:0], nil
			for b.n < batchSize {
				f, err := r.Next()
				if err != nil {
					b.last = true
					if err != io.EOF {
						b.err = err
					}
					break
				}
				if copyData {
					f = b.keep(f)
				}
				dec.Decode(f, &b.pkts[b.n])
				b.n++
			}
			full <- b
			if b.last {
				return
			}
		}
	}()
	for b := range full {
		for i := 0; i < b.n; i++ {
			if err := consume(&b.pkts[i]); err != nil {
				close(stop)
				for range full { // wait for the decoder to stop
				}
				return err
			}
		}
		if b.last {
			s.Damage = b.err
			return nil
		}
		empty <- b
	}
	return nil
}

// keep copies a frame's bytes into the batch arena so they outlive the
// reader's buffer. When the arena has to grow, packets already decoded keep
// pointing into the old array, which stays alive for them.
func (b *batch) keep(f *capture.Frame) *capture.Frame {
	start := len(b.arena)
	b.arena = append(b.arena, f.Data...)
	c := &b.frames[b.n]
	*c = *f
	c.Data = b.arena[start:len(b.arena):len(b.arena)]
	c.Comment = nil
	return c
}
