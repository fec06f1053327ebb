package oncrpc

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// tsharkFields runs tshark on path and returns, per frame, each requested
// field's values (all occurrences).
func tsharkFields(t testing.TB, path string, fields []string) map[int64]map[string][]string {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatal("tshark is required (scripts/test.sh installs it):", err)
	}
	args := []string{"-r", path, "-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
		"-E", "aggregator=|", "-e", "frame.number"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	res := map[int64]map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		frame, err := strconv.ParseInt(cols[0], 10, 64)
		if err != nil {
			t.Fatalf("tshark output: %q", sc.Text())
		}
		for i, f := range fields {
			if i+1 < len(cols) && cols[i+1] != "" {
				if res[frame] == nil {
					res[frame] = map[string][]string{}
				}
				res[frame][f] = strings.Split(cols[i+1], "|")
			}
		}
	}
	return res
}

// decoded is what the decoder reported for one capture.
type decoded struct {
	msgs    map[int64]map[string][]string // per frame where tshark shows the message (EndAt)
	txns    []app.Transaction
	damage  []Damage
	count   int                  // messages
	callEnd map[[2]int64]int64   // (first frame, xid) of a call -> its last frame
	replies map[int64][]*Message // matched replies by last frame
}

func decodeCapture(t testing.TB, path string, opt replayOptions) *decoded {
	t.Helper()
	d := &decoded{msgs: map[int64]map[string][]string{}, callEnd: map[[2]int64]int64{},
		replies: map[int64][]*Message{}}
	h := Handler{
		Transaction: func(tx app.Transaction) { d.txns = append(d.txns, tx) },
		Message: func(m *Message) {
			d.count++
			f := d.msgs[m.EndAt.Frame]
			if f == nil {
				f = map[string][]string{}
				d.msgs[m.EndAt.Frame] = f
			}
			for k, v := range m.Fields() {
				f[k] = append(f[k], v)
			}
			if m.Type == Call {
				d.callEnd[[2]int64{m.At.Frame, int64(m.XID)}] = m.EndAt.Frame
			} else if m.Matched {
				c := *m
				d.replies[m.EndAt.Frame] = append(d.replies[m.EndAt.Frame], &c)
			}
		},
		Damage: func(dm Damage) { d.damage = append(d.damage, dm) },
	}
	replay(t, path, func() app.Stream { return NewStream(h) }, func() app.Datagrams { return NewDatagrams(h) }, opt)
	return d
}

// disagreement is a field whose values differ from tshark's on a frame.
type disagreement struct {
	frame int64
	field string
}

// explained lists the disagreements a test expects, each with its reason.
type explained map[disagreement]string

