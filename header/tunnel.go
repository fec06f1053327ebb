package header

import "encoding/binary"

// Well-known UDP ports of the tunnels decapsulated.
const (
	PortVXLAN      = 4789
	PortVXLANLinux = 8472 // Linux's pre-IANA default
	PortGeneve     = 6081
	PortTeredo     = 3544
	PortGTPU       = 2152
	PortAYIYA      = 5072
)

// VXLANLen is the length of a VXLAN header.
const VXLANLen = 8

// VXLAN is a VXLAN header (RFC 7348) followed by an Ethernet frame.
type VXLAN []byte

func (v VXLAN) ValidVNI() bool { return v[0]&0x08 != 0 }
func (v VXLAN) VNI() uint32    { return binary.BigEndian.Uint32(v[4:]) >> 8 }

// GeneveMinLen is the length of a Geneve header without options.
const GeneveMinLen = 8

// Geneve is a Geneve header (RFC 8926).
type Geneve []byte

func (g Geneve) Version() uint8   { return g[0] >> 6 }
func (g Geneve) HeaderLen() int   { return GeneveMinLen + int(g[0]&0x3f)*4 }
func (g Geneve) Protocol() uint16 { return binary.BigEndian.Uint16(g[2:]) }
func (g Geneve) VNI() uint32      { return binary.BigEndian.Uint32(g[4:]) >> 8 }

// GREMinLen is the length of a GRE header without optional fields.
const GREMinLen = 4

// GRE is a GRE header (RFC 2784/2890).
type GRE []byte

func (g GRE) Version() uint8    { return g[1] & 7 }
func (g GRE) Protocol() uint16  { return binary.BigEndian.Uint16(g[2:]) }
func (g GRE) HasChecksum() bool { return g[0]&0x80 != 0 }
func (g GRE) HasKey() bool      { return g[0]&0x20 != 0 }
func (g GRE) HasSeq() bool      { return g[0]&0x10 != 0 }

// HeaderLen counts the optional checksum, key and sequence fields.
func (g GRE) HeaderLen() int {
	n := GREMinLen
	if g.HasChecksum() {
		n += 4
	}
	if g.HasKey() {
		n += 4
	}
	if g.HasSeq() {
		n += 4
	}
	if g.Version() == 1 { // PPTP enhanced GRE: key always present, ack optional
		n = 8
		if g.HasSeq() {
			n += 4
		}
		if g[1]&0x80 != 0 {
			n += 4
		}
	}
	return n
}

// Key returns the GRE key, if present (HeaderLen must have been checked).
func (g GRE) Key() uint32 {
	if !g.HasKey() {
		return 0
	}
	off := GREMinLen
	if g.HasChecksum() {
		off += 4
	}
	return binary.BigEndian.Uint32(g[off:])
}
