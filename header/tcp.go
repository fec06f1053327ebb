package header

import "encoding/binary"

// TCPMinLen is the length of a TCP header without options.
const TCPMinLen = 20

// TCP flag bits, in the order of the header's flags byte.
const (
	FlagFIN = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// TCP is a TCP header (with options) and what follows it.
type TCP []byte

func (t TCP) SrcPort() uint16     { return binary.BigEndian.Uint16(t) }
func (t TCP) DstPort() uint16     { return binary.BigEndian.Uint16(t[2:]) }
func (t TCP) Seq() uint32         { return binary.BigEndian.Uint32(t[4:]) }
func (t TCP) Ack() uint32         { return binary.BigEndian.Uint32(t[8:]) }
func (t TCP) HeaderLen() int      { return int(t[12]>>4) * 4 }
func (t TCP) Flags() uint8        { return t[13] }
func (t TCP) NS() bool            { return t[12]&1 != 0 }
func (t TCP) Window() uint16      { return binary.BigEndian.Uint16(t[14:]) }
func (t TCP) Checksum() uint16    { return binary.BigEndian.Uint16(t[16:]) }
func (t TCP) Urgent() uint16      { return binary.BigEndian.Uint16(t[18:]) }
func (t TCP) Options() []byte     { return t[TCPMinLen:t.HeaderLen()] }
func (t TCP) Has(flag uint8) bool { return t[13]&flag != 0 }

// TCP option kinds.
const (
	OptEnd           = 0
	OptNOP           = 1
	OptMSS           = 2
	OptWScale        = 3
	OptSACKPermitted = 4
	OptSACK          = 5
	OptTimestamps    = 8
	OptMD5           = 19
	OptUserTimeout   = 28
	OptAuth          = 29
	OptMPTCP         = 30
	OptFastOpen      = 34
)

// TCPOptionSet records which options a segment carried.
type TCPOptionSet uint16

const (
	HasMSS TCPOptionSet = 1 << iota
	HasWScale
	HasSACKPermitted
	HasSACK
	HasTimestamps
	HasMD5
	HasMPTCP
	HasFastOpen
	HasOther
)

// SACKBlock is one selective acknowledgment range [Left, Right).
type SACKBlock struct{ Left, Right uint32 }

// TCPOptions are the decoded options of one segment.
type TCPOptions struct {
	Has          TCPOptionSet
	MSS          uint16
	WScale       uint8
	TSVal, TSEcr uint32
	SACK         [4]SACKBlock
	NumSACK      int
	Malformed    bool // an option overran the header or had an impossible length
}

// ParseOptions decodes t's options into o without allocating.
func (t TCP) ParseOptions(o *TCPOptions) {
	*o = TCPOptions{}
	ForEachOption(t.Options(), func(kind uint8, data []byte) bool {
		switch kind {
		case OptMSS:
			if len(data) == 2 {
				o.Has |= HasMSS
				o.MSS = binary.BigEndian.Uint16(data)
				return true
			}
		case OptWScale:
			if len(data) == 1 {
				o.Has |= HasWScale
				o.WScale = data[0]
				return true
			}
		case OptSACKPermitted:
			if len(data) == 0 {
				o.Has |= HasSACKPermitted
				return true
			}
		case OptSACK:
			if len(data)%8 == 0 && len(data) > 0 {
				o.Has |= HasSACK
				for i := 0; i+8 <= len(data) && o.NumSACK < len(o.SACK); i += 8 {
					o.SACK[o.NumSACK] = SACKBlock{binary.BigEndian.Uint32(data[i:]), binary.BigEndian.Uint32(data[i+4:])}
					o.NumSACK++
				}
				return true
			}
		case OptTimestamps:
			if len(data) == 8 {
				o.Has |= HasTimestamps
				o.TSVal = binary.BigEndian.Uint32(data)
				o.TSEcr = binary.BigEndian.Uint32(data[4:])
				return true
			}
		case OptMD5:
			o.Has |= HasMD5
			return true
		case OptMPTCP:
			o.Has |= HasMPTCP
			return true
		case OptFastOpen:
			o.Has |= HasFastOpen
			return true
		default:
			o.Has |= HasOther
			return true
		}
		o.Malformed = true
		return true
	}, &o.Malformed)
}

// ForEachOption calls fn for each option in opts (NOP and End included, with
// nil data) until fn returns false. A truncated or impossible option stops
// the walk and sets *bad.
func ForEachOption(opts []byte, fn func(kind uint8, data []byte) bool, bad *bool) {
	for len(opts) > 0 {
		kind := opts[0]
		if kind == OptEnd {
			fn(kind, nil)
			return
		}
		if kind == OptNOP {
			if !fn(kind, nil) {
				return
			}
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || opts[1] < 2 || int(opts[1]) > len(opts) {
			*bad = true
			return
		}
		n := int(opts[1])
		if !fn(kind, opts[2:n]) {
			return
		}
		opts = opts[n:]
	}
}
