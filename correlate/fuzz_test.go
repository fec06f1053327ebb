package correlate

import (
	"encoding/binary"
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/packet"
)

// FuzzCorrelate feeds frames made of hostile bytes to two recorders (the
// second sees every frame with a few bytes changed, delayed, some dropped
// and some twice) and correlates them: nothing may panic, every copy a
// packet points at must exist, and what is lost or injected must be a
// packet that was recorded.
//
// The input is a sequence of records: 2 bytes of length, then the frame;
// the first byte of a frame picks the change made at the second capture.
func FuzzCorrelate(f *testing.F) {
	g := generate(f, synthCase{name: "fuzz", vlan: -1, sll2: -1, pad: -1, hops: 1, conns: 2, rounds: 1, lossAt: []float64{0.5}, lossRate: 1})
	var seed []byte
	for i, fr := range g.frames[1] {
		if i >= 24 {
			break
		}
		seed = binary.BigEndian.AppendUint16(seed, uint16(len(fr.f.Data)+1))
		seed = append(seed, byte(i))
		seed = append(seed, fr.f.Data...)
	}
	f.Add(seed)
	f.Add([]byte{0, 3, 0, 0x45, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ra, rb := NewRecorder(Options{MaxPackets: 1000}), NewRecorder(Options{MaxPackets: 1000})
		d := packet.NewDecoder()
		var pa, pb packet.Packet
		n := int64(0)
		for len(data) >= 2 {
			l := int(binary.BigEndian.Uint16(data))
			data = data[2:]
			if l > len(data) || l == 0 {
				break
			}
			rec := data[:l]
			data = data[l:]
			op, frame := rec[0], rec[1:]
			n++
			t0 := capture.Time(1_700_000_000_000_000_000 + n*1000)
			d.Decode(&capture.Frame{Number: n, Time: t0, Data: frame, OrigLen: len(frame), LinkType: capture.LinkType(synth.LinkEthernet)}, &pa)
			ra.Packet(&pa)
			if op%7 == 3 {
				continue // lost on the way
			}
			copyB := append([]byte(nil), frame...)
			if op%5 == 1 && len(copyB) > 22 {
				copyB[22]-- // TTL of an IPv4 packet behind Ethernet
			}
			if op%11 == 4 && len(copyB) > 0 {
				copyB[len(copyB)-1] ^= 0xff
			}
			times := 1
			if op%13 == 6 {
				times = 2
			}
			for range times {
				d.Decode(&capture.Frame{Number: n, Time: t0 + capture.Time(int64(op)*1000), Data: copyB, OrigLen: len(copyB), LinkType: capture.LinkType(synth.LinkEthernet)}, &pb)
				rb.Packet(&pb)
			}
		}
		ca, cb := ra.Finish(), rb.Finish()
		p := correlate([]Input{{"a", ca}, {"b", cb}})
		for vi, v := range p.vs {
			other := p.vs[1-vi]
			for k := range v.cd {
				if c := v.cd[k]; c >= int32(len(other.c.sigs)) || c >= 0 && vi == 1 {
					t.Fatalf("capture %d packet %d: copy %d", vi, k, c)
				}
				if c := v.cu[k]; c >= int32(len(other.c.sigs)) || c >= 0 && vi == 0 {
					t.Fatalf("capture %d packet %d: copy %d", vi, k, c)
				}
			}
		}
		for _, e := range append(p.Lost(), p.Injected()...) {
			if _, ok := p.vs[e.Vantage].index(e.Packet.Frame); !ok {
				t.Fatalf("event for frame %d, which capture %d did not record", e.Packet.Frame, e.Vantage)
			}
			p.Trace(e.Vantage, e.Packet.Frame)
		}
		for _, s := range p.Segments() {
			_ = s.Dir[0].Delay
		}
	})
}
