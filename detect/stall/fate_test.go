package stall

import "testing"

func TestLostBetween(t *testing.T) {
	S, U, N := Seen, Unseen, NotCaptured
	cases := []struct {
		sight      []Sighting
		fromClient bool
		a, z       int
		ok         bool
	}{
		{[]Sighting{S, S, U, U}, true, 1, 2, true},
		{[]Sighting{U, U, S, S}, false, 2, 1, true},
		{[]Sighting{S, N, U, U}, true, 0, 2, true}, // a capture without the connection is skipped
		{[]Sighting{S, U, S, U}, true, 0, 0, false},
		{[]Sighting{S, S, S, S}, true, 0, 0, false}, // seen everywhere: the ACKs got lost
		{[]Sighting{U, U}, true, 0, 0, false},
		{[]Sighting{S}, true, 0, 0, false},
	}
	for _, c := range cases {
		a, z, ok := lostBetween(c.sight, c.fromClient)
		if ok != c.ok || ok && (a != c.a || z != c.z) {
			t.Errorf("lostBetween(%v, %v) = %d, %d, %v; want %d, %d, %v", c.sight, c.fromClient, a, z, ok, c.a, c.z, c.ok)
		}
	}
}
