package capture

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime/debug"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// MaxFrameLen caps the captured bytes kept per frame, as tcpdump caps its
// snap length (256 KiB). Longer records are truncated to this length.
const MaxFrameLen = 256 << 10

// maxBlockLen caps a pcapng block, as libpcap does (16 MiB). A longer block
// means the file is corrupt.
const maxBlockLen = 16 << 20

// bufSize is the read buffer. Records up to this size are handed out without
// copying (bufio.Reader.Peek); it must exceed MaxFrameLen plus headers.
const bufSize = 1 << 20

// Format is the container format of a capture.
type Format uint8

const (
	FormatPcap Format = iota + 1
	FormatPcapng
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapng:
		return "pcapng"
	}
	return "unknown"
}

// Compression is how the capture file was compressed.
type Compression uint8

const (
	Uncompressed Compression = iota
	Gzip
	Zstd
)

func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return "none"
}

// Direction is the direction flag a capture recorded for a frame.
type Direction uint8

const (
	DirUnknown  Direction = iota
	DirInbound            // received by the capturing host
	DirOutbound           // sent by the capturing host
)

// Frame is one captured packet. Data is valid only until the reader reads
// the next frame; Clone keeps a copy.
type Frame struct {
	Number    int64    // 1-based position in the file, as frame.number
	Time      Time     // capture timestamp
	Data      []byte   // captured bytes (at most MaxFrameLen)
	OrigLen   int      // length on the wire, as frame.len
	LinkType  LinkType // link type of the interface it was captured on
	Interface int      // index into Reader.Interfaces (0 for pcap)
	Direction Direction
	FCSLen    int    // trailing Ethernet FCS bytes included in Data, if the file says so
	Comment   []byte // first packet comment (pcapng), valid like Data
}

// Clone returns a copy of f that owns its bytes.
func (f *Frame) Clone() *Frame {
	c := *f
	c.Data = bytes.Clone(f.Data)
	c.Comment = bytes.Clone(f.Comment)
	return &c
}

// Interface describes a capture interface (one per pcap file; one per IDB in
// pcapng).
type Interface struct {
	LinkType    LinkType
	SnapLen     int
	Name        string
	Description string
	Comments    []string
	FCSLen      int
	// Stats is the last interface statistics block seen for the interface,
	// or nil. Capture drops reported here are evidence that missing packets
	// were lost by the capture, not by the network.
	Stats *InterfaceStats

	tsUnit  tsUnit
	tsShift int64 // if_tsoffset, in seconds
}

// InterfaceStats holds an ISB's counters. A counter the file did not report
// has its Has bit clear.
type InterfaceStats struct {
	Time           Time
	Received       uint64 // isb_ifrecv
	Dropped        uint64 // isb_ifdrop: dropped by the interface / capture buffer
	FilterAccepted uint64 // isb_filteraccept
	OSDropped      uint64 // isb_osdrop
	Delivered      uint64 // isb_usrdeliv
	Has            StatsPresent
}

// StatsPresent says which InterfaceStats counters were present.
type StatsPresent uint8

const (
	HasReceived StatsPresent = 1 << iota
	HasDropped
	HasFilterAccepted
	HasOSDropped
	HasDelivered
)

// Reader reads frames from one capture file.
type Reader struct {
	name        string
	br          source
	mapped      bool // the file is memory-mapped (see Next)
	sink        byte // keeps touch's reads from being optimised away
	closers     []io.Closer
	format      Format
	compression Compression
	ifaces      []Interface
	comments    []string // section comments
	offset      int64    // bytes consumed from the decompressed stream
	frames      int64
	frame       Frame
	err         error // sticky error; io.EOF at a clean end
	skipped     int64 // oversized packet blocks skipped

	// pcap
	pcap pcapState
	// pcapng
	ng ngState
}

// Open opens a capture file by name; "-" reads standard input.
func Open(name string) (*Reader, error) {
	if name == "-" {
		return NewReader(os.Stdin, "-")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, &Error{File: name, Err: fmt.Errorf("%w: is a directory", ErrNotCapture)}
	}
	if m := mapFile(f); m != nil {
		r, err := newReader(m, name)
		if err != nil {
			m.Close()
			f.Close()
			return nil, err
		}
		r.mapped = true
		r.closers = append([]io.Closer{f, m}, r.closers...)
		return r, nil
	}
	r, err := NewReader(f, name)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closers = append(r.closers, f)
	return r, nil
}

// NewReader reads a capture from r. name is used in errors only.
func NewReader(r io.Reader, name string) (*Reader, error) {
	return newReader(bufio.NewReaderSize(r, 64<<10), name)
}

func newReader(br source, name string) (*Reader, error) {
	rd := &Reader{name: name}
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &Error{File: name, Err: fmt.Errorf("%w: gzip header: %v", ErrCorrupt, err)}
		}
		zr.Multistream(true)
		rd.compression = Gzip
		rd.closers = append(rd.closers, zr)
		rd.br = bufio.NewReaderSize(zr, bufSize)
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		// Window size is capped so that a hostile frame header cannot make
		// the decoder allocate more than this.
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(64<<20), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, &Error{File: name, Err: fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)}
		}
		rd.compression = Zstd
		rd.closers = append(rd.closers, zstdCloser{zr})
		rd.br = bufio.NewReaderSize(zr, bufSize)
	default:
		if m, ok := br.(*mapped); ok {
			rd.br = m // records are read in place
		} else {
			rd.br = bufio.NewReaderSize(br, bufSize)
		}
	}
	magic, err := rd.br.Peek(4)
	if len(magic) < 4 {
		what := "an empty file"
		if len(magic) > 0 {
			what = fmt.Sprintf("only %d bytes", len(magic))
		}
		if err != nil && err != io.EOF {
			what = err.Error()
		}
		return nil, &Error{File: name, Err: fmt.Errorf("%w: expected pcap or pcapng, found %s", ErrNotCapture, what)}
	}
	switch {
	case isPcapMagic(magic):
		rd.format = FormatPcap
		err = rd.readPcapHeader()
	case bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}):
		rd.format = FormatPcapng
		err = rd.readSectionHeader()
	default:
		head, _ := rd.br.Peek(16)
		return nil, &Error{File: name, Err: fmt.Errorf("%w: expected pcap or pcapng magic, found %s", ErrNotCapture, describeBytes(head))}
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

