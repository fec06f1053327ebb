package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	blockSHB       = 0x0a0d0d0a
	blockIDB       = 0x00000001
	blockPB        = 0x00000002 // obsolete Packet Block
	blockSPB       = 0x00000003
	blockISB       = 0x00000005
	blockEPB       = 0x00000006
	byteOrderMagic = 0x1a2b3c4d
)

// Option codes used here.
const (
	optEnd         = 0
	optComment     = 1
	optIfName      = 2
	optIfDesc      = 3
	optIfTsresol   = 9
	optIfFcslen    = 13
	optIfTsoffset  = 14
	optEpbFlags    = 2
	optIsbStart    = 2
	optIsbEnd      = 3
	optIsbIfrecv   = 4
	optIsbIfdrop   = 5
	optIsbFilter   = 6
	optIsbOsdrop   = 7
	optIsbUsrdeliv = 8
)

type ngState struct {
	order  binary.ByteOrder
	ifaces []int // section-local interface id -> index in Reader.ifaces
}

// tsUnit converts timestamp ticks to nanoseconds: ticks*mul/div for
// decimal resolutions, ticks*1e9>>shift for binary ones.
type tsUnit struct {
	mul, div uint64
	shift    uint8
	binary   bool
}

func (u tsUnit) ns(ticks uint64) int64 {
	if u.binary {
		hi, lo := bits.Mul64(ticks, 1e9)
		if u.shift >= 64 {
			return int64(hi >> (u.shift - 64))
		}
		return int64(lo>>u.shift | hi<<(64-u.shift))
	}
	if u.div > 1 {
		return int64(ticks / u.div)
	}
	return int64(ticks * u.mul)
}

func resolution(b byte) tsUnit {
	if b&0x80 != 0 {
		n := b & 0x7f
		if n == 0 {
			return tsUnit{mul: 1e9}
		}
		return tsUnit{binary: true, shift: n}
	}
	n := int(b)
	if n <= 9 {
		m := uint64(1)
		for i := n; i < 9; i++ {
			m *= 10
		}
		return tsUnit{mul: m}
	}
	d := uint64(1)
	for i := 9; i < n && i < 28; i++ {
		d *= 10
	}
	return tsUnit{mul: 1, div: d}
}

func (r *Reader) readSectionHeader() error {
	// The first block must be a section header; nextPcapng parses it.
	h, err := r.peek(12)
	if err != nil {
		return &Error{File: r.name, Err: fmt.Errorf("%w: pcapng section header needs 12 bytes, file has %d", ErrTruncated, len(h))}
	}
	bom := binary.LittleEndian.Uint32(h[8:])
	if bom != byteOrderMagic && binary.BigEndian.Uint32(h[8:]) != byteOrderMagic {
		return &Error{File: r.name, Err: fmt.Errorf("%w: pcapng magic without a byte-order magic (found % x)", ErrNotCapture, h[8:12])}
	}
	if err := r.readBlocks(false); err != nil && err != io.EOF {
		return err
	}
	return nil
}

func (r *Reader) nextPcapng() error { return r.readBlocks(true) }

