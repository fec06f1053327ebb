package synth

import (
	"encoding/binary"
	"fmt"
	"io"
)

// PcapOptions describe a classic pcap file.
type PcapOptions struct {
	LinkType   LinkType
	Nanosecond bool // ns timestamps (magic 0xa1b23c4d) instead of µs
	BigEndian  bool
	SnapLen    int // 0: 262144; frames longer are cut, keeping their original length
}

// PcapWriter writes a classic pcap file.
type PcapWriter struct {
	w     io.Writer
	o     PcapOptions
	order binary.ByteOrder
	n     int64
	buf   []byte
}

// NewPcapWriter writes the file header and returns the writer.
func NewPcapWriter(w io.Writer, o PcapOptions) (*PcapWriter, error) {
	if o.SnapLen <= 0 {
		o.SnapLen = 262144
	}
	pw := &PcapWriter{w: w, o: o, order: binary.LittleEndian}
	if o.BigEndian {
		pw.order = binary.BigEndian
	}
	magic := uint32(0xa1b2c3d4)
	if o.Nanosecond {
		magic = 0xa1b23c4d
	}
	h := make([]byte, 24)
	pw.order.PutUint32(h, magic)
	pw.order.PutUint16(h[4:], 2)
	pw.order.PutUint16(h[6:], 4)
	pw.order.PutUint32(h[16:], uint32(o.SnapLen))
	pw.order.PutUint32(h[20:], uint32(o.LinkType))
	return pw, pw.write(h)
}

// Offset is the number of bytes written so far: where the next record
// starts. Tests that damage files use it to find record boundaries.
func (w *PcapWriter) Offset() int64 { return w.n }

// WriteFrame writes one record.
func (w *PcapWriter) WriteFrame(f Frame) error {
	data := f.Data
	if len(data) > w.o.SnapLen {
		data = data[:w.o.SnapLen]
	}
	b := w.buf[:0]
	b = append(b, make([]byte, 16)...)
	sec, ns := f.Time.Unix(), f.Time.Nanosecond()
	frac := uint32(ns / 1000)
	if w.o.Nanosecond {
		frac = uint32(ns)
	}
	w.order.PutUint32(b, uint32(sec))
	w.order.PutUint32(b[4:], frac)
	w.order.PutUint32(b[8:], uint32(len(data)))
	w.order.PutUint32(b[12:], uint32(f.origLen()))
	b = append(b, data...)
	w.buf = b
	return w.write(b)
}

func (w *PcapWriter) write(b []byte) error {
	n, err := w.w.Write(b)
	w.n += int64(n)
	if err != nil {
		return fmt.Errorf("synth: pcap: %w", err)
	}
	return nil
}
