package stall

import (
	"slices"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// spaced is how failures relate to the time since the previous
// connection from the same client to the same server.
type spaced struct {
	failed, ok       int
	failMin, failMax time.Duration
	okMin            time.Duration
}

// MinSpacingSample is how many failed and how many successful connections
// (each with a previous one to measure from) the spacing comparison needs.
const MinSpacingSample = 2

// spacing compares, for the connections to server in ds, the time since
// the previous connection from the same client host with whether they
// failed (stalled, or an application error) or completed. It reports only
// a clean separation: every failure started sooner after its predecessor
// than every success.
func spacing(ds *detect.Dataset, server flow.Endpoint, ss []*stalled, vi int) (spaced, bool) {
	var out spaced
	var bs []*detect.Brief
	for i := range ds.Briefs {
		b := &ds.Briefs[i]
		if b.Proto == conn.ProtoTCP && b.Resp == server {
			bs = append(bs, b)
		}
	}
	slices.SortFunc(bs, func(a, b *detect.Brief) int { return int(a.Start - b.Start) })
	byClient := map[flow.Endpoint][]*stalled{}
	for _, s := range ss {
		byClient[s.client] = append(byClient[s.client], s)
	}
	stalledAt := func(b *detect.Brief) bool {
		for _, s := range byClient[b.Orig] {
			if near(s.viewAt(vi).f.First.Time, b.Start) {
				return true
			}
		}
		return false
	}
	prev := map[string]*detect.Brief{}
	for _, b := range bs {
		host := b.Orig.Addr.String()
		p := prev[host]
		prev[host] = b
		if p == nil {
			continue
		}
		gap := b.Start.Sub(p.Start)
		failed := stalledAt(b)
		if a := ds.Apps[b.Stream]; a != nil && b.Stream >= 0 && a.Errors > 0 {
			failed = true
		}
		switch {
		case failed:
			if out.failed == 0 || gap < out.failMin {
				out.failMin = gap
			}
			out.failMax = max(out.failMax, gap)
			out.failed++
		case b.Outcome == detect.Completed && b.HandshakeDone:
			if out.ok == 0 || gap < out.okMin {
				out.okMin = gap
			}
			out.ok++
		}
	}
	if out.failed < MinSpacingSample || out.ok < MinSpacingSample || out.failMax >= out.okMin {
		return out, false
	}
	return out, true
}
