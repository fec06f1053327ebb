package http1

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
	"github.com/wiresleuth/wiresleuth/capture"
)

// output collects what a decoder emits.
type output struct {
	recs []app.Record
	txs  []app.Transaction
}

func (o *output) out() app.Output {
	return app.Output{
		Sink:   func(t app.Transaction) { o.txs = append(o.txs, t) },
		Record: func(r app.Record) { o.recs = append(o.recs, r) },
	}
}

func (o *output) requests() (rs []*Request) {
	for _, r := range o.recs {
		if q, ok := r.(*Request); ok {
			rs = append(rs, q)
		}
	}
	return rs
}

func (o *output) responses() (rs []*Response) {
	for _, r := range o.recs {
		if q, ok := r.(*Response); ok {
			rs = append(rs, q)
		}
	}
	return rs
}

func (o *output) summaries() (rs []*ConnSummary) {
	for _, r := range o.recs {
		if q, ok := r.(*ConnSummary); ok {
			rs = append(rs, q)
		}
	}
	return rs
}

// decodeCapture runs every TCP connection of a capture through its own
// decoder, with Bytes split into pieces of at most chunk bytes.
func decodeCapture(t testing.TB, path string, opt apptest.Options, chunk int) *output {
	t.Helper()
	conns, err := apptest.Load(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	o := &output{}
	for _, c := range conns {
		if c.Proto == 6 {
			c.Replay(New(o.out()), chunk)
		}
	}
	return o
}

// feed is a scripted connection for unit tests.
type feed struct {
	c     *Conn
	frame int64
}

func newFeed(o *output) *feed { return &feed{c: New(o.out())} }

func (f *feed) pos() app.Pos {
	f.frame++
	return app.Pos{Frame: f.frame, Time: capture.Time(f.frame * 1e6)}
}

func (f *feed) client(s string) *feed { f.c.Bytes(app.Client, []byte(s), f.pos()); return f }
func (f *feed) server(s string) *feed { f.c.Bytes(app.Server, []byte(s), f.pos()); return f }
func (f *feed) gap(side app.Side, n int64) *feed {
	f.c.Gap(side, n, f.pos())
	return f
}
func (f *feed) close(side app.Side, reset bool) *feed {
	f.c.Close(side, reset, f.pos())
	return f
}
func (f *feed) end() { f.c.End(f.pos()) }
