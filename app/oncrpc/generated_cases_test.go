package oncrpc

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// Generated captures (generated_test.go) of what cannot run here, decoded
// and compared with tshark's decoding of the same files.

func TestGlusterMountFailure(t *testing.T) {
	const path = "testdata/gluster-mount-failure.pcap"
	d := decodeCapture(t, path, replayOptions{})
	logDecoded(t, d)
	compareWithTshark(t, path, d, nil)
	if n := checkOutcomes(t, path, d, nil); n != len(d.txns) {
		t.Errorf("checked %d of %d transactions", n, len(d.txns))
	}
	ops := map[string]int{}
	for _, tx := range d.txns {
		ops[tx.Operation+" "+tx.Status.String()]++
	}
	want := map[string]int{
		"GlusterFS Handshake GETSPEC ok": 1,
		"Gluster Dump DUMP ok":           3, // on glusterd, one per brick
		"Gluster Portmap PORTBYBRICK ok": 3,
		"Gluster Dump DUMP no-reply":     1, // on the brick that accepted and never answered
	}
	if !equalCounts(ops, want) {
		t.Errorf("transactions %v, want %v", ops, want)
	}
	for _, tx := range d.txns {
		if tx.Status == app.StatusNoReply && tx.Latency != 0 {
			t.Errorf("no-reply transaction with latency %v", tx.Latency)
		}
	}
}

func TestGlusterQemuImgEACCES(t *testing.T) {
	const path = "testdata/gluster-qemu-img.pcap"
	d := decodeCapture(t, path, replayOptions{})
	logDecoded(t, d)
	compareWithTshark(t, path, d, nil)
	if n := checkOutcomes(t, path, d, nil); n != len(d.txns) {
		t.Errorf("checked %d of %d transactions", n, len(d.txns))
	}
	var failed int
	for _, tx := range d.txns {
		if tx.Status != app.StatusError {
			continue
		}
		failed++
		if tx.Operation != "GlusterFS Handshake SETVOLUME" || tx.Error != "EACCES" ||
			!strings.Contains(tx.Reply, "errno 13 EACCES (Permission denied)") ||
			!strings.Contains(tx.Reply, `"Authentication failed"`) {
			t.Errorf("failed transaction %+v", tx)
		}
	}
	if failed != 2 {
		t.Errorf("%d failed transactions, want one SETVOLUME per brick", failed)
	}
	// The user story reads this reply in Wireshark as "GlusterFS Handshake:
	// DUMP (1)": Wireshark's value string for glusterfs.hndsk.proc calls
	// procedure 1 DUMP, while its procedure table and GlusterFS call it
	// SETVOLUME. Check that tshark still says so, and that we do not.
	out := tsharkVerbose(t, path, "frame.number==29")
	if !strings.Contains(out, "[GlusterFS Handshake: DUMP (1)]") || !strings.Contains(out, "Errno: 13 (Permission denied)") {
		t.Errorf("tshark no longer shows the story's labels:\n%s", out)
	}
	if n := ProcedureName(ProgGlusterHandshk, 2, 1); n != "SETVOLUME" {
		t.Errorf("handshake procedure 1 named %q", n)
	}
}

func TestGlusterFops(t *testing.T) {
	const path = "testdata/gluster-fops.pcap"
	d := decodeCapture(t, path, replayOptions{})
	logDecoded(t, d)
	compareWithTshark(t, path, d, explained{
		{22, "gluster.op_ret"}: "GlusterFS procedure 41 is RELEASE; Wireshark 4.0's table has FORGET there " +
			"and RELEASE at 42, so it leaves the reply undecoded",
		{22, "gluster.op_errno"}: "as gluster.op_ret",
	})
	if n := checkOutcomes(t, path, d, nil); n != len(d.txns) {
		t.Errorf("checked %d of %d transactions", n, len(d.txns))
	}
	errs := map[string]string{}
	for _, tx := range d.txns {
		errs[tx.Operation] = tx.Error
	}
	want := map[string]string{"GlusterFS Handshake SETVOLUME": "", "GlusterFS LOOKUP": "ENOENT",
		"GlusterFS CREATE": "EACCES", "GlusterFS STATFS": "", "GlusterFS RELEASE": ""}
	if len(errs) != len(want) {
		t.Errorf("operations %v, want %v", errs, want)
	}
	for op, e := range want {
		if got, ok := errs[op]; !ok || got != e {
			t.Errorf("%s: error %q, want %q", op, got, e)
		}
	}
	if out := tsharkVerbose(t, path, "frame.number==20"); !strings.Contains(out, "proc-41") {
		t.Errorf("tshark now names GlusterFS procedure 41; revisit the FORGET note:\n%s", out)
	}
}

