package reasm

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/tshark"
)

// asciiFollow renders a connection's calls as tshark's -z follow,tcp,ascii
// prints a stream: one chunk per Bytes call, a gap as tshark's
// "[N bytes missing in capture file]" text (NUL-terminated), the server's
// chunks indented.
func asciiFollow(r *recorder, node0, node1 string) string {
	var b strings.Builder
	b.WriteString("\n===================================================================\n")
	fmt.Fprintf(&b, "Follow: tcp,ascii\nFilter: tcp.stream eq 0\nNode 0: %s\nNode 1: %s\n", node0, node1)
	for _, e := range r.events {
		var chunk string
		switch e.kind {
		case 'B':
			chunk = e.data
		case 'G':
			chunk = fmt.Sprintf("[%d bytes missing in capture file]\x00", e.n)
		default:
			continue
		}
		indent := ""
		if e.side == app.Server {
			indent = "\t"
		}
		fmt.Fprintf(&b, "%s%d\n", indent, len(chunk))
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			if c < 0x20 && c != '\r' && c != '\n' && c != '\t' || c > 0x7e {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteByte('\n')
	}
	b.WriteString("===================================================================\n")
	return b.String()
}

// TestSuiteFollowBadSegments is Wireshark's own follow test
// (test/suite_follow.py, on tcp-badsegments.pcap: swapped, overlapping,
// out-of-order, missing-but-acknowledged segments): our calls, printed the
// way tshark prints its follow, chunk for chunk, equal tshark's output.
func TestSuiteFollowBadSegments(t *testing.T) {
	file := filepath.Join(corpus.Peers(t), "wireshark", "captures", "tcp-badsegments.pcap")
	conns := reassemble(t, file, Options{}, nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0]
	got := asciiFollow(c.rec, c.client.String(), c.server.String())
	want := tshark.Run(t, "-r", file, "-q", "-z", "follow,tcp,ascii,0")
	if got != want {
		t.Errorf("ours:\n%s\ntshark:\n%s", got, want)
	}
}