// readBlocks reads blocks until it has a frame (wantFrame) or, when
// !wantFrame, until it has read exactly one (the first section header).
func (r *Reader) readBlocks(wantFrame bool) error {
	for {
		off := r.offset
		h, err := r.peek(8)
		if err != nil {
			if err == io.EOF {
				return io.EOF
			}
			return r.fail(off, truncatedOrIO(err, "a block header"))
		}
		order := r.ng.order
		typ := binary.LittleEndian.Uint32(h)
		if typ == blockSHB {
			s, err := r.peek(12)
			if err != nil {
				return r.fail(off, truncatedOrIO(err, "a section header"))
			}
			switch {
			case binary.LittleEndian.Uint32(s[8:]) == byteOrderMagic:
				order = binary.LittleEndian
			case binary.BigEndian.Uint32(s[8:]) == byteOrderMagic:
				order = binary.BigEndian
			default:
				return r.fail(off, fmt.Errorf("%w: section header with bad byte-order magic % x", ErrCorrupt, s[8:12]))
			}
		} else {
			typ = order.Uint32(h)
		}
		blen := order.Uint32(h[4:])
		if blen < 12 || blen%4 != 0 || blen > maxBlockLen {
			return r.fail(off, fmt.Errorf("%w: block type 0x%x claims length %d (must be a multiple of 4 between 12 and %d)", ErrCorrupt, typ, blen, maxBlockLen))
		}
		isPacket := typ == blockEPB || typ == blockSPB || typ == blockPB
		if blen > bufSize-4096 {
			// Too large to hand out in place; a packet this size exceeds
			// MaxFrameLen anyway. Skip it without allocating.
			if err := r.skip(int64(blen)); err != nil {
				return r.fail(off, truncatedOrIO(err, fmt.Sprintf("a %d-byte block", blen)))
			}
			if isPacket {
				r.frames++
				r.skipped++
			}
			continue
		}
		b, err := r.peek(int(blen))
		if err != nil {
			return r.fail(off, truncatedOrIO(err, fmt.Sprintf("a %d-byte block of type 0x%x (%d bytes present)", blen, typ, len(b))))
		}
		if order.Uint32(b[blen-4:]) != blen {
			return r.fail(off, fmt.Errorf("%w: block type 0x%x: trailing length %d differs from leading length %d", ErrCorrupt, typ, order.Uint32(b[blen-4:]), blen))
		}
		r.touch(b)
		body := b[8 : blen-4]
		switch typ {
		case blockSHB:
			if len(body) < 16 {
				return r.fail(off, fmt.Errorf("%w: section header body is %d bytes, needs 16", ErrCorrupt, len(body)))
			}
			r.ng.order = order
			r.ng.ifaces = r.ng.ifaces[:0]
			forOptions(order, body[16:], func(code uint16, v []byte) {
				if code == optComment {
					r.comments = append(r.comments, string(v))
				}
			})
		case blockIDB:
			if err := r.parseIDB(body); err != nil {
				return r.fail(off, err)
			}
		case blockISB:
			r.parseISB(body)
		case blockEPB, blockPB, blockSPB:
			if !wantFrame {
				return r.fail(off, fmt.Errorf("%w: packet block before the section header", ErrCorrupt))
			}
			if err := r.parsePacket(typ, body); err != nil {
				return r.fail(off, err)
			}
			r.discard(int(blen))
			return nil
		}
		r.discard(int(blen))
		if typ == blockSHB && !wantFrame {
			return nil
		}
	}
}

// forOptions calls fn for each well-formed option in b, stopping at the end
// option or at the first option that overruns the block.
func forOptions(order binary.ByteOrder, b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code := order.Uint16(b)
		n := int(order.Uint16(b[2:]))
		if code == optEnd {
			return
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(b) {
			return
		}
		fn(code, b[4:4+n])
		b = b[4+padded:]
	}
}

