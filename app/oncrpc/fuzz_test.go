package oncrpc

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// Fuzz inputs are scripts: each step is a 3-byte header (op, length) and
// data. op bit 0 is the side; bit 1 makes the step a gap of length bytes
// instead of data; op 0xff closes the side in bit 0 of the next byte.

func runScript(t *testing.T, script []byte, feed func(side app.Side, b []byte, gap int, at app.Pos)) {
	frame := int64(1)
	for len(script) >= 3 {
		op, n := script[0], int(binary.BigEndian.Uint16(script[1:]))
		script = script[3:]
		side := app.Side(op & 1)
		if op&2 != 0 {
			feed(side, nil, n, pos(frame))
		} else {
			n = min(n, len(script))
			feed(side, script[:n], 0, pos(frame))
			script = script[n:]
		}
		frame++
	}
}

// scriptOf turns client and server streams into a script that sends them
// in steps of at most chunk bytes, client first.
func scriptOf(chunk int, streams ...[]byte) []byte {
	var out []byte
	for side, b := range streams {
		for len(b) > 0 {
			n := min(chunk, len(b))
			out = append(out, byte(side), byte(n>>8), byte(n))
			out = append(out, b[:n]...)
			b = b[n:]
		}
	}
	return out
}

func datagramScript(msgs ...[]byte) []byte {
	var out []byte
	for i, m := range msgs {
		out = append(out, byte(i%2), byte(len(m)>>8), byte(len(m)))
		out = append(out, m...)
	}
	return out
}

// checkInvariants: whatever the input, every call waiting is reported once
// at End, nothing stays behind, and buffers stay within their caps.
func checkInvariants(t *testing.T, c *conv, calls, txns int) {
	if len(c.calls) != 0 || len(c.order) != 0 {
		t.Fatalf("state left after End: %d calls, %d in order", len(c.calls), len(c.order))
	}
	if txns > calls {
		t.Fatalf("%d transactions for %d calls", txns, calls)
	}
}

func FuzzStream(f *testing.F) {
	c := sampleConversation()
	f.Add(scriptOf(1<<16-1, c.calls, c.replies))
	f.Add(scriptOf(7, c.calls, c.replies))
	f.Add(append(scriptOf(100, c.calls[:150]), append([]byte{2, 0, 30}, scriptOf(1000, c.calls[180:], c.replies)...)...))
	f.Fuzz(func(t *testing.T, script []byte) {
		var calls, txns int
		s := NewStream(Handler{
			Transaction: func(app.Transaction) { txns++ },
			Message: func(m *Message) {
				if m.Type == Call && !m.Dup && !oneWay(m.Program) {
					calls++
				}
				_ = m.Name()
				for range m.Fields() {
				}
				// The typed view parses what Fields wrote.
				r := MessageRecord{Msg: *m}
				for f := range r.Fields {
					if f.Kind == app.FieldString && f.Name != "portmap.rpcb.netid" && f.Name != "portmap.uaddr" &&
						f.Name != "gluster.brick" && f.Name != "glusterfs.hndsk.getspec.key" && f.Name != "mount.path" {
						t.Fatalf("%s=%q is not numeric", f.Name, f.Str)
					}
				}
			},
		})
		runScript(t, script, func(side app.Side, b []byte, gap int, at app.Pos) {
			if gap > 0 {
				s.Gap(side, int64(gap), at)
			} else {
				s.Bytes(side, b, at)
			}
			for i := range s.sides {
				r := &s.sides[i]
				if len(r.rec) > MaxPrefix || len(r.scan) > maxScan || len(r.scanAt) > 65 {
					t.Fatalf("side %d: rec %d, scan %d, positions %d", i, len(r.rec), len(r.scan), len(r.scanAt))
				}
			}
		})
		s.End(pos(1 << 20))
		checkInvariants(t, &s.conv, calls, txns)
		if txns != calls {
			t.Fatalf("%d transactions for %d calls", txns, calls)
		}
	})
}

