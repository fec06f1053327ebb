package replay

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// FromBytes turns fuzz input into Ethernet frames: records of a time step
// (one byte, in milliseconds, times 16 when its top bit is set), a 2-byte
// big-endian length and that many bytes of frame.
func FromBytes(data []byte) []synth.Frame {
	var out []synth.Frame
	t := T0
	for len(data) >= 3 {
		step := time.Duration(data[0]&0x7f) * time.Millisecond
		if data[0]&0x80 != 0 {
			step *= 16
		}
		l := int(binary.BigEndian.Uint16(data[1:]))
		data = data[3:]
		l = min(l, len(data))
		t = t.Add(step)
		out = append(out, synth.Frame{Time: t, Data: append([]byte(nil), data[:l]...)})
		data = data[l:]
	}
	return out
}

// Fuzz writes fuzz input as a capture (see FromBytes) and diagnoses it
// with the detectors: the whole path from frames to findings, which must
// not fail or panic whatever the packets claim.
func Fuzz(t *testing.T, detectors []*detect.Detector, data []byte) {
	t.Helper()
	file := Write(t, "fuzz.pcap", FromBytes(data))
	Diagnose(t, detectors, []string{"fuzz"}, []string{file})
}

// Seed encodes the first max frames of an Ethernet capture as FromBytes
// reads them.
func Seed(tb testing.TB, file string, max int) []byte {
	tb.Helper()
	r, err := capture.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var out []byte
	var last capture.Time
	i := 0
	for f, err := range r.Frames() {
		if err != nil || i == max {
			break
		}
		step := min(f.Time.Sub(last)/time.Millisecond, 127)
		if i == 0 {
			step = 0
		}
		last = f.Time
		out = append(out, byte(step))
		out = binary.BigEndian.AppendUint16(out, uint16(len(f.Data)))
		out = append(out, f.Data...)
		i++
	}
	return out
}