type zstdCloser struct{ *zstd.Decoder }

func (z zstdCloser) Close() error { z.Decoder.Close(); return nil }

// Close releases the file and decompressor.
func (r *Reader) Close() error {
	var first error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	r.closers = nil
	return first
}

// InPlace reports whether frames' bytes stay valid until the reader is
// closed (a memory-mapped plain file) rather than until the next frame.
func (r *Reader) InPlace() bool { return r.mapped && r.compression == Uncompressed }

// Name is the file name the reader was opened with.
func (r *Reader) Name() string { return r.name }

// Format reports pcap or pcapng.
func (r *Reader) Format() Format { return r.format }

// Compression reports how the file was compressed.
func (r *Reader) Compression() Compression { return r.compression }

// Interfaces lists the capture interfaces seen so far (all of them, once
// reading has finished). Frame.Interface indexes this slice.
func (r *Reader) Interfaces() []Interface { return r.ifaces }

// Comments returns the section header comments seen so far.
func (r *Reader) Comments() []string { return r.comments }

// Offset is the number of bytes consumed from the decompressed stream.
func (r *Reader) Offset() int64 { return r.offset }

// Skipped is the number of packet blocks skipped because they were larger
// than the read buffer; their frame numbers are still counted.
func (r *Reader) Skipped() int64 { return r.skipped }

// Next returns the next frame, io.EOF at the clean end of the file, or an
// *Error (wrapping ErrTruncated, ErrCorrupt or an I/O error) after which no
// more frames follow.
func (r *Reader) Next() (f *Frame, err error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.mapped {
		defer debug.SetPanicOnFault(faultGuard())
		defer func() {
			// The mapped file shrank while we read it: what was there
			// before the fault is analysed, as for any truncation.
			if e := recover(); e != nil {
				f, err = nil, r.fail(r.offset, fmt.Errorf("%w: the file changed while being read (%v)", ErrTruncated, e))
				r.err = err
			}
		}()
	}
	if r.format == FormatPcap {
		err = r.nextPcap()
	} else {
		err = r.nextPcapng()
	}
	if err != nil {
		r.err = err
		return nil, err
	}
	return &r.frame, nil
}

// Frames iterates over the remaining frames. Iteration stops after the first
// error, which is yielded with a nil frame; a clean end yields no error.
// Each frame is valid only during its iteration step.
func (r *Reader) Frames() iter.Seq2[*Frame, error] {
	return func(yield func(*Frame, error) bool) {
		for {
			f, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(f, nil) {
				return
			}
		}
	}
}

// fail builds a located error for the record at off.
func (r *Reader) fail(off int64, err error) error {
	return &Error{File: r.name, Frame: r.frames + 1, Offset: off, Err: err}
}

// peek returns the next n bytes without copying; they stay valid until the
// next read. n must be at most the buffer size. It returns io.EOF if the
// stream ended cleanly before the first byte, io.ErrUnexpectedEOF if it
// ended after some, or the underlying read error.
func (r *Reader) peek(n int) ([]byte, error) {
	b, err := r.br.Peek(n)
	if len(b) < n {
		switch {
		case err == io.EOF && len(b) == 0:
			return b, io.EOF
		case err == nil || err == io.EOF || err == bufio.ErrBufferFull:
			err = io.ErrUnexpectedEOF
		}
		return b, err
	}
	return b, nil
}

func (r *Reader) discard(n int) {
	d, _ := r.br.Discard(n)
	r.offset += int64(d)
}

// skip discards n bytes that may exceed the buffer, without allocating.
func (r *Reader) skip(n int64) error {
	for n > 0 {
		step := n
		if step > bufSize {
			step = bufSize
		}
		d, err := r.br.Discard(int(step))
		r.offset += int64(d)
		n -= int64(d)
		if err != nil {
			return io.ErrUnexpectedEOF
		}
	}
	return nil
}

// truncatedOrIO maps a short read to ErrTruncated and a failing
// decompressor or device to ErrCorrupt, keeping the cause visible.
func truncatedOrIO(err error, what string) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return fmt.Errorf("%w: file ends inside %s", ErrTruncated, what)
	}
	return fmt.Errorf("%w: reading %s: %v", ErrCorrupt, what, err)
}

// describeBytes says what a non-capture file seems to be, for the error.
func describeBytes(b []byte) string {
	hex := fmt.Sprintf("% x", b)
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return hex + " (an ELF executable)"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return hex + " (a zip archive)"
	case bytes.HasPrefix(b, []byte("BZh")):
		return hex + " (bzip2 data, not supported: decompress it first)"
	case bytes.HasPrefix(b, []byte("\xfd7zXZ")):
		return hex + " (xz data, not supported: decompress it first)"
	case bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")):
		return hex + " (looks like HTML or XML)"
	case utf8.Valid(b) && isPrintable(b):
		return fmt.Sprintf("%s (text: %q)", hex, b)
	}
	return hex
}

func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}
