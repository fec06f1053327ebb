package seqnum

import "testing"

func TestWrap(t *testing.T) {
	cases := []struct {
		v, w Value
		less bool
	}{
		{1, 2, true}, {2, 1, false}, {0xfffffff0, 0x10, true}, {0x10, 0xfffffff0, false}, {5, 5, false},
		{0, 0x7fffffff, true}, {0, 0x80000001, false},
	}
	for _, c := range cases {
		if got := c.v.LessThan(c.w); got != c.less {
			t.Errorf("%#x < %#x = %v, want %v", c.v, c.w, got, c.less)
		}
		if c.v != c.w && c.w.GreaterThan(c.v) != c.less {
			t.Errorf("%#x > %#x disagrees with LessThan", c.w, c.v)
		}
	}
	if !Value(0xffffffff).Add(2).InRange(0xfffffff0, 0x10) {
		t.Error("wrapped value not in wrapped range")
	}
	if Value(5).Sub(0xfffffffe) != 7 {
		t.Error("distance across the wrap")
	}
	if !Value(100).InWindow(90, 11) || Value(101).InWindow(90, 11) {
		t.Error("window bounds")
	}
	if Max(0xfffffff0, 3) != 3 {
		t.Error("max across the wrap")
	}
}
