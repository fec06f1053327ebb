package capture_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// fuzzRead reads everything from data and checks the reader's promises: no
// panic, frames numbered 1, 2, 3…, no frame longer than MaxFrameLen, and any
// error located and categorised.
func fuzzRead(t *testing.T, data []byte) {
	r, err := capture.NewReader(bytes.NewReader(data), "fuzz")
	if err != nil {
		return
	}
	defer r.Close()
	want := int64(1)
	for f, err := range r.Frames() {
		if err != nil {
			if _, ok := err.(*capture.Error); !ok {
				t.Fatalf("unlocated error %T %v", err, err)
			}
			return
		}
		if f.Number < want {
			t.Fatalf("frame number %d after %d", f.Number, want-1)
		}
		want = f.Number + 1
		if len(f.Data) > capture.MaxFrameLen {
			t.Fatalf("frame %d has %d bytes", f.Number, len(f.Data))
		}
		if f.Interface < 0 || f.Interface >= len(r.Interfaces()) {
			t.Fatalf("frame %d on interface %d of %d", f.Number, f.Interface, len(r.Interfaces()))
		}
	}
}

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		data, err := os.ReadFile(corpus.Path(f, "testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 8192 {
			data = data[:8192]
		}
		f.Add(data)
	}
}

func FuzzPcap(f *testing.F) {
	addSeeds(f, "icmp.pcap", "frag.pcap", "raw-ip.pcap", "http-veth-ns.pcap", "http-veth.pcap.gz")
	f.Fuzz(fuzzRead)
}

func FuzzPcapng(f *testing.F) {
	addSeeds(f, "merged.pcapng", "multi.pcapng")
	f.Fuzz(fuzzRead)
}
