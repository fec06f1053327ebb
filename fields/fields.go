// Package fields names the values of a decoded packet the way tshark does
// (frame.len, ip.src, tcp.seq, tcp.analysis.retransmission …), so that
// `wiresleuth packets -T fields -e …` prints what tshark prints and display
// filters (-Y) compare the same values. Each field yields its occurrences
// in tshark's order (outer tunnel layers, the packet, the header an ICMP
// error quotes) as typed Values; Append formats them as tshark does.
package fields

import (
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Kind is how a value prints and compares.
type Kind uint8

const (
	Uint     Kind = iota // decimal
	Hex                  // 0x%0*x with the field's width
	Int                  // signed decimal
	Bool                 // 1 or 0
	Present              // a field that only exists (prints 1), like tshark's expert items
	Addr                 // IP address
	MAC                  // 6 bytes, colon-separated
	Seconds              // a time or duration in nanoseconds, printed as seconds with 9 decimals
	FlagsStr             // tcp.flags.str: 12 characters, "·" for a clear bit
	String               // text from the wire (an application field), printed as it is
)

// Value is one occurrence of a field.
type Value struct {
	Kind  Kind
	Width uint8 // hex digits
	N     int64 // Uint, Hex, Int, Bool, Seconds, FlagsStr
	IP    netip.Addr
	HW    [6]byte
	S     string // String
}

// Context is what a field can be extracted from: one decoded packet and,
// for TCP, its analysis.
type Context struct {
	P       *packet.Packet
	A       *tcp.Annotation // nil when the packet is not TCP
	First   capture.Time    // timestamp of the capture's first frame
	Prev    capture.Time    // timestamp of the previous frame
	Pcapng  bool            // frame.interface_id exists only in pcapng
	UDPConv int64           // udp.stream, -1 if not UDP
	// App holds the application fields shown on this frame (see
	// RegisterApp): those of the messages whose last byte it carried,
	// in message order. Nil when no application decoding ran.
	App []app.Field
}

// Field describes one extractable field.
type Field struct {
	Name string
	Doc  string
	// Values appends the field's occurrences in c to out.
	Values func(c *Context, out []Value) []Value
	// App says the field comes from application decoding (Context.App),
	// which needs a pass over the capture before the frames are shown.
	App bool
}

var registry = map[string]*Field{}

func register(fs ...Field) {
	for i := range fs {
		f := fs[i]
		registry[f.Name] = &f
	}
}

// Lookup returns the named field.
func Lookup(name string) (*Field, bool) {
	f, ok := registry[name]
	return f, ok
}

// Names lists every field, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Append formats v as tshark prints it.
func (v Value) Append(b []byte) []byte {
	switch v.Kind {
	case Uint, Bool:
		return strconv.AppendUint(b, uint64(v.N), 10)
	case Int:
		return strconv.AppendInt(b, v.N, 10)
	case Present:
		return append(b, '1')
	case Hex:
		b = append(b, '0', 'x')
		var digits [16]byte
		s := strconv.AppendUint(digits[:0], uint64(v.N), 16)
		for i := len(s); i < int(v.Width); i++ {
			b = append(b, '0')
		}
		return append(b, s...)
	case Addr:
		return v.IP.AppendTo(b)
	case MAC:
		const hexd = "0123456789abcdef"
		for i, c := range v.HW {
			if i > 0 {
				b = append(b, ':')
			}
			b = append(b, hexd[c>>4], hexd[c&15])
		}
		return b
	case Seconds:
		return capture.Time(v.N).AppendEpoch(b)
	case String:
		return append(b, v.S...)
	case FlagsStr:
		// Bits from the reserved ones down to FIN, as tshark lays them out.
		const letters = "RRRACEUAPRSF" // tshark 4.0 calls the former NS bit AE (accurate ECN)
		for i := 0; i < 12; i++ {
			if v.N&(1<<(11-i)) != 0 {
				b = append(b, letters[i])
			} else {
				b = append(b, "·"...)
			}
		}
		return b
	}
	return b
}

// AppendAll formats all occurrences joined by aggregator, as tshark's
// -E occurrence=a does.
func AppendAll(b []byte, vs []Value, aggregator byte) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, aggregator)
		}
		b = v.Append(b)
	}
	return b
}

func u(n int64) Value            { return Value{Kind: Uint, N: n} }
func hex(n int64, w uint8) Value { return Value{Kind: Hex, N: n, Width: w} }
func boolean(ok bool) Value {
	if ok {
		return Value{Kind: Bool, N: 1}
	}
	return Value{Kind: Bool}
}
func seconds(d time.Duration) Value { return Value{Kind: Seconds, N: int64(d)} }
func present() Value                { return Value{Kind: Present} }
