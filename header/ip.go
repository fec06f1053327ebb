package header

import (
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers used here.
const (
	ProtoHopByHop = 0
	ProtoICMP     = 1
	ProtoIPIP     = 4
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoIPv6     = 41
	ProtoRouting  = 43
	ProtoFragment = 44
	ProtoGRE      = 47
	ProtoESP      = 50
	ProtoAH       = 51
	ProtoICMPv6   = 58
	ProtoNoNext   = 59
	ProtoDstOpts  = 60
	ProtoMobility = 135
)

// IPv4MinLen is the length of an IPv4 header without options.
const IPv4MinLen = 20

// IPv4 is an IPv4 header (with options) and what follows it.
type IPv4 []byte

func (h IPv4) Version() uint8      { return h[0] >> 4 }
func (h IPv4) HeaderLen() int      { return int(h[0]&0x0f) * 4 }
func (h IPv4) TOS() uint8          { return h[1] }
func (h IPv4) TotalLen() int       { return int(binary.BigEndian.Uint16(h[2:])) }
func (h IPv4) ID() uint16          { return binary.BigEndian.Uint16(h[4:]) }
func (h IPv4) DF() bool            { return h[6]&0x40 != 0 }
func (h IPv4) MF() bool            { return h[6]&0x20 != 0 }
func (h IPv4) FragOffset() int     { return int(binary.BigEndian.Uint16(h[6:])&0x1fff) * 8 }
func (h IPv4) TTL() uint8          { return h[8] }
func (h IPv4) Protocol() uint8     { return h[9] }
func (h IPv4) Checksum() uint16    { return binary.BigEndian.Uint16(h[10:]) }
func (h IPv4) Src() netip.Addr     { return netip.AddrFrom4([4]byte(h[12:16])) }
func (h IPv4) Dst() netip.Addr     { return netip.AddrFrom4([4]byte(h[16:20])) }
func (h IPv4) IsFragment() bool    { return h[6]&0x20 != 0 || h.FragOffset() != 0 }
func (h IPv4) Options() []byte     { return h[IPv4MinLen:h.HeaderLen()] }
func (h IPv4) ChecksumValid() bool { return Checksum(h[:h.HeaderLen()], 0) == 0 }

// IPv6Len is the length of the fixed IPv6 header.
const IPv6Len = 40

// IPv6 is the fixed IPv6 header and what follows it.
type IPv6 []byte

func (h IPv6) Version() uint8      { return h[0] >> 4 }
func (h IPv6) TrafficClass() uint8 { return uint8(binary.BigEndian.Uint16(h) >> 4) }
func (h IPv6) FlowLabel() uint32   { return binary.BigEndian.Uint32(h) & 0xfffff }
func (h IPv6) PayloadLen() int     { return int(binary.BigEndian.Uint16(h[4:])) }
func (h IPv6) NextHeader() uint8   { return h[6] }
func (h IPv6) HopLimit() uint8     { return h[7] }
func (h IPv6) Src() netip.Addr     { return netip.AddrFrom16([16]byte(h[8:24])) }
func (h IPv6) Dst() netip.Addr     { return netip.AddrFrom16([16]byte(h[24:40])) }

// IPv6Fragment is an IPv6 fragment extension header.
type IPv6Fragment []byte

func (f IPv6Fragment) NextHeader() uint8 { return f[0] }
func (f IPv6Fragment) Offset() int       { return int(binary.BigEndian.Uint16(f[2:]) & 0xfff8) }
func (f IPv6Fragment) More() bool        { return f[3]&1 != 0 }
func (f IPv6Fragment) ID() uint32        { return binary.BigEndian.Uint32(f[4:]) }
