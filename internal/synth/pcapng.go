package synth

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// PcapngOptions describe a pcapng section header.
type PcapngOptions struct {
	BigEndian              bool
	Comment                string
	Hardware, OS, UserAppl string
}

// Interface describes one pcapng interface (IDB).
type Interface struct {
	LinkType    LinkType
	SnapLen     int // 0: no limit (written as 0); frames longer are cut
	Name        string
	Description string
	Comment     string
	// TSResol is the raw if_tsresol byte: n for 10^-n s, 0x80|n for 2^-n s.
	// 0 omits the option (µs).
	TSResol  uint8
	TSOffset int64 // if_tsoffset in seconds; 0 omits it
}

// InterfaceStats is an interface statistics block (ISB). Counters below
// zero are omitted.
type InterfaceStats struct {
	Interface                                      int
	Time                                           time.Time
	Start, End                                     time.Time // zero: omitted
	IfRecv, IfDrop, FilterAccept, OSDrop, UsrDeliv int64
	Comment                                        string
}

// PcapngWriter writes a pcapng file with one section.
type PcapngWriter struct {
	w     io.Writer
	order byteOrder
	ifs   []Interface
	n     int64
	buf   []byte
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Block types.
const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 1
	blockSPB = 3
	blockISB = 5
	blockEPB = 6
)

// NewPcapngWriter writes the section header block and returns the writer.
func NewPcapngWriter(w io.Writer, o PcapngOptions) (*PcapngWriter, error) {
	pw := &PcapngWriter{w: w, order: binary.LittleEndian}
	if o.BigEndian {
		pw.order = binary.BigEndian
	}
	b := pw.order.AppendUint32(nil, 0x1a2b3c4d)
	b = pw.order.AppendUint16(b, 1)
	b = pw.order.AppendUint16(b, 0)
	b = pw.order.AppendUint64(b, ^uint64(0)) // section length unknown: we stream
	b = pw.optStr(b, 1, o.Comment)
	b = pw.optStr(b, 2, o.Hardware)
	b = pw.optStr(b, 3, o.OS)
	b = pw.optStr(b, 4, o.UserAppl)
	return pw, pw.block(blockSHB, pw.endOpts(b))
}

// Offset is the number of bytes written so far: where the next block
// starts.
func (w *PcapngWriter) Offset() int64 { return w.n }

// AddInterface writes an interface description block and returns the
// interface id for Frame.Interface.
func (w *PcapngWriter) AddInterface(i Interface) (int, error) {
	b := w.order.AppendUint16(nil, uint16(i.LinkType))
	b = w.order.AppendUint16(b, 0)
	b = w.order.AppendUint32(b, uint32(max(i.SnapLen, 0)))
	b = w.optStr(b, 1, i.Comment)
	b = w.optStr(b, 2, i.Name)
	b = w.optStr(b, 3, i.Description)
	if i.TSResol != 0 {
		b = w.opt(b, 9, []byte{i.TSResol})
	}
	if i.TSOffset != 0 {
		b = w.opt(b, 14, w.order.AppendUint64(nil, uint64(i.TSOffset)))
	}
	w.ifs = append(w.ifs, i)
	return len(w.ifs) - 1, w.block(blockIDB, w.endOpts(b))
}

// WriteFrame writes an enhanced packet block.
func (w *PcapngWriter) WriteFrame(f Frame) error {
	if f.Interface < 0 || f.Interface >= len(w.ifs) {
		return fmt.Errorf("synth: pcapng: frame for unknown interface %d", f.Interface)
	}
	ifc := &w.ifs[f.Interface]
	data := f.Data
	if ifc.SnapLen > 0 && len(data) > ifc.SnapLen {
		data = data[:ifc.SnapLen]
	}
	ts := timeUnits(f.Time.Add(-time.Duration(ifc.TSOffset)*time.Second), ifc.TSResol)
	b := w.buf[:0]
	b = w.order.AppendUint32(b, uint32(f.Interface))
	b = w.order.AppendUint32(b, uint32(ts>>32))
	b = w.order.AppendUint32(b, uint32(ts))
	b = w.order.AppendUint32(b, uint32(len(data)))
	b = w.order.AppendUint32(b, uint32(f.origLen()))
	b = pad4(append(b, data...))
	if f.Comment != "" || f.Flags != 0 {
		b = w.optStr(b, 1, f.Comment)
		if f.Flags != 0 {
			b = w.opt(b, 2, w.order.AppendUint32(nil, f.Flags))
		}
		b = w.endOpts(b)
	}
	w.buf = b
	return w.block(blockEPB, b)
}

