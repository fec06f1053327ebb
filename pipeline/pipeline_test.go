package pipeline_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/pktline"
)

// render runs the pipeline and renders every packet with its analysis.
func render(t *testing.T, file string, opt pipeline.Options) (string, *pipeline.Summary) {
	t.Helper()
	var b bytes.Buffer
	s, err := pipeline.Run(file, opt, func(p *pipeline.Packet) error {
		b.Write(pktline.Append(nil, p.Packet, p.TCP, pktline.Options{Time: pktline.Epoch}))
		fmt.Fprintf(&b, " %d %d %v\n", p.Frame, p.Padding, p.TCP != nil)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), s
}

// TestParallelMatchesSerial: decoding ahead in another goroutine changes
// nothing, for mapped files, compressed streams (bytes copied into the
// batch) and reassembled fragments alike.
func TestParallelMatchesSerial(t *testing.T) {
	for _, file := range corpus.All(t) {
		par, ps := render(t, file, pipeline.Options{})
		ser, ss := render(t, file, pipeline.Options{Serial: true})
		if par != ser {
			t.Errorf("%s: parallel and serial runs differ", filepath.Base(file))
		}
		if ps.Frames != ss.Frames || ps.Streams != ss.Streams || ps.Decode.Reassembled != ss.Decode.Reassembled {
			t.Errorf("%s: summaries differ: %+v vs %+v", filepath.Base(file), ps, ss)
		}
	}
}

// TestStopEarly: a callback ending the run early neither hangs nor loses
// the summary.
func TestStopEarly(t *testing.T) {
	for _, name := range []string{"http-veth.pcap", "http-veth.pcap.gz"} {
		n := 0
		s, err := pipeline.Run(corpus.Path(t, "testdata", name), pipeline.Options{}, func(p *pipeline.Packet) error {
			n++
			if n == 3 {
				return pipeline.ErrStop
			}
			return nil
		})
		if err != nil || n != 3 || s.Frames != 3 {
			t.Fatalf("%s: err %v, %d calls, %d frames", name, err, n, s.Frames)
		}
		_, err = pipeline.Run(corpus.Path(t, "testdata", name), pipeline.Options{}, func(p *pipeline.Packet) error {
			return fmt.Errorf("boom")
		})
		if err == nil {
			t.Fatalf("%s: callback error lost", name)
		}
	}
}

// TestDamageReported: a cut file is analysed up to the cut and the damage
// is in the summary, in both modes.
func TestDamageReported(t *testing.T) {
	data, err := os.ReadFile(corpus.Path(t, "testdata", "http-veth.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)-100], 0o644)
	for _, serial := range []bool{false, true} {
		_, s := render(t, cut, pipeline.Options{Serial: serial})
		if s.Damage == nil || s.Frames == 0 {
			t.Fatalf("serial=%v: damage %v after %d frames", serial, s.Damage, s.Frames)
		}
	}
}
