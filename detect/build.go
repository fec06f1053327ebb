package detect

import (
	"math/rand/v2"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// BuildOptions describe one capture to build a dataset from.
type BuildOptions struct {
	Name, File string
	Detectors  []*Detector
	// Conn configures connection tracking; zero: conn.DefaultOptions.
	Conn *conn.Options
	// NoApp skips application decoding.
	NoApp bool
	// Captures is how many captures are diagnosed together (0 or 1: this
	// one alone); observers marked MultiOnly run only when it is above 1.
	Captures int
}

// Build makes one pass over a capture and returns its dataset. An error
// means the file could not be read at all; damage later in the file is in
// Summary.Damage.
func Build(opt BuildOptions) (*Dataset, error) {
	ds := &Dataset{Name: opt.Name, File: opt.File, Apps: map[int64]*AppConn{}, results: map[*Observer]any{}}
	var keeps []func(*conn.Record) bool
	var observers []*Observer
	seen := map[*Observer]bool{}
	for _, d := range opt.Detectors {
		if d.Keep != nil {
			keeps = append(keeps, d.Keep)
		}
		for _, o := range d.Requires {
			if o.MultiOnly && opt.Captures < 2 {
				continue
			}
			if !seen[o] {
				seen[o] = true
				observers = append(observers, o)
			}
		}
	}
	obs := make([]Observation, len(observers))
	for i, o := range observers {
		obs[i] = o.New()
	}
	copt := conn.DefaultOptions()
	if opt.Conn != nil {
		copt = *opt.Conn
	}
	rng := rand.New(rand.NewPCG(1, 2)) // deterministic sampling of briefs
	tr := conn.New(copt, func(r *conn.Record) { ds.add(r, keeps, rng) })
	var apps *appTracker
	if !opt.NoApp {
		var err error
		if apps, err = newAppTracker(ds); err != nil {
			return nil, err
		}
	}
	s, err := pipeline.Run(opt.File, pipeline.Options{NewDecoder: conn.NewDecoder}, func(p *pipeline.Packet) error {
		tr.Observe(p.Packet, p.TCP)
		if apps != nil {
			apps.packet(p)
		}
		for _, o := range obs {
			o.Packet(p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	tr.Finish()
	if apps != nil {
		apps.finish()
	}
	ds.Summary = s
	for i, o := range observers {
		ds.results[o] = obs[i].Finish()
	}
	return ds, nil
}

func (ds *Dataset) add(r *conn.Record, keeps []func(*conn.Record) bool, rng *rand.Rand) {
	ds.Total++
	b := brief(r)
	for _, k := range keeps {
		if k(r) {
			if len(ds.Conns) < MaxKept {
				ds.Conns = append(ds.Conns, r)
				b.Kept = true
			} else {
				ds.NotKept++
			}
			break
		}
	}
	// Reservoir sampling keeps a uniform sample once the cap is reached.
	if len(ds.Briefs) < MaxBriefs {
		ds.Briefs = append(ds.Briefs, b)
	} else if j := rng.IntN(ds.Total); j < MaxBriefs {
		ds.Briefs[j] = b
	}
}