// WriteSimple writes a simple packet block; it belongs to interface 0.
func (w *PcapngWriter) WriteSimple(data []byte) error {
	if len(w.ifs) == 0 {
		return fmt.Errorf("synth: pcapng: simple packet before any interface")
	}
	orig := len(data)
	if s := w.ifs[0].SnapLen; s > 0 && len(data) > s {
		data = data[:s]
	}
	b := w.order.AppendUint32(w.buf[:0], uint32(orig))
	b = pad4(append(b, data...))
	w.buf = b
	return w.block(blockSPB, b)
}

// WriteStats writes an interface statistics block.
func (w *PcapngWriter) WriteStats(s InterfaceStats) error {
	if s.Interface < 0 || s.Interface >= len(w.ifs) {
		return fmt.Errorf("synth: pcapng: statistics for unknown interface %d", s.Interface)
	}
	res := w.ifs[s.Interface].TSResol
	ts := timeUnits(s.Time, res)
	b := w.order.AppendUint32(nil, uint32(s.Interface))
	b = w.order.AppendUint32(b, uint32(ts>>32))
	b = w.order.AppendUint32(b, uint32(ts))
	b = w.optStr(b, 1, s.Comment)
	for _, t := range []struct {
		code uint16
		t    time.Time
	}{{2, s.Start}, {3, s.End}} {
		if !t.t.IsZero() {
			u := timeUnits(t.t, res)
			b = w.opt(b, t.code, w.order.AppendUint32(w.order.AppendUint32(nil, uint32(u>>32)), uint32(u)))
		}
	}
	for i, v := range []int64{s.IfRecv, s.IfDrop, s.FilterAccept, s.OSDrop, s.UsrDeliv} {
		if v >= 0 {
			b = w.opt(b, uint16(4+i), w.order.AppendUint64(nil, uint64(v)))
		}
	}
	return w.block(blockISB, w.endOpts(b))
}

// WriteBlock writes a block of any type with the given body (padded to 4
// bytes), for unknown or deliberately odd blocks.
func (w *PcapngWriter) WriteBlock(typ uint32, body []byte) error {
	return w.block(typ, pad4(append([]byte(nil), body...)))
}

func (w *PcapngWriter) block(typ uint32, body []byte) error {
	total := uint32(12 + len(body))
	var h [8]byte
	w.order.PutUint32(h[:], typ)
	w.order.PutUint32(h[4:], total)
	var t [4]byte
	w.order.PutUint32(t[:], total)
	for _, p := range [][]byte{h[:], body, t[:]} {
		n, err := w.w.Write(p)
		w.n += int64(n)
		if err != nil {
			return fmt.Errorf("synth: pcapng: %w", err)
		}
	}
	return nil
}

func (w *PcapngWriter) opt(b []byte, code uint16, v []byte) []byte {
	b = w.order.AppendUint16(b, code)
	b = w.order.AppendUint16(b, uint16(len(v)))
	return pad4(append(b, v...))
}

func (w *PcapngWriter) optStr(b []byte, code uint16, s string) []byte {
	if s == "" {
		return b
	}
	return w.opt(b, code, []byte(s))
}

// endOpts adds opt_endofopt (legal even after no options).
func (w *PcapngWriter) endOpts(b []byte) []byte { return append(b, 0, 0, 0, 0) }

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// timeUnits converts t to the units of an if_tsresol value.
func timeUnits(t time.Time, res uint8) uint64 {
	sec, ns := uint64(t.Unix()), uint64(t.Nanosecond())
	if res == 0 {
		res = 6
	}
	if res&0x80 != 0 {
		n := res & 0x7f
		hi, lo := bits.Mul64(ns, 1<<n)
		frac, _ := bits.Div64(hi, lo, 1e9)
		return sec<<n + frac
	}
	per := uint64(1)
	for range res {
		per *= 10
	}
	if res <= 9 {
		return sec*per + ns/(1e9/per)
	}
	return sec*per + ns*(per/1e9)
}
