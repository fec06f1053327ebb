package apptest

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/wiresleuth/wiresleuth/capture"
)

// frame is one captured packet.
type frame struct {
	num  int64
	time capture.Time
	data []byte
}

// readPcap reads a classic (libpcap) capture file, either byte order,
// microsecond or nanosecond timestamps.
func readPcap(path string) (link uint32, frames []frame, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, err
	}
	if len(b) < 24 {
		return 0, nil, fmt.Errorf("apptest: %s: short file", path)
	}
	var bo binary.ByteOrder
	nano := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	default:
		return 0, nil, fmt.Errorf("apptest: %s: not a classic pcap file", path)
	}
	link = bo.Uint32(b[20:]) & 0x0fffffff
	off := 24
	for n := int64(1); off+16 <= len(b); n++ {
		sec, frac := int64(bo.Uint32(b[off:])), int64(bo.Uint32(b[off+4:]))
		incl := int(bo.Uint32(b[off+8:]))
		off += 16
		if incl > len(b)-off {
			return link, frames, fmt.Errorf("apptest: %s: frame %d truncated", path, n)
		}
		if !nano {
			frac *= 1000
		}
		frames = append(frames, frame{num: n, time: capture.Time(sec*1e9 + frac), data: b[off : off+incl]})
		off += incl
	}
	return link, frames, nil
}
