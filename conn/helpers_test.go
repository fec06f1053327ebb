package conn_test

import (
	"errors"
	"io"
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/packet"
)

// run feeds a capture file through a Tracker and returns the records in
// the order they were finalised.
func run(t testing.TB, path string, opt conn.Options) []*conn.Record {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []*conn.Record
	tr := conn.New(opt, func(rec *conn.Record) { recs = append(recs, rec) })
	d := conn.NewDecoder()
	var p packet.Packet
	for f, err := range r.Frames() {
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		d.Decode(f, &p)
		tr.Observe(&p, nil)
	}
	tr.Finish()
	return recs
}
