// Package seqnum is TCP sequence-space arithmetic (RFC 9293 §3.4): 32-bit
// values that wrap, compared by the sign of their 32-bit difference, and
// sizes that measure the distance between them. Keeping Value and Size
// distinct types stops a length being compared as a position.
package seqnum

// Value is a position in a TCP sequence space.
type Value uint32

// Size is a number of sequence-space units (bytes, plus one for SYN and FIN).
type Size uint32

// LessThan reports v < w in sequence space.
func (v Value) LessThan(w Value) bool { return int32(v-w) < 0 }

// LessThanEq reports v <= w in sequence space.
func (v Value) LessThanEq(w Value) bool { return int32(v-w) <= 0 }

// GreaterThan reports v > w in sequence space.
func (v Value) GreaterThan(w Value) bool { return int32(v-w) > 0 }

// InRange reports a <= v < b.
func (v Value) InRange(a, b Value) bool { return v-a < b-a }

// InWindow reports whether v lies in the window of size s starting at first.
func (v Value) InWindow(first Value, s Size) bool { return v.InRange(first, first.Add(s)) }

// Add returns v advanced by s.
func (v Value) Add(s Size) Value { return v + Value(s) }

// Sub returns the distance from w forward to v.
func (v Value) Sub(w Value) Size { return Size(v - w) }

// Max returns the later of v and w.
func Max(v, w Value) Value {
	if v.LessThan(w) {
		return w
	}
	return v
}