func FuzzDatagram(f *testing.F) {
	f.Add(datagramScript(
		callMsg(1, ProgNFS, 3, 1, AuthSys, authSys("c", 1, 1), xdrw().opaque(make([]byte, 32)).bytes()),
		replyOK(1, xdrw().u32(70).bytes()),
		callMsg(2, ProgNLM, 4, 2, AuthNone, nil, nil),
		replyOK(2, xdrw().opaque([]byte{1}).u32(1).bytes()),
		callMsg(3, ProgPortmap, 3, 3, AuthNone, nil, xdrw().u32(ProgMount, 3).str("udp").str("").str("").bytes()),
		replyOK(3, xdrw().str("").bytes()),
		callMsg(4, ProgGlusterDump, 1, 1, AuthNone, nil, nil),
		glusterDumpReply(4),
		callMsg(5, ProgGlusterPmap, 1, 1, AuthNone, nil, xdrw().str("/b").bytes()),
		replyDenied(5, AuthError, 13),
	))
	f.Fuzz(func(t *testing.T, script []byte) {
		var calls, txns int
		d := NewDatagrams(Handler{
			Transaction: func(app.Transaction) { txns++ },
			Message: func(m *Message) {
				if m.Type == Call && !m.Dup && !oneWay(m.Program) {
					calls++
				}
				for range m.Fields() {
				}
			},
		})
		runScript(t, script, func(side app.Side, b []byte, gap int, at app.Pos) {
			if gap == 0 {
				d.Datagram(side, b, at)
			}
		})
		d.End(pos(1 << 20))
		checkInvariants(t, &d.conv, calls, txns)
		if txns != calls {
			t.Fatalf("%d transactions for %d calls", txns, calls)
		}
	})
}

// TestWriteFuzzSeeds writes the seeds above, and streams from the real
// and generated captures, to testdata/fuzz (with -update).
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("writes seeds with -update")
	}
	write := func(target, name string, script []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(script)))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := sampleConversation()
	write("FuzzStream", "sample-whole", scriptOf(1<<16-1, c.calls, c.replies))
	write("FuzzStream", "sample-bytes", scriptOf(3, c.calls, c.replies))
	for _, name := range []string{"rpcinfo.pcap", "rpcpeer.pcap", "gluster-qemu-img.pcap", "nfs-errors.pcap"} {
		var streams [][2][]byte
		var dgrams [][]byte
		rec := func() app.Stream {
			streams = append(streams, [2][]byte{})
			return &captureStream{i: len(streams) - 1, streams: &streams}
		}
		replay(t, "testdata/"+name, rec, func() app.Datagrams { return &captureDatagrams{out: &dgrams} }, replayOptions{})
		for i, s := range streams {
			if len(s[0])+len(s[1]) > 0 && len(s[0])+len(s[1]) < 8<<10 {
				write("FuzzStream", fmt.Sprintf("%s-%d", name, i), scriptOf(1448, s[0], s[1]))
			}
		}
		if len(dgrams) > 0 {
			write("FuzzDatagram", name, datagramScript(dgrams...))
		}
	}
}

type captureStream struct {
	i       int
	streams *[][2][]byte
}

func (c *captureStream) Bytes(side app.Side, b []byte, _ app.Pos) {
	(*c.streams)[c.i][side] = append((*c.streams)[c.i][side], b...)
}
func (c *captureStream) Gap(app.Side, int64, app.Pos)  {}
func (c *captureStream) Close(app.Side, bool, app.Pos) {}
func (c *captureStream) End(app.Pos)                   {}

type captureDatagrams struct{ out *[][]byte }

func (c *captureDatagrams) Datagram(_ app.Side, b []byte, _ app.Pos) {
	*c.out = append(*c.out, append([]byte(nil), b...))
}
func (c *captureDatagrams) End(app.Pos) {}
