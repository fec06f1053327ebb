package reasm

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

// zeekEscapes undoes Zeek's \xHH escaping of bytes in its logs.
var zeekEscapes = regexp.MustCompile(`\\x([0-9a-f]{2})`)

func unescapeZeek(s string) string {
	return zeekEscapes.ReplaceAllStringFunc(s, func(m string) string {
		b, _ := strconv.ParseUint(m[2:], 16, 8)
		return string([]byte{byte(b)})
	})
}

// TestQuantumInsert reassembles Zeek's Quantum Insert trace: a forged
// 43-byte reply races the server's real one to the same sequence number.
// The forged copy, first, wins; the real one is reported as inconsistent
// with exactly the bytes Zeek's rexmit_inconsistency event shows (t1 the
// first copy, t2 the overlapping part of the second).
func TestQuantumInsert(t *testing.T) {
	dir := filepath.Join(corpus.Peers(t), "zeek")
	want, err := os.ReadFile(filepath.Join(dir, "tcp-quantum-insert.out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var t1, t2 string
	for _, line := range strings.Split(string(want), "\n") {
		if _, v, ok := strings.Cut(line, " t1: "); ok {
			t1 = unescapeZeek(v)
		}
		if _, v, ok := strings.Cut(line, " t2: "); ok {
			t2 = unescapeZeek(v)
		}
	}
	if t1 == "" || t2 == "" {
		t.Fatalf("no t1/t2 in Zeek's baseline:\n%s", want)
	}
	type report struct {
		side     app.Side
		frame    int64
		old, new string
	}
	var got []report
	opt := Options{OnInconsistency: func(side app.Side, at app.Pos, seq seqnum.Value, old, new []byte) {
		got = append(got, report{side, at.Frame, string(old), string(new)})
	}}
	conns := reassemble(t, filepath.Join(dir, "tcp-quantum-insert.pcap"), opt, nil)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	if len(got) != 1 {
		t.Fatalf("inconsistencies: %+v", got)
	}
	if r := got[0]; r.side != app.Server || r.frame != 9 || r.old != t1 || r.new != t2 {
		t.Errorf("got %+v\nwant server frame 9 old %q new %q", r, t1, t2)
	}
	st := conns[0].conn.Stats(app.Server)
	if st.Inconsistencies != 1 || st.FirstInconsistency.Frame != 9 {
		t.Errorf("stats %+v", st)
	}
	// The client saw the forged reply and the rest of the real one.
	if s := conns[0].rec.stream(app.Server); !strings.HasPrefix(s, t1) || len(s) != 348+len("|FIN") {
		t.Errorf("server stream %q", s)
	}
}
