package reasm

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/header"
)

// The fuzz input is a sequence of segments of one connection:
//
//	byte 0     options: bit 0 handshake first; bits 1-3 MaxBuffered;
//	           bits 4-5 History
//	bytes 1-8  client ISN, server ISN
//	then 8 bytes per segment:
//	  0    bit 0 server; 1 SYN; 2 FIN; 3 RST; 4 ACK; 5 corrupt; 6 cut;
//	       7 long (the length counts 8-byte units: full-sized segments)
//	  1-2  seq, as a signed offset from the sender's ISN+1
//	  3-4  ack, as a signed offset from the other side's ISN+1
//	  5    payload length
//	  6    bytes captured, when cut (snap length)
//	  7    what a corrupt segment's bytes are XORed with
//
// A segment's bytes are a function of their stream offset, so copies agree
// unless corrupt.
const (
	segSize = 8
	hdrSize = 9
)

func truth(side app.Side, off int32) byte { return byte(off*31+off>>8) + byte(side)*101 }

type fuzzSeg struct {
	side          app.Side
	flags         uint8
	seq, ack      int16
	n, captured   int
	corrupt, xorv byte
}

func decodeFuzz(data []byte) (opt Options, handshake bool, isn [2]uint32, segs []fuzzSeg) {
	if len(data) < hdrSize {
		return opt, false, isn, nil
	}
	handshake = data[0]&1 != 0
	opt.MaxBuffered = []int{96, 192, 384, 768, 2200, 4400, 9000, 65536}[data[0]>>1&7]
	opt.History = []int{0, 16, -1, 1000}[data[0]>>4&3]
	isn[0] = binary.BigEndian.Uint32(data[1:])
	isn[1] = binary.BigEndian.Uint32(data[5:])
	for b := data[hdrSize:]; len(b) >= segSize; b = b[segSize:] {
		s := fuzzSeg{side: app.Side(b[0] & 1), seq: int16(binary.BigEndian.Uint16(b[1:])), ack: int16(binary.BigEndian.Uint16(b[3:])), n: int(b[5])}
		if b[0]&0x80 != 0 {
			s.n *= 8
		}
		for bit, fl := range []uint8{header.FlagSYN, header.FlagFIN, header.FlagRST, header.FlagACK} {
			if b[0]&(2<<bit) != 0 {
				s.flags |= fl
			}
		}
		s.captured = s.n
		if b[0]&0x40 != 0 {
			s.captured = min(s.n, int(b[6])*(s.n/256+1))
		}
		if b[0]&0x20 != 0 {
			s.corrupt, s.xorv = 1, b[7]|1
		}
		if handshake {
			s.flags &^= header.FlagSYN // the handshake fixed the ISNs
		}
		segs = append(segs, s)
	}
	return opt, handshake, isn, segs
}

// encodeFuzz is decodeFuzz's inverse, for seeds.
func encodeFuzz(opt byte, isn [2]uint32, segs []fuzzSeg) []byte {
	b := []byte{opt}
	b = binary.BigEndian.AppendUint32(b, isn[0])
	b = binary.BigEndian.AppendUint32(b, isn[1])
	for _, s := range segs {
		f := byte(s.side)
		for bit, fl := range []uint8{header.FlagSYN, header.FlagFIN, header.FlagRST, header.FlagACK} {
			if s.flags&fl != 0 {
				f |= 2 << bit
			}
		}
		if s.captured < s.n {
			f |= 0x40
		}
		if s.corrupt != 0 {
			f |= 0x20
		}
		n, captured := s.n, s.captured
		if n > 255 {
			f |= 0x80
			n, captured = n/8, captured/(n/256+1)
		}
		b = append(b, f)
		b = binary.BigEndian.AppendUint16(b, uint16(s.seq))
		b = binary.BigEndian.AppendUint16(b, uint16(s.ack))
		b = append(b, byte(n), byte(captured), s.xorv)
	}
	return b
}

