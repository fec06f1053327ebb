package correlate

import (
	"math"
	"slices"
)

// clockFit maps capture X's clock onto capture Y's:
// tY ≈ tX + off + drift·(tX − t0) for a packet with no delay.
type clockFit struct {
	ok       bool
	t0       int64
	off      float64 // ns
	drift    float64 // ns per ns
	err      float64 // ns: half the width of the bracket, plus the fit's residual
	oneSided bool    // traffic in one direction only: off is a bound
	n        int
}

func (c *clockFit) at(tx int64) float64 { return c.off + c.drift*float64(tx-c.t0) }

// sample is one matched packet: tY−tX and whether it travelled X→Y.
type sample struct {
	tx   int64
	r    float64
	down bool
}

// quantile returns the q-quantile of sorted values.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	i := int(q * float64(len(v)-1))
	return v[max(0, min(i, len(v)-1))]
}

// envelope returns the robust lower edge of downstream differences and
// upper edge of upstream ones (each skips the most extreme 0.1%, which
// protects the bracket from a rare wrong match).
func envelope(ss []sample, t0 int64, drift float64) (lo float64, hasLo bool, hi float64, hasHi bool) {
	var dn, up []float64
	for _, s := range ss {
		r := s.r - drift*float64(s.tx-t0)
		if s.down {
			dn = append(dn, r)
		} else {
			up = append(up, r)
		}
	}
	if len(dn) > 0 {
		slices.Sort(dn)
		lo, hasLo = dn[len(dn)/1000], true
	}
	if len(up) > 0 {
		slices.Sort(up)
		hi, hasHi = up[len(up)-1-len(up)/1000], true
	}
	return
}

// bracket turns the envelopes into an offset and its uncertainty.
func bracket(ss []sample, t0 int64, drift float64) (off, err float64, oneSided bool, width float64) {
	lo, hasLo, hi, hasHi := envelope(ss, t0, drift)
	switch {
	case hasLo && hasHi:
		off = (lo + hi) / 2
		err = math.Abs(lo-hi) / 2
		return off, err, false, math.Abs(lo - hi)
	case hasLo:
		return lo, 0, true, 0
	default:
		return hi, 0, true, 0
	}
}

// fitClock estimates the offset between two captures, and the drift when
// the matches span long enough for it to show.
func fitClock(ss []sample) clockFit {
	if len(ss) == 0 {
		return clockFit{}
	}
	t0, t1 := ss[0].tx, ss[0].tx
	for _, s := range ss {
		t0, t1 = min(t0, s.tx), max(t1, s.tx)
	}
	c := clockFit{ok: true, t0: t0, n: len(ss)}
	off, err, one, width := bracket(ss, t0, 0)
	c.off, c.err, c.oneSided = off, err, one
	span := float64(t1 - t0)
	if span < 10e9 || len(ss) < 20 {
		c.spread(ss)
		return c
	}
	drift := slopeOf(ss, t0, t1)
	if drift == 0 {
		c.spread(ss)
		return c
	}
	off2, err2, _, width2 := bracket(ss, t0, drift)
	// Keep the drift only if it narrows the bracket (both directions),
	// or, with one direction, if it explains more than the jitter.
	better := !one && width2*1.2+5e3 < width
	if one {
		better = math.Abs(drift)*span > 4*c.jitter(ss, 0) && math.Abs(drift)*span > 20e3
	}
	if better {
		c.off, c.err, c.drift = off2, err2, drift
	}
	c.spread(ss)
	return c
}

// jitter is the spread of the lower (downstream) differences in time
// bins: the part of the bracket that the drift cannot explain.
func (c *clockFit) jitter(ss []sample, drift float64) float64 {
	var dn []float64
	for _, s := range ss {
		if s.down == ss[0].down {
			dn = append(dn, s.r-drift*float64(s.tx-c.t0))
		}
	}
	slices.Sort(dn)
	return quantile(dn, 0.5) - quantile(dn, 0.001)
}

// spread makes a one-sided fit's uncertainty the spread of the delays,
// for want of a bound.
func (c *clockFit) spread(ss []sample) {
	if !c.oneSided {
		return
	}
	c.err = c.jitter(ss, c.drift)
}

// slopeOf estimates the drift: the envelope of each direction in time
// bins, and the Theil–Sen slope (median of pairwise slopes) through the
// bins' edges.
func slopeOf(ss []sample, t0, t1 int64) float64 {
	span := t1 - t0
	nb := int(min(64, max(4, span/2e9)))
	binOf := func(t int64) int { return min(nb-1, int((t-t0)*int64(nb)/(span+1))) }
	lo := make([]float64, nb)
	hi := make([]float64, nb)
	hasLo := make([]bool, nb)
	hasHi := make([]bool, nb)
	for _, s := range ss {
		b := binOf(s.tx)
		if s.down {
			if !hasLo[b] || s.r < lo[b] {
				lo[b], hasLo[b] = s.r, true
			}
		} else if !hasHi[b] || s.r > hi[b] {
			hi[b], hasHi[b] = s.r, true
		}
	}
	mid := func(b int) float64 { return float64(t0) + (float64(b)+0.5)*float64(span)/float64(nb) }
	var slopes []float64
	for _, edge := range []struct {
		v   []float64
		has []bool
	}{{lo, hasLo}, {hi, hasHi}} {
		for a := range nb {
			if !edge.has[a] {
				continue
			}
			for b := a + 1; b < nb; b++ {
				if edge.has[b] {
					slopes = append(slopes, (edge.v[b]-edge.v[a])/(mid(b)-mid(a)))
				}
			}
		}
	}
	if len(slopes) < 3 {
		return 0
	}
	slices.Sort(slopes)
	return slopes[len(slopes)/2]
}
