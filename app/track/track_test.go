package track

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

func testdata(pkg, name string) string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", pkg, "testdata", name)
}

// run tracks a capture and returns its conns (when they ended) and
// transactions.
func run(t *testing.T, file string) (conns []Conn, txns []app.Transaction, recs []app.Record) {
	t.Helper()
	tr, err := New(Options{Protocols: Protocols(),
		Output: func(*Conn) app.Output {
			return app.Output{Sink: func(x app.Transaction) { txns = append(txns, x) }, Record: func(r app.Record) { recs = append(recs, r) }}
		},
		Ended: func(c *Conn) { conns = append(conns, *c) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Run(file, pipeline.Options{}, func(p *pipeline.Packet) error { tr.Packet(p); return nil }); err != nil {
		t.Fatal(err)
	}
	tr.Finish()
	return conns, txns, recs
}

// TestOrientation: the SYN's sender is the client; a UDP exchange's first
// sender is, even from a privileged port (an NFS client's 801 to 2049).
func TestOrientation(t *testing.T) {
	conns, txns, _ := run(t, testdata("oncrpc", "nfs-errors.pcap"))
	var udp, tcp int
	for _, c := range conns {
		if c.Protocol != "oncrpc" {
			t.Errorf("%v → %v: protocol %q", c.Client, c.Server, c.Protocol)
		}
		if c.Server.Port != 2049 && c.Server.Port != 20048 && c.Server.Port != 4045 || c.Client.Addr.String() != "192.0.2.10" {
			t.Errorf("%v → %v (stream %d)", c.Client, c.Server, c.Stream)
		}
		if c.UDP() {
			udp++
		} else {
			tcp++
		}
	}
	if udp != 2 || tcp != 2 || len(txns) != 13 {
		t.Errorf("%d UDP, %d TCP conns, %d transactions", udp, tcp, len(txns))
	}
	// Finish ends what is open in the order it began.
	for i := 1; i < len(conns); i++ {
		if conns[i].First.Frame < conns[i-1].First.Frame {
			t.Errorf("conn %d began at frame %d, before %d", i, conns[i].First.Frame, conns[i-1].First.Frame)
		}
	}
}

// TestFields: the per-frame table keeps only the fields asked for, adds
// the protocol name, and leaves summaries out.
func TestFields(t *testing.T) {
	file := testdata("http1", "http.pcap")
	keep := map[string]bool{"http": true, "http.response.code": true, "http.conn.requests": true}
	table, _, err := Fields(file, pipeline.Options{}, func(n string) bool { return keep[n] })
	if err != nil {
		t.Fatal(err)
	}
	_, _, recs := run(t, file)
	codes, summaries := 0, 0
	for _, r := range recs {
		switch r := r.(type) {
		case *http1.Response:
			codes++
			row := table[r.Done().Frame]
			found := false
			for _, f := range row {
				found = found || f.Name == "http.response.code" && f.Num == uint64(r.Code)
			}
			if !found {
				t.Errorf("frame %d: no code %d in %v", r.Done().Frame, r.Code, row)
			}
		case *http1.ConnSummary:
			summaries++
		}
		if ProtocolOf(r) == "" {
			if _, ok := r.(*http1.ConnSummary); !ok {
				t.Errorf("%T has no protocol", r)
			}
		}
	}
	for frame, row := range table {
		for _, f := range row {
			if !keep[f.Name] || f.Name == "http.conn.requests" {
				t.Errorf("frame %d: %s kept", frame, f.Name)
			}
		}
		if row[0].Name != "http" {
			t.Errorf("frame %d starts with %s", frame, row[0].Name)
		}
	}
	if codes < 15 || summaries == 0 {
		t.Errorf("%d responses, %d summaries", codes, summaries)
	}
}
