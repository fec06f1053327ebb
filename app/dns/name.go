package dns

import "errors"

var (
	errShort    = errors.New("message ends inside a name")
	errPointer  = errors.New("compression pointer does not point back")
	errPointers = errors.New("too many compression pointers")
	errLong     = errors.New("name longer than 255 octets")
	errLabel    = errors.New("unsupported label type")
)

// readName decodes the name at off in msg (RFC 1035 section 4.1.4) and
// appends it to dst in presentation order ("www.example.com", "." for the
// root). Label bytes are copied as they are. next is where the name ends
// in msg (after the first pointer, if any).
func readName(msg []byte, off int, dst []byte) (name []byte, next int, err error) {
	wire := 0    // octets of the name, as RFC 1035 counts them
	next = -1    // set at the first pointer
	limit := off // a pointer must point before the label that holds it
	jumps := 0
	start := len(dst)
	for {
		if off >= len(msg) {
			return dst, 0, errShort
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			wire += c + 1
			if wire > MaxName {
				return dst, 0, errLong
			}
			if c == 0 {
				if len(dst) == start {
					dst = append(dst, '.')
				}
				if next < 0 {
					next = off + 1
				}
				return dst, next, nil
			}
			if off+1+c > len(msg) {
				return dst, 0, errShort
			}
			if len(dst) > start {
				dst = append(dst, '.')
			}
			dst = append(dst, msg[off+1:off+1+c]...)
			off += 1 + c
		case 0xc0:
			if off+1 >= len(msg) {
				return dst, 0, errShort
			}
			ptr := (c&0x3f)<<8 | int(msg[off+1])
			if next < 0 {
				next = off + 2
			}
			if ptr >= limit {
				return dst, 0, errPointer
			}
			if jumps++; jumps > MaxPointers {
				return dst, 0, errPointers
			}
			off, limit = ptr, ptr
		default:
			return dst, 0, errLabel
		}
	}
}
