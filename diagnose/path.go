package diagnose

import (
	"fmt"

	"github.com/wiresleuth/wiresleuth/correlate"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/report"
)

// pathOf describes the vantage points for the report: each capture's
// clock relative to the first, estimated from matched packets, and each
// segment between two captures (packets matched, lost and injected each
// way, one-way delays, NAT). Without a correlation only the names are
// given.
func pathOf(datasets []*detect.Dataset, p *correlate.Path) *report.Path {
	rp := &report.Path{}
	for _, ds := range datasets {
		rp.Vantages = append(rp.Vantages, report.Vantage{Name: ds.Name})
	}
	if p == nil {
		return rp
	}
	for v := range rp.Vantages {
		c := p.Clock(v)
		rv := &rp.Vantages[v]
		if v > 0 && c.Known {
			rv.OffsetS, rv.OffsetErrS, rv.DriftPPM, rv.OneSided = c.Offset.Seconds(), c.Err.Seconds(), c.DriftPPM, c.OneSided
		}
	}
	for _, s := range p.Segments() {
		rs := report.Segment{From: p.Name(s.From), To: p.Name(s.To), Connections: s.Conns, Matched: s.Matched,
			OffsetS: s.Offset.Seconds(), OffsetErrS: s.Err.Seconds()}
		if s.OverlapEnd > s.OverlapStart {
			rs.OverlapStart, rs.OverlapEnd = s.OverlapStart.String(), s.OverlapEnd.String()
		}
		for d, sd := range s.Dir {
			x := report.SegmentDir{Matched: sd.Matched, Lost: sd.Lost, Injected: sd.Injected, TTLDecrement: sd.TTLDecrement}
			if sd.Delay.N > 0 {
				x.DelayP50S, x.DelayP99S, x.DelayMaxS = sd.Delay.P50.Seconds(), sd.Delay.P99.Seconds(), sd.Delay.Max.Seconds()
			}
			if d == 0 {
				rs.Down = x
			} else {
				rs.Up = x
			}
		}
		for _, t := range s.Translations {
			rs.NAT = append(rs.NAT, t.Before[0].String()+" → "+t.Before[1].String()+" becomes "+t.After[0].String()+" → "+t.After[1].String())
		}
		rp.Segments = append(rp.Segments, rs)
		// The vantage at the downstream end of a neighbouring segment
		// reports its overlap and matches with the one before it.
		if s.To == s.From+1 {
			rv := &rp.Vantages[s.To]
			rv.MatchedPkts = int64(s.Matched)
			rv.OverlapStart, rv.OverlapEnd = rs.OverlapStart, rs.OverlapEnd
		}
	}
	return rp
}

// unmatchedWarnings names the captures whose clock could not be tied to the
// first one: they share no packets with the others (another path, another
// time), so their findings stand alone and nothing is said of the path to
// them.
func unmatchedWarnings(datasets []*detect.Dataset, p *correlate.Path) []string {
	var w []string
	for v := 1; v < len(datasets); v++ {
		if p == nil || !p.Clock(v).Known {
			w = append(w, fmt.Sprintf("%s (%s) shares no packets with %s: it is diagnosed on its own, and nothing is said about the path between them",
				datasets[v].Name, datasets[v].File, datasets[0].Name))
		}
	}
	return w
}
