package synth

import (
	"encoding/binary"
	"net/netip"
)

// Checksum says how a checksum field is filled. The zero value computes
// the correct checksum.
type Checksum struct {
	mode uint8
	v    uint16
}

const (
	sumCorrect = iota
	sumFixed
	sumBad
	sumOffload
)

// FixedChecksum writes v whatever the content (0 for "no checksum" in UDP
// over IPv4, or a constant left by a NIC).
func FixedChecksum(v uint16) Checksum { return Checksum{mode: sumFixed, v: v} }

// BadChecksum writes a value that is always wrong for the content.
var BadChecksum = Checksum{mode: sumBad}

// OffloadChecksum writes what a sender's capture shows when the NIC computes
// the checksum: only the folded pseudo-header sum. Without a pseudo-header
// (IPv4 header, ICMPv4) it writes 0.
var OffloadChecksum = Checksum{mode: sumOffload}

func (c Checksum) put(field []byte, correct uint16, pseudo uint64) {
	v := correct
	switch c.mode {
	case sumFixed:
		v = c.v
	case sumBad:
		// Flipping the low byte never yields the ones'-complement twin
		// (0x0000 vs 0xffff) of the correct value, so it is always wrong.
		v = correct ^ 0x00ff
	case sumOffload:
		v = fold(pseudo)
	}
	binary.BigEndian.PutUint16(field, v)
}

// sum adds b as big-endian 16-bit words to the ones'-complement
// accumulator a. All but the last buffer summed in a row must have even
// length.
func sum(a uint64, b []byte) uint64 {
	for len(b) >= 8 {
		a += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		a += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		a += uint64(b[0]) << 8
	}
	return a
}

// fold reduces a to 16 bits with end-around carry.
func fold(a uint64) uint16 {
	for a>>16 != 0 {
		a = a&0xffff + a>>16
	}
	return uint16(a)
}

// pseudo is the sum of the TCP/UDP/ICMPv6 pseudo-header.
func pseudo(src, dst netip.Addr, proto uint8, length int) uint64 {
	var a uint64
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		a = sum(sum(0, s[:]), d[:])
	} else if src.IsValid() {
		s, d := src.As16(), dst.As16()
		a = sum(sum(0, s[:]), d[:])
	}
	return a + uint64(proto) + uint64(length)
}