// compareWithTshark checks every field the decoder yields against tshark's
// values on the same frame (as sets: tshark repeats some fields in
// generated subtrees), and that every frame where tshark sees an RPC
// message has one of ours. It returns the number of field values compared.
func compareWithTshark(t *testing.T, path string, d *decoded, want explained) (agreed int) {
	t.Helper()
	names := map[string]bool{"rpc.xid": true}
	for _, f := range d.msgs {
		for k := range f {
			names[k] = true
		}
	}
	fields := make([]string, 0, len(names))
	for k := range names {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	ts := tsharkFields(t, path, fields)
	got := map[disagreement]string{}
	for frame, ours := range d.msgs {
		for _, k := range fields {
			if why, ok := want[disagreement{frame, "*"}]; ok {
				t.Logf("frame %d: not compared (%s)", frame, why)
				break
			}
			o, w := set(ours[k]), set(ts[frame][k])
			if len(o) == 0 {
				continue
			}
			if slices.Equal(o, w) {
				agreed += len(o)
				continue
			}
			got[disagreement{frame, k}] = fmt.Sprintf("ours %v, tshark %v", o, w)
		}
	}
	for frame, theirs := range ts {
		if len(theirs["rpc.xid"]) > 0 && d.msgs[frame] == nil {
			got[disagreement{frame, "rpc.xid"}] = fmt.Sprintf("ours none, tshark %v", theirs["rpc.xid"])
		}
	}
	for k, v := range got {
		if why, ok := want[k]; ok {
			t.Logf("frame %d %s: expected disagreement (%s): %s", k.frame, k.field, why, v)
			continue
		}
		t.Errorf("frame %d %s: %s", k.frame, k.field, v)
	}
	for k, why := range want {
		if _, ok := got[k]; !ok && k.field != "*" {
			t.Errorf("frame %d %s: expected a disagreement (%s), found agreement", k.frame, k.field, why)
		}
	}
	t.Logf("%s: %d field values agree with tshark over %d frames, %d explained disagreements",
		path, agreed, len(d.msgs), len(want))
	return agreed
}

// set returns the distinct non-empty values: tshark prints nothing for an
// empty string.
func set(v []string) []string {
	s := slices.DeleteFunc(slices.Clone(v), func(x string) bool { return x == "" })
	slices.Sort(s)
	return slices.Compact(s)
}

// checkOutcomes checks each transaction's outcome against tshark's view of
// the same capture (two-pass, so that calls know their replies): a
// transaction without a reply must be a call tshark saw unanswered; a
// transaction with one must have tshark's reply, and the error named from
// tshark's status fields must be ours. It returns the transactions checked.
func checkOutcomes(t *testing.T, path string, d *decoded, skip map[int64]string) (checked int) {
	t.Helper()
	cmd := exec.Command("tshark", "-2", "-r", path, "-n", "-T", "fields", "-E", "separator=/t",
		"-E", "occurrence=a", "-E", "aggregator=|", "-e", "frame.number", "-e", "rpc.msgtyp", "-e", "rpc.xid",
		"-e", "rpc.reqframe", "-e", "rpc.repframe", "-e", "rpc.replystat", "-e", "rpc.state_accept",
		"-e", "rpc.state_reject", "-e", "rpc.state_auth", "-e", "gluster.op_ret", "-e", "gluster.op_errno",
		"-e", "nfs.status3", "-e", "mount.status", "-e", "nlm.stat", "-e", "rpc.program", "-e", "rpc.programversion",
		"-e", "rpc.procedure", "-e", "portmap.port", "-e", "portmap.uaddr")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -2: %v", err)
	}
	rows := map[int64][]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		cols := strings.Split(line, "\t")
		f, _ := strconv.ParseInt(cols[0], 10, 64)
		rows[f] = cols
	}
	col := func(f int64, i int) []string {
		c := rows[f]
		if i >= len(c) || c[i] == "" {
			return nil
		}
		return strings.Split(c[i], "|")
	}
	for _, tx := range d.txns {
		var xid uint32
		if i := strings.Index(tx.Request, "xid 0x"); i >= 0 {
			v, _ := strconv.ParseUint(tx.Request[i+6:i+14], 16, 32)
			xid = uint32(v)
		}
		callFrame := d.callEnd[[2]int64{tx.RequestAt.Frame, int64(xid)}]
		if why, ok := skip[callFrame]; ok {
			t.Logf("call in frame %d not checked: %s", callFrame, why)
			continue
		}
		checked++
		xs := "0x" + hex8(xid)
		// tshark's replies to this call: reply frames whose rpc.repframe is
		// the call's frame and whose XID is ours.
		var replies []int64
		for f := range rows {
			for i, x := range col(f, 2) {
				mt, rf := col(f, 1), col(f, 4)
				if x == xs && i < len(mt) && mt[i] == "1" && slices.Contains(rf, strconv.FormatInt(callFrame, 10)) {
					replies = append(replies, f)
				}
			}
		}
		slices.Sort(replies)
		if tx.Status == app.StatusNoReply || tx.Status == app.StatusIncomplete {
			if len(replies) > 0 {
				t.Errorf("%s (call frame %d): ours %s, tshark has replies in frames %v", tx.Operation, callFrame, tx.Status, replies)
			}
			continue
		}
		var mine *Message
		for f, ms := range d.replies {
			for _, m := range ms {
				if m.XID == xid && m.CallAt.Frame == callFrame && m.At == tx.ReplyAt {
					mine = m
					_ = f
				}
			}
		}
		if mine == nil {
			t.Errorf("%s (call frame %d): our reply message not found", tx.Operation, callFrame)
			continue
		}
		rf := mine.EndAt.Frame
		if !slices.Contains(replies, rf) {
			t.Errorf("%s (call frame %d): our reply in frame %d, tshark's in %v", tx.Operation, callFrame, rf, replies)
			continue
		}
		if want := tsharkError(col, rf, xs); want != tx.Error {
			t.Errorf("%s (call frame %d, reply frame %d): error ours %q, from tshark's fields %q", tx.Operation, callFrame, rf, tx.Error, want)
		}
	}
	t.Logf("%s: %d transactions' outcomes agree with tshark's", path, checked)
	return checked
}

// tsharkError names the failure tshark's fields show for the reply with
// XID xs in frame f, with this package's names for the values.
func tsharkError(col func(int64, int) []string, f int64, xs string) string {
	idx := slices.Index(col(f, 2), xs)
	get := func(i int) (uint32, bool) {
		v := col(f, i)
		if idx < 0 || idx >= len(v) {
			return 0, false
		}
		n, err := strconv.ParseInt(v[idx], 10, 64)
		return uint32(n), err == nil
	}
	if rs, _ := get(5); rs == 1 {
		rj, _ := get(7)
		if RejectStat(rj) == AuthError {
			a, _ := get(8)
			return "AUTH_ERROR/" + AuthStat(a).String()
		}
		return RejectStat(rj).String()
	}
	if as, _ := get(6); as != 0 {
		return AcceptStat(as).String()
	}
	if ret, ok := get(9); ok && int32(ret) < 0 {
		e, _ := get(10)
		return ErrnoName(int32(e))
	}
	if s, ok := get(11); ok && s != 0 {
		return NFS3StatName(s)
	}
	if s, ok := get(12); ok && s != 0 {
		return MountStatName(s)
	}
	if s, ok := get(13); ok && s != 0 && s != 3 {
		return NLMStatName(s)
	}
	// A portmap lookup answered with port 0 or an empty address. tshark
	// repeats program fields in generated items, so read them only when the
	// frame holds one reply.
	if len(col(f, 2)) == 1 {
		first := func(i int) string {
			if v := col(f, i); len(v) > 0 {
				return v[0]
			}
			return ""
		}
		if first(14) == "100000" && first(16) == "3" {
			if first(15) == "2" && first(17) == "0" {
				return "NOT_REGISTERED"
			}
			if first(15) != "2" && first(18) == "" {
				return "NOT_REGISTERED"
			}
		}
	}
	return ""
}
