package flow

import (
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
