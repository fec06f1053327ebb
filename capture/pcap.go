package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// pcap magic numbers as they appear in the first four bytes of a file.
const (
	pcapMagicMicro      = 0xa1b2c3d4
	pcapMagicNano       = 0xa1b23c4d
	pcapMagicKuznetzov  = 0xa1b2cd34 // "modified" pcap: 8 extra bytes per record
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
)

type pcapState struct {
	order     binary.ByteOrder
	nano      bool
	extra     int // extra record header bytes (Kuznetzov)
	linkType  LinkType
	fcsLen    int
	headerLen int
}

func isPcapMagic(b []byte) bool {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch order.Uint32(b) {
		case pcapMagicMicro, pcapMagicNano, pcapMagicKuznetzov:
			return true
		}
	}
	return false
}

func (r *Reader) readPcapHeader() error {
	h, err := r.peek(pcapFileHeaderLen)
	if err != nil {
		return &Error{File: r.name, Err: fmt.Errorf("%w: pcap file header is %d bytes, file has %d", ErrTruncated, pcapFileHeaderLen, len(h))}
	}
	p := &r.pcap
	p.order = binary.LittleEndian
	magic := p.order.Uint32(h)
	if magic != pcapMagicMicro && magic != pcapMagicNano && magic != pcapMagicKuznetzov {
		p.order = binary.BigEndian
		magic = p.order.Uint32(h)
	}
	p.nano = magic == pcapMagicNano
	if magic == pcapMagicKuznetzov {
		p.extra = 8
	}
	p.headerLen = pcapRecordHeaderLen + p.extra
	snap := p.order.Uint32(h[16:])
	network := p.order.Uint32(h[20:])
	p.linkType = LinkType(network & 0xffff)
	// Bit 26 says an FCS of (bits 28-31) 16-bit words ends each frame.
	if network&(1<<26) != 0 {
		p.fcsLen = int(network>>28) * 2
	}
	r.ifaces = append(r.ifaces, Interface{
		LinkType: p.linkType,
		SnapLen:  int(min(snap, 1<<31-1)),
		FCSLen:   p.fcsLen,
		tsUnit:   tsUnit{mul: 1000},
	})
	if p.nano {
		r.ifaces[0].tsUnit = tsUnit{mul: 1}
	}
	r.discard(pcapFileHeaderLen)
	return nil
}

func (r *Reader) nextPcap() error {
	p := &r.pcap
	off := r.offset
	h, err := r.peek(p.headerLen)
	if err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return r.fail(off, truncatedOrIO(err, fmt.Sprintf("a record header (%d of %d bytes present)", len(h), p.headerLen)))
	}
	sec := p.order.Uint32(h[0:])
	frac := p.order.Uint32(h[4:])
	capLen := p.order.Uint32(h[8:])
	origLen := p.order.Uint32(h[12:])
	if capLen > MaxFrameLen {
		return r.fail(off, fmt.Errorf("%w: record claims %d captured bytes, more than the %d-byte maximum", ErrCorrupt, capLen, MaxFrameLen))
	}
	rec, err := r.peek(p.headerLen + int(capLen))
	if err != nil {
		return r.fail(off, truncatedOrIO(err, fmt.Sprintf("a %d-byte record (%d bytes present)", capLen, len(rec)-p.headerLen)))
	}
	r.frames++
	r.touch(rec)
	f := &r.frame
	*f = Frame{
		Number:   r.frames,
		Data:     rec[p.headerLen:],
		OrigLen:  int(origLen),
		LinkType: p.linkType,
		FCSLen:   p.fcsLen,
	}
	if p.nano {
		f.Time = Time(int64(sec)*1e9 + int64(frac))
	} else {
		f.Time = Time(int64(sec)*1e9 + int64(frac)*1e3)
	}
	if p.extra != 0 {
		// Kuznetzov pkt_type: 0 host, 4 outgoing.
		switch h[22] {
		case 4:
			f.Direction = DirOutbound
		case 0, 1, 2:
			f.Direction = DirInbound
		}
	}
	r.discard(len(rec))
	return nil
}
