package tls

// reader reads big-endian fields from a byte slice; reading past the end
// sets bad and yields zeros, so parsers check once at the end of a block.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.bad, r.b = true, nil
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad, r.b = true, nil
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n > len(r.b) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// vec8 and vec16 read a vector with a 1- or 2-byte length prefix.
func (r *reader) vec8() reader  { return reader{b: r.bytes(int(r.u8())), bad: r.bad} }
func (r *reader) vec16() reader { return reader{b: r.bytes(int(r.u16())), bad: r.bad} }

func (r *reader) empty() bool { return len(r.b) == 0 }
