package header

import "encoding/binary"

// UDPLen is the length of a UDP header.
const UDPLen = 8

// UDP is a UDP header and what follows it.
type UDP []byte

func (u UDP) SrcPort() uint16  { return binary.BigEndian.Uint16(u) }
func (u UDP) DstPort() uint16  { return binary.BigEndian.Uint16(u[2:]) }
func (u UDP) Length() int      { return int(binary.BigEndian.Uint16(u[4:])) }
func (u UDP) Checksum() uint16 { return binary.BigEndian.Uint16(u[6:]) }

// ICMPLen is the length of the ICMP/ICMPv6 header before the body.
const ICMPLen = 8

// ICMP is an ICMPv4 or ICMPv6 header and its body.
type ICMP []byte

func (i ICMP) Type() uint8      { return i[0] }
func (i ICMP) Code() uint8      { return i[1] }
func (i ICMP) Checksum() uint16 { return binary.BigEndian.Uint16(i[2:]) }
func (i ICMP) Rest() uint32     { return binary.BigEndian.Uint32(i[4:]) }
func (i ICMP) Body() []byte     { return i[ICMPLen:] }
func (i ICMP) NextHopMTU() int  { return int(binary.BigEndian.Uint16(i[6:])) }
func (i ICMP) MTU6() int        { return int(binary.BigEndian.Uint32(i[4:])) }
func (i ICMP) EchoID() uint16   { return binary.BigEndian.Uint16(i[4:]) }
func (i ICMP) EchoSeq() uint16  { return binary.BigEndian.Uint16(i[6:]) }

// ICMPv4 types that quote the offending packet.
const (
	ICMPEchoReply      = 0
	ICMPUnreachable    = 3
	ICMPSourceQuench   = 4
	ICMPRedirect       = 5
	ICMPEchoRequest    = 8
	ICMPTimeExceeded   = 11
	ICMPParamProblem   = 12
	ICMPv6Unreachable  = 1
	ICMPv6TooBig       = 2
	ICMPv6TimeExceeded = 3
	ICMPv6ParamProblem = 4
	ICMPv6EchoRequest  = 128
	ICMPv6EchoReply    = 129
)

// IsError reports whether an ICMP (v6 false) or ICMPv6 (v6 true) type is an
// error message that quotes the packet that caused it.
func IsError(v6 bool, typ uint8) bool {
	if v6 {
		return typ >= 1 && typ <= 4
	}
	switch typ {
	case ICMPUnreachable, ICMPSourceQuench, ICMPRedirect, ICMPTimeExceeded, ICMPParamProblem:
		return true
	}
	return false
}
