package flow

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestKeySymmetric(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.1")
	k1, d1 := New(6, a, 40000, b, 80)
	k2, d2 := New(6, b, 80, a, 40000)
	if k1 != k2 || d1 == d2 {
		t.Fatalf("keys %v %v dirs %v %v", k1, k2, d1, d2)
	}
	if k1.A().Addr != b || k1.B().Port != 40000 || k1.Src(d1).Addr != a || k1.Dst(d1).Port != 80 {
		t.Fatalf("endpoints %v", k1)
	}
	// Same address both ends: ports decide.
	k3, d3 := New(17, a, 9, a, 8)
	k4, _ := New(17, a, 8, a, 9)
	if k3 != k4 || d3 != BtoA {
		t.Fatal("same-address flows")
	}
	v6 := netip.MustParseAddr("fd77::1")
	k5, _ := New(6, v6, 1, a, 2)
	if k5.A().Addr != a || k5.B().Addr != v6 || k5.B().String() != "[fd77::1]:1" {
		t.Fatalf("mixed families %v", k5)
	}
	if k, _ := New(6, a, 1, b, 2); k == k1 {
		t.Fatal("different ports, same key")
	}
}

func TestKeyAllocFree(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd77::1")
	m := map[Key]int{}
	k, _ := New(6, a, 1, b, 2)
	m[k] = 1
	if n := testing.AllocsPerRun(100, func() {
		k, _ := New(6, a, 1, b, 2)
		_ = m[k]
	}); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

func TestIPv4FastPathMatchesGeneral(t *testing.T) {
	a, b := netip.MustParseAddr("192.168.1.9"), netip.MustParseAddr("10.1.2.3")
	for _, c := range [][4]uint16{{1, 2}, {2, 1}, {5, 5}} {
		k1, d1 := New(6, a, c[0], b, c[1])
		s, d := a.As4(), b.As4()
		k2, d2 := NewIPv4(6, binary.BigEndian.Uint32(s[:]), c[0], binary.BigEndian.Uint32(d[:]), c[1])
		if k1 != k2 || d1 != d2 || !k1.Equal(k2) {
			t.Fatalf("%v %v vs %v %v", k1, d1, k2, d2)
		}
		// The same as the generic 16-byte path would give.
		k3, d3 := New(6, netip.AddrFrom16(a.As16()), c[0], netip.AddrFrom16(b.As16()), c[1])
		if k3 != k1 || d3 != d1 {
			t.Fatalf("mapped path differs: %v %v vs %v %v", k3, d3, k1, d1)
		}
	}
}

func TestEqual(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.0.1")
	k, _ := New(6, a, 1, b, 2)
	for _, o := range []Key{
		func() Key { k, _ := New(6, a, 1, b, 3); return k }(),
		func() Key { k, _ := New(17, a, 1, b, 2); return k }(),
		func() Key { k, _ := New(6, a, 1, netip.MustParseAddr("10.0.0.3"), 2); return k }(),
		func() Key { k, _ := New(6, netip.MustParseAddr("fd00::1"), 1, b, 2); return k }(),
	} {
		if k.Equal(o) || k == o {
			t.Fatalf("%v equal to %v", k, o)
		}
	}
	k2, _ := New(6, b, 2, a, 1)
	if !k.Equal(k2) {
		t.Fatal("same flow not equal")
	}
}
