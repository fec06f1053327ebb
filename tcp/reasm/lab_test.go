package reasm

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// Real captures made by testdata/make-captures.sh: the Linux stack under
// path loss, reordering, keep-alives and a zero window, running
// testdata/traffic.py, whose bytes are predictable.

// pattern is traffic.py's pattern(label, n).
func pattern(label string, n int) []byte {
	var b bytes.Buffer
	for k := 0; b.Len() < n; k++ {
		fmt.Fprintf(&b, "%s:%08d\n", label, k)
	}
	return b.Bytes()[:n]
}

// script returns what the client and the server of one connection sent
// for traffic.py's client steps (get:N:LABEL, put:N:LABEL).
func script(steps ...string) (client, server []byte) {
	for _, s := range steps {
		var op, label string
		var n int
		if _, err := fmt.Sscanf(strings.ReplaceAll(s, ":", " "), "%s %d %s", &op, &n, &label); err != nil {
			panic(s)
		}
		switch op {
		case "get":
			client = fmt.Appendf(client, "GET %d %s\n", n, label)
			server = append(server, pattern(label, n)...)
		case "put":
			client = fmt.Appendf(client, "PUT %d %s\n", n, label)
			client = append(client, pattern(label, n)...)
			server = fmt.Appendf(server, "OK %d\n", n)
		}
	}
	return client, server
}

// labScripts are make-captures.sh's client scripts, one entry per
// connection.
var labScripts = map[string][][]string{
	"lab-loss":      {{"get:120000:a", "put:60000:b", "get:30000:c"}, {"get:20000:d"}},
	"lab-reorder":   {{"get:120000:r", "put:60000:s"}},
	"lab-keepalive": {{"put:100000:z", "get:2000:y"}},
}

// TestLabComplete: captured at an endpoint, every byte is in the capture
// (the holes path loss and reordering make are filled by retransmissions
// or late segments), so each direction must come out exactly as sent, with
// no gap, closed by its FIN. Reordering must actually have been buffered.
func TestLabComplete(t *testing.T) {
	for _, name := range []string{"lab-loss-client", "lab-loss-server", "lab-reorder-client", "lab-reorder-server", "lab-keepalive-client"} {
		t.Run(name, func(t *testing.T) {
			scripts := labScripts[name[:strings.LastIndex(name, "-")]]
			conns := reassemble(t, filepath.Join("testdata", name+".pcap"), Options{}, nil)
			if len(conns) != len(scripts) {
				t.Fatalf("%d connections, want %d", len(conns), len(scripts))
			}
			var buffered, retrans, keepalives int64
			for i, c := range conns {
				cl, sv := script(scripts[i]...)
				for side, want := range [][]byte{cl, sv} {
					got := c.rec.stream(app.Side(side))
					if got != string(want)+"|FIN" {
						t.Errorf("connection %d %s: %d bytes, want %d; first difference %s", i, app.Side(side), len(got), len(want)+4,
							firstDifference(pieces{}.add([]byte(got), 0), pieces{}.add(append(want, "|FIN"...), 0)))
					}
					st := c.conn.Stats(app.Side(side))
					if st.Gaps != 0 || st.Inconsistencies != 0 {
						t.Errorf("connection %d %s: %+v", i, app.Side(side), st)
					}
					buffered += int64(st.PeakBuffered)
					retrans += st.Retransmitted
					keepalives += st.KeepAlives
				}
			}
			t.Logf("peak buffered (sum) %d, retransmitted %d bytes", buffered, retrans)
			switch {
			case strings.HasSuffix(name, "-server") || name == "lab-reorder-client":
				// Downstream of the loss or reordering.
				if buffered == 0 {
					t.Errorf("no out-of-order data: the capture shows no reordering")
				}
			case name == "lab-loss-client":
				// Upstream of the server's losses: the client's capture
				// has both copies of what the server retransmitted.
				if retrans == 0 {
					t.Errorf("no retransmission seen")
				}
			}
		})
	}
}

// TestLabCaptureLoss: lab-capture-loss.pcap is lab-reorder-server.pcap
// with every ninth data frame deleted, as a capture that dropped frames the
// receiver got. Every byte delivered must be the sent byte at its offset,
// the gaps must account for the rest, and the ACKs must have revealed them.
func TestLabCaptureLoss(t *testing.T) {
	conns := reassemble(t, filepath.Join("testdata", "lab-capture-loss.pcap"), Options{}, nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	cl, sv := script(labScripts["lab-reorder"][0]...)
	var gaps int64
	for side, want := range [][]byte{cl, sv} {
		checkAgainst(t, conns[0].rec, app.Side(side), want)
		st := conns[0].conn.Stats(app.Side(side))
		if st.AckedGapBytes != st.GapBytes {
			t.Errorf("%s: gaps not revealed by ACKs: %+v", app.Side(side), st)
		}
		gaps += st.GapBytes
	}
	if gaps == 0 {
		t.Error("no gap: frames were deleted")
	}
}

// checkAgainst checks that every byte side delivered is want's byte at
// its offset, and that bytes and gaps add up to len(want).
func checkAgainst(t *testing.T, r *recorder, side app.Side, want []byte) {
	t.Helper()
	off := int64(0)
	for _, e := range r.events {
		if e.side != side {
			continue
		}
		switch e.kind {
		case 'B':
			if off+int64(len(e.data)) > int64(len(want)) || e.data != string(want[off:off+int64(len(e.data))]) {
				t.Errorf("%s: bytes at offset %d (frame %d) differ from what was sent", side, off, e.at.Frame)
				return
			}
			off += int64(len(e.data))
		case 'G':
			off += e.n
		}
	}
	if off != int64(len(want)) {
		t.Errorf("%s: %d bytes and gaps, %d sent", side, off, len(want))
	}
}
