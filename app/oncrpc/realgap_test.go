package oncrpc

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// Real captures with frames removed, as if the capture had missed them.

// tsharkFrames returns the frames matching a display filter, with the
// fields asked for.
func tsharkFrames(t *testing.T, path, filter string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-r", path, "-Y", filter, "-T", "fields", "-e", "frame.number"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

func frameSet(frames ...int64) func(int64) bool {
	return func(f int64) bool {
		for _, g := range frames {
			if f == g {
				return true
			}
		}
		return false
	}
}

func atoi(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A lost call record: the marking is found again on the next call.
func TestRealLostCall(t *testing.T) {
	const path = "testdata/rpcinfo.pcap"
	rows := tsharkFrames(t, path, "tcp && rpc.msgtyp==0 && rpc.programversion==2 && rpc.procedure==0")
	if len(rows) != 1 {
		t.Fatalf("NULL v2 call frames: %v", rows)
	}
	lost := atoi(t, rows[0][0])
	clean := decodeCapture(t, path, replayOptions{})
	d := decodeCapture(t, path, replayOptions{drop: frameSet(lost)})
	logDecoded(t, d)
	if len(d.txns) != len(clean.txns)-1 {
		t.Errorf("%d transactions, clean %d", len(d.txns), len(clean.txns))
	}
	for _, tx := range d.txns {
		if tx.RequestAt.Frame == lost || tx.Status != app.StatusOK && tx.Error != "PROG_MISMATCH" && tx.Error != "NOT_REGISTERED" {
			t.Errorf("after the loss: %+v", tx)
		}
	}
	var kinds []string
	for _, dm := range d.damage {
		kinds = append(kinds, dm.Kind.String())
	}
	if strings.Join(kinds, " ") != "gap resync" {
		t.Errorf("damage %v", d.damage)
	}
}

// A lost segment inside a reply's only fragment: the marking survives and
// the status is still known.
func TestRealLostSegmentInsideFragment(t *testing.T) {
	const path = "testdata/rpcinfo.pcap"
	dump := tsharkFrames(t, path, "tcp && rpc.msgtyp==1 && rpc.programversion==2 && rpc.procedure==4", "tcp.stream")
	if len(dump) != 1 {
		t.Fatalf("DUMP reply frames: %v", dump)
	}
	segs := tsharkFrames(t, path, "tcp.srcport==111 && tcp.len>0 && tcp.stream=="+dump[0][1])
	if len(segs) < 3 {
		t.Fatalf("DUMP reply in %d segments", len(segs))
	}
	lost := atoi(t, segs[1][0])
	d := decodeCapture(t, path, replayOptions{drop: frameSet(lost)})
	var found bool
	for _, tx := range d.txns {
		if tx.Operation == "Portmap DUMP" {
			found = true
			if tx.Status != app.StatusOK || strings.Contains(tx.Reply, "entries") {
				t.Errorf("DUMP with a segment lost: %s %q", tx.Status, tx.Reply)
			}
		}
	}
	if !found || len(d.damage) != 1 || d.damage[0].Kind != DamageGap {
		t.Errorf("found %v, damage %v", found, d.damage)
	}
}

// rpcbind (libtirpc) writes each fragment of its two-fragment DUMP reply
// on its own, so a segment ends where the first fragment ends. Losing that
// segment keeps the marking (the gap ends the fragment exactly); losing the
// next one, which starts with the second fragment's header, loses it:
// nothing follows to resynchronise on, and the call is incomplete rather
// than unanswered.
func TestRealLostFragmentBoundary(t *testing.T) {
	const path = "testdata/rpcpeer.pcap"
	dump := tsharkFrames(t, path, "tcp && rpc.msgtyp==1 && rpc.procedure==4", "tcp.stream")
	if len(dump) != 1 {
		t.Fatalf("DUMP reply: %v", dump)
	}
	frags := tsharkFrames(t, path, "tcp.srcport==111 && rpc.fraglen && tcp.stream=="+dump[0][1], "rpc.fraglen")
	if len(frags) != 2 {
		t.Fatalf("DUMP reply fragments: %v", frags)
	}
	first := atoi(t, frags[0][1]) + 4
	var ending, starting, off int64
	for _, s := range tsharkFrames(t, path, "tcp.srcport==111 && tcp.len>0 && tcp.stream=="+dump[0][1], "tcp.len") {
		n := atoi(t, s[1])
		if off+n == first {
			ending = atoi(t, s[0])
		}
		if off == first {
			starting = atoi(t, s[0])
		}
		off += n
	}
	if ending == 0 || starting == 0 {
		t.Fatalf("no segment ends or starts at the fragment boundary (%d bytes)", first)
	}
	for _, c := range []struct {
		drop   int64
		status app.Status
		damage string
	}{{ending, app.StatusOK, "gap"}, {starting, app.StatusIncomplete, "gap no-sync"}} {
		d := decodeCapture(t, path, replayOptions{drop: frameSet(c.drop)})
		for _, tx := range d.txns {
			if tx.Operation == "Portmap DUMP" && tx.Status != c.status {
				t.Errorf("frame %d lost: DUMP %s %q, want %s", c.drop, tx.Status, tx.Reply, c.status)
			}
		}
		var kinds []string
		for _, dm := range d.damage {
			kinds = append(kinds, dm.Kind.String())
		}
		if strings.Join(kinds, " ") != c.damage {
			t.Errorf("frame %d lost: damage %v", c.drop, d.damage)
		}
	}
}