func TestNFSErrors(t *testing.T) {
	const path = "testdata/nfs-errors.pcap"
	d := decodeCapture(t, path, replayOptions{})
	logDecoded(t, d)
	const rpcv3 = "a call with RPC version 3 and its RPC_MISMATCH reply: tshark does not take the call for RPC, " +
		"so it cannot match the reply either"
	compareWithTshark(t, path, d, explained{{56, "*"}: rpcv3, {58, "*"}: rpcv3})
	if n := checkOutcomes(t, path, d, map[int64]string{56: rpcv3}); n != len(d.txns)-1 {
		t.Errorf("checked %d of %d transactions", n, len(d.txns))
	}
	var errs []string
	for _, tx := range d.txns {
		if tx.Error != "" {
			errs = append(errs, tx.Error)
		}
		if tx.Status == app.StatusNoReply && !strings.Contains(tx.Request, "retransmitted 2x") {
			t.Errorf("unanswered UDP call: %q does not count its retransmissions", tx.Request)
		}
	}
	want := "MNT3ERR_ACCES NFS3ERR_NOENT NFS3ERR_ACCES NFS3ERR_STALE SYSTEM_ERR AUTH_ERROR/AUTH_TOOWEAK " +
		"PROG_MISMATCH RPC_MISMATCH NLM4_DENIED"
	if got := strings.Join(errs, " "); got != want {
		t.Errorf("errors %s\nwant   %s", got, want)
	}
}

// TestNFSWriteFragments checks the WRITE call sent as three fragments over
// seven segments against tshark's reassembly.
func TestNFSWriteFragments(t *testing.T) {
	const path = "testdata/nfs-errors.pcap"
	var write *Message
	h := Handler{Message: func(m *Message) {
		if m.Type == Call && m.Program == ProgNFS && m.Procedure == 7 {
			c := *m
			write = &c
		}
	}}
	replay(t, path, func() app.Stream { return NewStream(h) }, func() app.Datagrams { return NewDatagrams(h) }, replayOptions{})
	if write == nil {
		t.Fatal("no WRITE call")
	}
	ts := tsharkFields(t, path, []string{"rpc.fraglen", "rpc.fragment.count", "nfs.procedure_v3"})
	var frags []string
	for f := write.At.Frame; f <= write.EndAt.Frame; f++ {
		frags = append(frags, ts[f]["rpc.fraglen"]...)
	}
	if write.Fragments != len(frags) || write.Fragments != 3 {
		t.Errorf("fragments: ours %d, tshark's fragment headers %v", write.Fragments, frags)
	}
	if got := ts[write.EndAt.Frame]["nfs.procedure_v3"]; len(got) == 0 || got[0] != "7" {
		t.Errorf("tshark shows the reassembled WRITE in frame %d as %v", write.EndAt.Frame, got)
	}
	if write.At.Frame == write.EndAt.Frame || write.Cut || write.Len < 9000 {
		t.Errorf("WRITE: frames %d-%d, %d bytes, cut %v", write.At.Frame, write.EndAt.Frame, write.Len, write.Cut)
	}
}

func tsharkVerbose(t *testing.T, path, filter string) string {
	t.Helper()
	out, err := exec.Command("tshark", "-r", path, "-V", "-Y", filter).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	return string(out)
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
