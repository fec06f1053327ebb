package oncrpc

import "encoding/binary"

// xdr reads XDR items (RFC 4506) from a byte slice without allocating.
// The first failure sticks: every later read returns zero values, so a
// decoder reads a whole structure and checks ok() once.
type xdr struct {
	b   []byte
	off int
	// short: the data ended before the item (the record was cut by the
	// prefix cap, a gap or the end of the capture).
	short bool
	// bad: a length from the wire exceeded its cap.
	bad bool
}

func (x *xdr) ok() bool { return !x.short && !x.bad }

func (x *xdr) rest() int { return len(x.b) - x.off }

func (x *xdr) take(n int) []byte {
	if !x.ok() {
		return nil
	}
	if n < 0 || n > x.rest() {
		x.short = true
		return nil
	}
	p := x.b[x.off : x.off+n]
	x.off += n
	return p
}

func (x *xdr) u32() uint32 {
	p := x.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (x *xdr) i32() int32 { return int32(x.u32()) }

func (x *xdr) u64() uint64 {
	p := x.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

// opaque reads variable-length opaque data or a string of at most max
// bytes, skipping the padding to the next 4-byte boundary. A longer length
// from the wire marks the reader bad: such a length is not data but damage.
func (x *xdr) opaque(max int) []byte {
	n := x.u32()
	if !x.ok() {
		return nil
	}
	if n > uint32(max) {
		x.bad = true
		return nil
	}
	p := x.take(int(n))
	if pad := (4 - int(n)%4) % 4; pad > 0 && x.ok() {
		if x.rest() < pad {
			x.short = true
			return nil
		}
		x.off += pad
	}
	return p
}

// more reads the "value follows" boolean of an XDR optional-data list.
func (x *xdr) more() bool {
	v := x.u32()
	if v > 1 {
		x.bad = true
	}
	return v == 1 && x.ok()
}