func (r *Reader) parseIDB(body []byte) error {
	if len(body) < 8 {
		return fmt.Errorf("%w: interface description body is %d bytes, needs 8", ErrCorrupt, len(body))
	}
	o := r.ng.order
	ifc := Interface{
		LinkType: LinkType(o.Uint16(body)),
		SnapLen:  int(min(o.Uint32(body[4:]), 1<<31-1)),
		tsUnit:   tsUnit{mul: 1000},
	}
	forOptions(o, body[8:], func(code uint16, v []byte) {
		switch code {
		case optComment:
			ifc.Comments = append(ifc.Comments, string(v))
		case optIfName:
			ifc.Name = string(v)
		case optIfDesc:
			ifc.Description = string(v)
		case optIfTsresol:
			if len(v) == 1 {
				ifc.tsUnit = resolution(v[0])
			}
		case optIfFcslen:
			if len(v) == 1 {
				ifc.FCSLen = int(v[0])
			}
		case optIfTsoffset:
			if len(v) == 8 {
				ifc.tsShift = int64(o.Uint64(v))
			}
		}
	})
	r.ng.ifaces = append(r.ng.ifaces, len(r.ifaces))
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

func (r *Reader) iface(id uint32) (int, error) {
	if int64(id) >= int64(len(r.ng.ifaces)) {
		return 0, fmt.Errorf("%w: packet refers to interface %d, but the section describes %d", ErrCorrupt, id, len(r.ng.ifaces))
	}
	return r.ng.ifaces[id], nil
}

func (r *Reader) stamp(ifc *Interface, hi, lo uint32) Time {
	return Time(ifc.tsUnit.ns(uint64(hi)<<32|uint64(lo)) + ifc.tsShift*1e9)
}

func (r *Reader) parsePacket(typ uint32, body []byte) error {
	o := r.ng.order
	var (
		idx             int
		hi, lo          uint32
		capLen, origLen uint32
		data, opts      []byte
		err             error
	)
	switch typ {
	case blockEPB, blockPB:
		if len(body) < 20 {
			return fmt.Errorf("%w: packet block body is %d bytes, needs 20", ErrCorrupt, len(body))
		}
		var id uint32
		if typ == blockEPB {
			id = o.Uint32(body)
		} else {
			id = uint32(o.Uint16(body))
		}
		if idx, err = r.iface(id); err != nil {
			return err
		}
		hi, lo = o.Uint32(body[4:]), o.Uint32(body[8:])
		capLen, origLen = o.Uint32(body[12:]), o.Uint32(body[16:])
		if capLen > MaxFrameLen {
			return fmt.Errorf("%w: packet claims %d captured bytes, more than the %d-byte maximum", ErrCorrupt, capLen, MaxFrameLen)
		}
		if int64(capLen) > int64(len(body)-20) {
			return fmt.Errorf("%w: packet claims %d captured bytes but its block holds %d", ErrCorrupt, capLen, len(body)-20)
		}
		data = body[20 : 20+capLen]
		opts = body[min(len(body), 20+int((capLen+3)&^3)):]
	case blockSPB:
		if len(body) < 4 {
			return fmt.Errorf("%w: simple packet block body is %d bytes, needs 4", ErrCorrupt, len(body))
		}
		if idx, err = r.iface(0); err != nil {
			return err
		}
		origLen = o.Uint32(body)
		n := uint32(len(body) - 4)
		if snap := uint32(r.ifaces[idx].SnapLen); snap != 0 && snap < n {
			n = snap
		}
		n = min(n, origLen, MaxFrameLen)
		data = body[4 : 4+n]
	}
	ifc := &r.ifaces[idx]
	r.frames++
	f := &r.frame
	*f = Frame{
		Number:    r.frames,
		Data:      data,
		OrigLen:   int(origLen),
		LinkType:  ifc.LinkType,
		Interface: idx,
		FCSLen:    ifc.FCSLen,
	}
	if typ != blockSPB {
		f.Time = r.stamp(ifc, hi, lo)
	}
	forOptions(o, opts, func(code uint16, v []byte) {
		switch code {
		case optComment:
			if f.Comment == nil {
				f.Comment = v
			}
		case optEpbFlags:
			if len(v) == 4 {
				switch o.Uint32(v) & 3 {
				case 1:
					f.Direction = DirInbound
				case 2:
					f.Direction = DirOutbound
				}
			}
		}
	})
	return nil
}

func (r *Reader) parseISB(body []byte) {
	if len(body) < 12 {
		return
	}
	o := r.ng.order
	idx, err := r.iface(o.Uint32(body))
	if err != nil {
		return
	}
	ifc := &r.ifaces[idx]
	st := &InterfaceStats{Time: r.stamp(ifc, o.Uint32(body[4:]), o.Uint32(body[8:]))}
	forOptions(o, body[12:], func(code uint16, v []byte) {
		if len(v) != 8 {
			return
		}
		n := o.Uint64(v)
		switch code {
		case optIsbIfrecv:
			st.Received, st.Has = n, st.Has|HasReceived
		case optIsbIfdrop:
			st.Dropped, st.Has = n, st.Has|HasDropped
		case optIsbFilter:
			st.FilterAccepted, st.Has = n, st.Has|HasFilterAccepted
		case optIsbOsdrop:
			st.OSDropped, st.Has = n, st.Has|HasOSDropped
		case optIsbUsrdeliv:
			st.Delivered, st.Has = n, st.Has|HasDelivered
		}
	})
	ifc.Stats = st
}
