package header

import "encoding/binary"

// EtherType values used here.
const (
	EtherTypeIPv4       = 0x0800
	EtherTypeARP        = 0x0806
	EtherTypeVLAN       = 0x8100 // 802.1Q C-tag
	EtherTypeQinQ       = 0x88a8 // 802.1ad S-tag
	EtherTypeQinQOld    = 0x9100 // pre-standard S-tag
	EtherTypeIPv6       = 0x86dd
	EtherTypeMPLS       = 0x8847
	EtherTypeMPLSMcast  = 0x8848
	EtherTypePPPoE      = 0x8864
	EtherTypeFabricPath = 0x8903 // Cisco FabricPath
	EtherTypeTEB        = 0x6558 // transparent Ethernet bridging (GRE, Geneve)
)

// EthernetLen is the length of an Ethernet II header.
const EthernetLen = 14

// Ethernet is an Ethernet II header.
type Ethernet []byte

func (e Ethernet) Dst() (m [6]byte)  { copy(m[:], e[0:6]); return }
func (e Ethernet) Src() (m [6]byte)  { copy(m[:], e[6:12]); return }
func (e Ethernet) EtherType() uint16 { return binary.BigEndian.Uint16(e[12:]) }

// VLANTagLen is the length of one 802.1Q/802.1ad tag after the TPID.
const VLANTagLen = 4

// VLAN is a tag: TCI then the next EtherType.
type VLAN []byte

func (v VLAN) ID() uint16        { return binary.BigEndian.Uint16(v) & 0x0fff }
func (v VLAN) Priority() uint8   { return v[0] >> 5 }
func (v VLAN) EtherType() uint16 { return binary.BigEndian.Uint16(v[2:]) }

// SLLLen and SLL2Len are the Linux cooked header lengths.
const (
	SLLLen  = 16
	SLL2Len = 20
)

// Linux packet types (SLL and SLL2).
const (
	PacketHost      = 0
	PacketBroadcast = 1
	PacketMulticast = 2
	PacketOtherHost = 3
	PacketOutgoing  = 4
)

// SLL is a Linux cooked capture v1 header.
type SLL []byte

func (s SLL) PacketType() uint16 { return binary.BigEndian.Uint16(s) }
func (s SLL) ARPHRD() uint16     { return binary.BigEndian.Uint16(s[2:]) }
func (s SLL) AddrLen() int       { return int(binary.BigEndian.Uint16(s[4:])) }
func (s SLL) Addr() []byte       { return s[6 : 6+min(8, s.AddrLen())] }
func (s SLL) Protocol() uint16   { return binary.BigEndian.Uint16(s[14:]) }

// SLL2 is a Linux cooked capture v2 header.
type SLL2 []byte

func (s SLL2) Protocol() uint16  { return binary.BigEndian.Uint16(s) }
func (s SLL2) IfIndex() uint32   { return binary.BigEndian.Uint32(s[4:]) }
func (s SLL2) ARPHRD() uint16    { return binary.BigEndian.Uint16(s[8:]) }
func (s SLL2) PacketType() uint8 { return s[10] }
func (s SLL2) AddrLen() int      { return int(s[11]) }
func (s SLL2) Addr() []byte      { return s[12 : 12+min(8, s.AddrLen())] }

// MPLS is one label stack entry.
type MPLS []byte

func (m MPLS) Label() uint32       { return binary.BigEndian.Uint32(m) >> 12 }
func (m MPLS) BottomOfStack() bool { return m[2]&1 != 0 }
