package conn

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
)

// TestTimerHeap checks the heap against a sorted list: random timers,
// inactivity timers taken out by index, analyzer timers made stale by
// epoch, connections recycled; what pops is every live timer, in (time,
// insertion) order, and the inactivity indexes always point home.
func TestTimerHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tr := &Tracker{}
	conns := make([]*connState, 64)
	for i := range conns {
		conns[i] = &connState{inTable: true, gen: 1}
	}
	type want struct {
		at  capture.Time
		seq uint64
	}
	var live []want
	check := func() {
		for i := range tr.timers.h {
			e := &tr.timers.h[i]
			if e.kind == tInactivity && e.valid() && int(e.c.inactIdx) != i+1 {
				t.Fatalf("inactivity timer at %d, index says %d", i, e.c.inactIdx-1)
			}
		}
	}
	for step := 0; step < 20000; step++ {
		c := conns[r.IntN(len(conns))]
		switch op := r.IntN(10); {
		case op < 4:
			tr.schedule(c, tExpire, capture.Time(r.IntN(1000)))
		case op < 6:
			// Replace the inactivity timer, as setInactivityTimeout does.
			tr.cancelInactivityTimer(c)
			tr.schedule(c, tInactivity, capture.Time(r.IntN(1000)))
		case op < 7:
			tr.cancelAnalyzerTimers(c)
		case op < 8:
			tr.cancelInactivityTimer(c)
		default:
			// Recycle the connection: all its timers go stale.
			tr.cancelInactivityTimer(c)
			tr.timers.live -= int(c.analyzerTimers)
			c.analyzerTimers = 0
			c.gen++
		}
		if step%997 == 0 {
			check()
		}
	}
	check()
	for _, e := range tr.timers.h {
		if e.valid() {
			live = append(live, want{e.at, e.seq})
		}
	}
	if tr.timers.live != len(live) {
		t.Errorf("live count %d, %d timers valid", tr.timers.live, len(live))
	}
	slices.SortFunc(live, func(a, b want) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return int(a.seq - b.seq)
	})
	var got []want
	for len(tr.timers.h) > 0 {
		e := tr.timers.pop()
		if e.valid() {
			if e.kind == tInactivity {
				e.c.inactIdx = 0
			}
			got = append(got, want{e.at, e.seq})
		}
	}
	if !slices.Equal(got, live) {
		t.Errorf("popped %d timers out of order or wrong, want %d", len(got), len(live))
	}
}
