package conn_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// FuzzObserve feeds arbitrary frames to a Tracker: each frame is a 2-byte
// length, a 1-byte time step in milliseconds-ish units and that many bytes
// of Ethernet. Whatever the packets, nothing panics and the records keep
// their bounds.
func FuzzObserve(f *testing.F) {
	for _, name := range []string{"clean", "forged-rst", "icmp-prohibited", "stale-ack"} {
		s := scenarioByName(f, name)
		var seed []byte
		// Small seeds: the fuzzer minimises every interesting input, and
		// that takes a run per byte.
		for i, fr := range s.frames {
			if i >= 6 {
				break
			}
			b := fr.Data[:min(len(fr.Data), 80)]
			seed = binary.BigEndian.AppendUint16(seed, uint16(len(b)))
			seed = append(seed, byte(i))
			seed = append(seed, b...)
		}
		f.Add(seed)
	}
	f.Fuzz(observeBytes)
}

func observeBytes(t *testing.T, data []byte) {
	for _, ignore := range []bool{false, true} {
		opt := conn.DefaultOptions()
		opt.IgnoreChecksums = ignore
		tr := conn.New(opt, func(r *conn.Record) {
			if len(r.Evidence) > conn.MaxEvidence || len(r.ICMPErrors) > conn.MaxICMPErrors || len(r.History) > 256 {
				t.Fatalf("record out of bounds: %+v", r)
			}
			if r.State.String() == "" || r.LastTime < r.Start {
				t.Fatalf("record %+v", r)
			}
		})
		d := conn.NewDecoder()
		var p packet.Packet
		now := capture.Time(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		a := &tcp.Annotation{Flags: tcp.Retransmission}
		b := data
		for n := int64(1); len(b) >= 3; n++ {
			l := int(binary.BigEndian.Uint16(b))
			now += capture.Time(b[2]) * capture.Time(37*time.Millisecond)
			b = b[3:]
			l = min(l, len(b))
			fr := capture.Frame{Number: n, Time: now, Data: b[:l], OrigLen: l, LinkType: capture.LinkEthernet}
			b = b[l:]
			d.Decode(&fr, &p)
			if n%2 == 0 {
				tr.Observe(&p, a)
			} else {
				tr.Observe(&p, nil)
			}
		}
		tr.Finish()
	}
}