// runFuzz feeds the decoded segments to a Conn and checks its promises:
// the app.Stream contract, the bounds on memory, statistics that add up,
// and — after a handshake — every delivered byte in its place, equal to a
// copy that was captured (the only one when no copy was corrupt).
func runFuzz(t *testing.T, data []byte) {
	opt, handshake, isn, segs := decodeFuzz(data)
	r := &recorder{}
	c := New(r, opt)
	corrupt := map[[2]int32][]byte{} // (side, offset) -> corrupt values captured
	frame := int64(0)
	feed := func(side app.Side, seq, ack uint32, flags uint8, payload []byte, wire int) {
		frame++
		p := tcpPacket(frame, tseg{side: side, seq: seq, ack: ack, flags: flags, data: string(payload), wire: wire})
		c.Segment(p, side)
		for s := range c.dir {
			h := &c.dir[s]
			if h.cost > c.maxBuf || h.cost < 0 {
				t.Fatalf("frame %d: %s buffers %d, cap %d", frame, app.Side(s), h.cost, c.maxBuf)
			}
			if cap(h.hist.buf) > max(opt.history(), 0) {
				t.Fatalf("history of %d bytes, cap %d", cap(h.hist.buf), opt.history())
			}
		}
	}
	if handshake {
		feed(app.Client, isn[0], 0, header.FlagSYN, nil, 0)
		feed(app.Server, isn[1], isn[0]+1, header.FlagSYN|header.FlagACK, nil, 0)
	}
	for _, s := range segs {
		base := isn[s.side] + 1
		seq := base + uint32(int32(s.seq))
		start := int32(s.seq)
		if s.flags&header.FlagSYN != 0 {
			start++ // data follows the SYN
		}
		payload := make([]byte, s.captured)
		for i := range payload {
			payload[i] = truth(s.side, start+int32(i))
			if s.corrupt != 0 {
				payload[i] ^= s.xorv
				k := [2]int32{int32(s.side), start + int32(i)}
				corrupt[k] = append(corrupt[k], payload[i])
			}
		}
		feed(s.side, seq, isn[1-s.side]+1+uint32(int32(s.ack)), s.flags, payload, s.n)
	}
	c.End(app.Pos{Frame: frame + 1})
	for _, e := range r.errs {
		t.Fatalf("contract: %s", e)
	}
	if !r.ended || r.events[len(r.events)-1].kind != 'E' {
		t.Fatalf("no End last")
	}
	if m := c.Memory(); m != 0 {
		t.Fatalf("%d bytes held after End", m)
	}
	var delivered, gapBytes, gaps [2]int64
	off := [2]int64{}
	for _, e := range r.events {
		switch e.kind {
		case 'B':
			delivered[e.side] += int64(len(e.data))
			if handshake {
				for i := range len(e.data) {
					o := int32(off[e.side] + int64(i))
					b := e.data[i]
					if b == truth(e.side, o) {
						continue
					}
					found := false
					for _, v := range corrupt[[2]int32{int32(e.side), o}] {
						found = found || v == b
					}
					if !found {
						t.Fatalf("%s offset %d: byte %#x, sent %#x (no copy had it)", e.side, o, b, truth(e.side, o))
					}
				}
			}
			off[e.side] += int64(len(e.data))
		case 'G':
			gapBytes[e.side] += e.n
			gaps[e.side]++
			off[e.side] += e.n
		}
	}
	for s := range 2 {
		st := c.Stats(app.Side(s))
		if st.Delivered != delivered[s] || st.GapBytes != gapBytes[s] || st.Gaps != gaps[s] {
			t.Fatalf("%s: stats %+v, calls: %d delivered, %d gap bytes in %d gaps", app.Side(s), st, delivered[s], gapBytes[s], gaps[s])
		}
		if handshake && len(corrupt) == 0 && st.Inconsistencies != 0 {
			t.Fatalf("%s: %d inconsistencies without a corrupt copy", app.Side(s), st.Inconsistencies)
		}
	}
}

// fuzzSeeds are scenarios the unit tests also cover, in the fuzz input
// format.
func fuzzSeeds() map[string][]byte {
	isn := [2]uint32{1000, 0xffffff00}
	c, s := app.Client, app.Server
	A, F, R := uint8(header.FlagACK), uint8(header.FlagFIN), uint8(header.FlagRST)
	return map[string][]byte{
		"inorder": encodeFuzz(1, isn, []fuzzSeg{{side: c, n: 10}, {side: s, ack: 10, flags: A, n: 200}, {side: c, seq: 10, ack: 200, flags: A | F}, {side: s, seq: 200, ack: 11, flags: A | F}}),
		"reorder": encodeFuzz(1, isn, []fuzzSeg{{side: s, seq: 100, n: 50}, {side: s, seq: 50, n: 50}, {side: s, seq: 0, n: 60}, {side: s, seq: 150, flags: F}}),
		"overlap": encodeFuzz(1|2<<1, isn, []fuzzSeg{{side: s, seq: 40, n: 30}, {side: s, seq: 30, n: 30, corrupt: 1, xorv: 3}, {side: s, n: 20}, {side: s, n: 40, corrupt: 1, xorv: 5}}),
		"acked":   encodeFuzz(1, isn, []fuzzSeg{{side: c, seq: 20, n: 10}, {side: s, ack: 25, flags: A}, {side: c, seq: 40, n: 5, captured: 2}, {side: s, ack: 100, flags: A}}),
		"reset":   encodeFuzz(1|3<<4, isn, []fuzzSeg{{side: c, n: 5}, {side: c, seq: 9, n: 5}, {side: c, seq: 3, n: 4, corrupt: 1, xorv: 9}, {side: c, seq: 20, flags: R}, {side: c, seq: 5, n: 4}}),
		"midconn": encodeFuzz(0, isn, []fuzzSeg{{side: s, seq: -1, n: 1}, {side: s, n: 30}, {side: c, seq: -300, ack: 30, flags: A, n: 3}, {side: c, seq: -1000, n: 250}}),
		"bulk": encodeFuzz(1|6<<1, isn, []fuzzSeg{{side: s, seq: 2896, n: 1448}, {side: s, seq: 1448, n: 1448}, {side: s, n: 1448},
			{side: s, seq: 4344, n: 1448, captured: 700}, {side: c, ack: 4000, flags: A}, {side: s, seq: 1448, n: 1448, corrupt: 1, xorv: 1}}),
		"overflow": encodeFuzz(1, isn, []fuzzSeg{{side: s, seq: 10, n: 200}, {side: s, seq: 300, n: 200}, {side: s, seq: 600, n: 200}, {side: s, seq: 900, n: 200, captured: 7},
			{side: s, seq: 5, n: 3}}),
	}
}

func FuzzConn(f *testing.F) {
	for _, b := range fuzzSeeds() {
		f.Add(b)
	}
	f.Fuzz(runFuzz)
}

// TestFuzzSeeds writes the seeds to testdata/fuzz/FuzzConn (with -update)
// and checks that they are there.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzConn")
	for name, b := range fuzzSeeds() {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		path := filepath.Join(dir, "seed-"+name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s missing or stale (go test -update rewrites it): %v", path, err)
		}
	}
}
