package apptest

import "github.com/wiresleuth/wiresleuth/app"

// Collector keeps what a decoder emits.
type Collector struct {
	Recs []app.Record
	Txs  []app.Transaction
}

// Output returns an app.Output that appends to c.
func (c *Collector) Output() app.Output {
	return app.Output{
		Sink:   func(t app.Transaction) { c.Txs = append(c.Txs, t) },
		Record: func(r app.Record) { c.Recs = append(c.Recs, r) },
	}
}

// Of returns the records of type T, in order.
func Of[T app.Record](c *Collector) []T {
	var out []T
	for _, r := range c.Recs {
		if v, ok := r.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
