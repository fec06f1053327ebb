package synth

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is a wrapping of a capture file.
type Compression int

// Compressions.
const (
	None Compression = iota
	Gzip
	Zstd
)

// Compress returns a writer that compresses into w; Close flushes it (and
// does not close w).
func Compress(w io.Writer, c Compression) (io.WriteCloser, error) {
	switch c {
	case None:
		return nopCloser{w}, nil
	case Gzip:
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
	}
	return nil, fmt.Errorf("synth: unknown compression %d", c)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// WriteFile writes frames of one link type to name, as pcapng if the name
// ends in .pcapng (before any .gz or .zst) and as µs pcap otherwise,
// compressed by a .gz or .zst suffix.
func WriteFile(name string, lt LinkType, frames []Frame) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	err = writeTo(f, name, lt, frames)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("synth: %w", cerr)
	}
	return err
}

func writeTo(f io.Writer, name string, lt LinkType, frames []Frame) error {
	c, base := None, name
	switch {
	case strings.HasSuffix(name, ".gz"):
		c, base = Gzip, strings.TrimSuffix(name, ".gz")
	case strings.HasSuffix(name, ".zst"):
		c, base = Zstd, strings.TrimSuffix(name, ".zst")
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	cw, err := Compress(bw, c)
	if err != nil {
		return err
	}
	if strings.HasSuffix(base, ".pcapng") {
		w, err := NewPcapngWriter(cw, PcapngOptions{})
		if err == nil {
			_, err = w.AddInterface(Interface{LinkType: lt})
		}
		for i := 0; err == nil && i < len(frames); i++ {
			fr := frames[i]
			fr.Interface = 0
			err = w.WriteFrame(fr)
		}
		if err != nil {
			return err
		}
	} else {
		w, err := NewPcapWriter(cw, PcapOptions{LinkType: lt})
		for i := 0; err == nil && i < len(frames); i++ {
			err = w.WriteFrame(frames[i])
		}
		if err != nil {
			return err
		}
	}
	if err := cw.Close(); err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("synth: %s: %w", name, err)
	}
	return nil
}
