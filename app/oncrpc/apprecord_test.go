package oncrpc

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

// TestMessageRecordFields: the typed fields of a MessageRecord print
// exactly as Message.Fields writes them, on every message of every capture
// in testdata, and records arrive through Protocol's Open functions with
// the frames of their messages.
func TestMessageRecordFields(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.pcap")
	if len(paths) < 5 {
		t.Fatalf("only %d captures", len(paths))
	}
	n := 0
	for _, path := range paths {
		var col apptest.Collector
		var msgs []Message
		out := col.Output()
		replay(t, path, func() app.Stream {
			return Protocol.OpenStream(app.Output{Sink: out.Sink, Record: out.Record})
		}, func() app.Datagrams {
			return Protocol.OpenDatagrams(out)
		}, replayOptions{})
		h := Handler{Message: func(m *Message) { msgs = append(msgs, *m) }}
		replay(t, path, func() app.Stream { return NewStream(h) }, func() app.Datagrams { return NewDatagrams(h) }, replayOptions{})
		recs := apptest.Of[*MessageRecord](&col)
		if len(recs) != len(msgs) || len(recs) == 0 {
			t.Fatalf("%s: %d records, %d messages", path, len(recs), len(msgs))
		}
		for i, r := range recs {
			m := &msgs[i]
			if r.At() != m.At || r.Done() != m.EndAt {
				t.Errorf("%s: record %d at %v-%v, message %v-%v", path, i, r.At(), r.Done(), m.At, m.EndAt)
			}
			var want, got []string
			for k, v := range m.Fields() {
				want = append(want, k+"="+v)
			}
			for f := range r.Fields {
				got = append(got, f.Name+"="+apptest.Format(f))
			}
			// tshark's repetitions (TestMessageRecordRepeats) aside.
			got = slices.CompactFunc(got, func(a, b string) bool {
				return a == b && (strings.HasPrefix(a, "rpc.programversion=") || strings.HasPrefix(a, "rpc.procedure="))
			})
			if apptest.Join(got) != apptest.Join(want) {
				t.Errorf("%s: frame %d:\n got %v\nwant %v", path, m.EndAt.Frame, got, want)
			}
			n++
		}
	}
	t.Logf("%d messages", n)
}

// TestTransactionDetail: transactions that did not end OK carry the reply
// (or the unanswered call) as a typed record; OK ones carry none.
func TestTransactionDetail(t *testing.T) {
	d := decodeCapture(t, "testdata/rpcinfo.pcap", replayOptions{})
	seen := 0
	for _, tx := range d.txns {
		r, _ := tx.Detail.(*MessageRecord)
		switch {
		case tx.Status == app.StatusOK && tx.Detail != nil:
			t.Errorf("%s: OK with a detail", tx.Request)
		case tx.Status != app.StatusOK && r == nil:
			t.Errorf("%s: %v without a detail", tx.Request, tx.Status)
		case tx.Error == "PROG_MISMATCH":
			seen++
			if r.Msg.Program != ProgPortmap || r.Msg.Low != 2 || r.Msg.High != 4 || r.Msg.Type != Reply {
				t.Errorf("%s: detail %+v", tx.Request, r.Msg)
			}
		}
	}
	if seen == 0 {
		t.Error("no PROG_MISMATCH in rpcinfo.pcap")
	}
}

// TestMessageRecordRepeats: rpc.programversion (and for a version tshark
// does not know, rpc.procedure) appear twice where tshark's program
// subtree repeats them, as `tshark -T fields` on examples/oncrpc shows:
// "4,4" on the GETADDR call and reply, "5,5" and procedure "0,0" on the
// call to version 5, "5" on its PROG_MISMATCH reply.
func TestMessageRecordRepeats(t *testing.T) {
	var col apptest.Collector
	replay(t, "../../examples/oncrpc/01-client.pcap", func() app.Stream { return Protocol.OpenStream(col.Output()) },
		func() app.Datagrams { return Protocol.OpenDatagrams(col.Output()) }, replayOptions{})
	got := apptest.Ours(col.Recs, []string{"rpc.programversion", "rpc.procedure"})
	for frame, want := range map[int64]string{6: "4,4 3", 8: "4,4 3", 56: "5,5 0,0", 58: "5 0", 66: "3,3 0", 68: "3 0"} {
		if g := got[frame]["rpc.programversion"] + " " + got[frame]["rpc.procedure"]; g != want {
			t.Errorf("frame %d: %q, want %q", frame, g, want)
		}
	}
}
