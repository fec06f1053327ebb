package appfail

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/detect"
)

// Slow reports latency outliers of an operation against its own
// distribution.
var Slow = &detect.Detector{
	ID:       "app.slow",
	Doc:      "requests answered far slower than the same operation usually is on the same server (median and median absolute deviation, at least 20 samples)",
	Requires: []*detect.Observer{Transport},
	Run:      runSlow,
}

// Outlier rules. An operation needs MinSamples answered requests to one
// server. A latency is an outlier above the median by more than eight
// robust standard deviations (1.4826 × the median absolute deviation),
// more than five times the median, and more than SlowFloor: a user does not
// notice less. Outliers must be few (at most a tenth of the samples):
// otherwise the operation is simply slow at times, and that is its
// distribution, not an outlier.
const (
	MinSamples = 20
	SlowFloor  = 200 * time.Millisecond
	slowSigmas = 8
	slowRatio  = 5
)

func runSlow(p *detect.Pass) error {
	for _, ds := range p.Datasets {
		v := newView(ds)
		var order []opKey
		groups := map[opKey][]txn{}
		for _, x := range v.txns {
			t := x.t
			if t.Status != app.StatusOK && t.Status != app.StatusError || t.RequestAt.Frame == 0 || t.Latency <= 0 {
				continue
			}
			k := opKey{t.Protocol, x.server(), t.Operation}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], x)
		}
		for _, k := range order {
			if f, ok := slowFinding(v, groups[k]); ok {
				p.Report(f)
			}
		}
	}
	return nil
}

// Robust returns the median and the median absolute deviation of ds.
func Robust(ds []time.Duration) (median, mad time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	median = mid(s)
	for i, d := range s {
		s[i] = max(d-median, median-d)
	}
	slices.Sort(s)
	return median, mid(s)
}

func mid(s []time.Duration) time.Duration {
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Threshold is the latency above which a sample of a distribution with
// this median and MAD is an outlier.
func Threshold(median, mad time.Duration) time.Duration {
	sigma := time.Duration(1.4826 * float64(mad))
	return max(median+slowSigmas*sigma, slowRatio*median, median+SlowFloor)
}

func slowFinding(v *view, xs []txn) (detect.Finding, bool) {
	if len(xs) < MinSamples {
		return detect.Finding{}, false
	}
	lat := make([]time.Duration, len(xs))
	for i, x := range xs {
		lat[i] = x.t.Latency
	}
	med, mad := Robust(lat)
	thr := Threshold(med, mad)
	var slow []txn
	for _, x := range xs {
		if x.t.Latency > thr {
			slow = append(slow, x)
		}
	}
	if len(slow) == 0 || len(slow) > max(1, len(xs)/10) {
		return detect.Finding{}, false
	}
	slices.SortStableFunc(slow, func(a, b txn) int { return int(b.t.Latency - a.t.Latency) })
	worst := slow[0].t.Latency
	first := xs[0]
	srv := first.server()
	sev := detect.Info
	if worst >= time.Second {
		sev = detect.Warning
	}
	f := detect.Finding{
		Severity:   sev,
		Title:      fmt.Sprintf("%s to %s: %d answered in %s or more (usually %s)", phrase(first.t, 2), srv, len(slow), ms(slow[len(slow)-1].t.Latency), ms(med)),
		Affected:   len(slow),
		OutOf:      len(xs),
		Comparable: fmt.Sprintf("answered %s to %s", phrase(first.t, 2), srv),
		Score:      float64(connections(slow)),
		Key:        first.t.Protocol + "\x00" + srv.String() + "\x00" + first.t.Operation,
	}
	var lats []string
	for i, x := range slow {
		if i == 5 {
			lats = append(lats, "…")
			break
		}
		lats = append(lats, ms(x.t.Latency))
	}
	retrans, retried := 0, 0
	for _, x := range slow {
		if sv := v.stream(x); sv != nil && sv.Retransmits[0]+sv.Retransmits[1] > 0 {
			retrans++
		}
		if x.t.Protocol == "dns" && dnsTries(x.t) > 1 {
			retried++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "In %s, %s from %s to %s answered in a median of %s (median absolute deviation %s, %d answered); %d took %s, beyond %s. ",
		v.ds.Name, phrase(first.t, 2), joinAnd(clients(xs)), srv, ms(med), ms(mad), len(xs), len(slow), strings.Join(lats, ", "), ms(thr))
	switch {
	case retried == len(slow):
		b.WriteString("Each was answered only after the client sent the query again: the first query or its answer was lost, and the client's retry timer set the delay.")
	case retrans == len(slow):
		b.WriteString("Each was on a connection that retransmitted: the delay is TCP recovering lost segments (look at the loss findings), not the server.")
	case retrans > 0 || retried > 0:
		fmt.Fprintf(&b, "%d of them were on connections that retransmitted (or queries sent again), so loss explains those; the others the server took that long to answer.", retrans+retried)
	default:
		b.WriteString("None of their connections retransmitted: the server (or what it waits on) took that long to answer.")
	}
	tFirst, tLast := slow[0].t.RequestAt.Time, slow[0].t.RequestAt.Time
	for _, x := range slow {
		tFirst, tLast = min(tFirst, x.t.RequestAt.Time), max(tLast, x.t.RequestAt.Time)
	}
	if len(slow) > 1 && tLast.Sub(tFirst) < 10*time.Second {
		fmt.Fprintf(&b, " They were sent within %s of each other: a stall at that time rather than a steady tail.", ms(tLast.Sub(tFirst)))
	}
	f.Explanation = b.String()
	for i, x := range slow {
		f.AddConn(v.conn(x))
		if i >= maxExamples {
			continue
		}
		f.AddEvidence(detect.Packet(v.ds, ref(x.t.RequestAt), fmt.Sprintf("%s from %s", x.t.Request, x.client())))
		f.AddEvidence(detect.Packet(v.ds, ref(x.t.ReplyAt), fmt.Sprintf("answered %s later (median %s)", ms(x.t.Latency), ms(med))))
	}
	f.AddFact("protocol", first.t.Protocol)
	f.AddFact("operation", first.t.Operation)
	f.AddFact("server", srv.String())
	f.AddFact("samples", strconv.Itoa(len(xs)))
	f.AddFact("outliers", strconv.Itoa(len(slow)))
	f.AddFact("median_ms", fmt.Sprintf("%.3f", float64(med)/1e6))
	f.AddFact("threshold_ms", fmt.Sprintf("%.3f", float64(thr)/1e6))
	f.AddFact("max_ms", fmt.Sprintf("%.3f", float64(worst)/1e6))
	if retrans+retried < len(slow) {
		f.NextSteps = append(f.NextSteps, fmt.Sprintf("Look at %s's own metrics and logs at these times (request duration, backend or disk latency, pauses); the requests are cited below.", srv.Addr))
	}
	if retrans+retried > 0 {
		f.NextSteps = append(f.NextSteps, "Find where the retransmitted packets were lost (capture at both ends; the path.lost and stall findings name the segments).")
	}
	return f, true
}
