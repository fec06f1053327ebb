package oncrpc

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// Captures made on the Linux stack by testdata/capture.sh: rpcbind in a
// network namespace, queried by rpcinfo and by testdata/rpcpeer.

func logDecoded(t *testing.T, d *decoded) {
	t.Helper()
	for _, tx := range d.txns {
		t.Logf("frame %d: %s | %s | %s | %s %s", tx.RequestAt.Frame, tx.Operation, tx.Request, tx.Reply, tx.Status, tx.Error)
	}
	for _, dm := range d.damage {
		t.Logf("damage: %s frame %d %s: %s", dm.Side, dm.At.Frame, dm.Kind, dm.Detail)
	}
}

func TestRealRpcinfo(t *testing.T) {
	const path = "testdata/rpcinfo.pcap"
	d := decodeCapture(t, path, replayOptions{})
	logDecoded(t, d)
	if n := compareWithTshark(t, path, d, nil); n < 300 {
		t.Errorf("only %d field values compared", n)
	}
	if n := checkOutcomes(t, path, d, nil); n != len(d.txns) || n == 0 {
		t.Errorf("checked %d of %d transactions", n, len(d.txns))
	}
	if len(d.damage) != 0 {
		t.Errorf("damage on a clean capture: %v", d.damage)
	}
	// rpcinfo -T tcp/udp HOST 100000 asks for version 0 first to learn the
	// range, and a version rpcbind lacks gets the same answer.
	var mismatch int
	for _, tx := range d.txns {
		if tx.Error == "PROG_MISMATCH" {
			mismatch++
			if tx.Reply != "PROG_MISMATCH: server supports versions 2-4" {
				t.Errorf("PROG_MISMATCH reply %q", tx.Reply)
			}
		}
	}
	if mismatch != 4 {
		t.Errorf("%d PROG_MISMATCH replies, want 4 (version 0 and 7, TCP and UDP)", mismatch)
	}
}

func TestRealRpcpeer(t *testing.T) {
	const path = "testdata/rpcpeer.pcap"
	d := decodeCapture(t, path, replayOptions{})
	logDecoded(t, d)
	n := compareWithTshark(t, path, d, explained{
		{48, "*"}: "a call with RPC version 3: tshark does not decode it as RPC",
		{104, "rpc.repframe"}: "a duplicate reply: tshark pairs it with the first call of the XID (101), " +
			"already answered in 102; we pair it with the retransmission in 103, which was waiting",
		{104, "rpc.time"}: "measured from the call each side paired the reply with (see rpc.repframe)",
	})
	if n < 250 {
		t.Errorf("only %d field values compared", n)
	}
	if n := checkOutcomes(t, path, d, map[int64]string{
		48:  "RPC version 3: tshark does not decode the call",
		103: "the retransmission, paired differently (see frame 104)",
	}); n != len(d.txns)-2 {
		t.Errorf("checked %d of %d transactions", n, len(d.txns))
	}
	// What rpcpeer provoked (testdata/rpcpeer/main.go), by XID.
	want := map[string]app.Status{
		"0x5ee10004": app.StatusError,   // PROG_UNAVAIL
		"0x5ee10007": app.StatusNoReply, // RPC version 3: rpcbind closes
		"0x5ee10009": app.StatusNoReply, // three fragments: rpcbind resets
		"0x5ee1000a": app.StatusOK,      // DUMP, two fragments over ten segments
		"0x5ee1000e": app.StatusNoReply, // silent server, TCP
		"0x5ee1000f": app.StatusNoReply, // silent server, UDP
	}
	for _, tx := range d.txns {
		for xid, st := range want {
			if contains(tx.Request, xid) {
				if tx.Status != st {
					t.Errorf("%s: status %s, want %s", tx.Request, tx.Status, st)
				}
				delete(want, xid)
			}
		}
	}
	for xid := range want {
		t.Errorf("no transaction for xid %s", xid)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
