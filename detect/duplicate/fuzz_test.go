package duplicate

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/internal/replay"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// FuzzObserver diagnoses arbitrary frames with the detector (and so its
// observer): nothing may fail or panic, whatever the packets claim.
func FuzzObserver(f *testing.F) {
	for _, name := range []string{"examples/duplicate-forwarding/05-server.pcap", "examples/duplicate-forwarding/03-r1-out.pcap", "detect/duplicate/testdata/span.pcap"} {
		f.Add(replay.Seed(f, corpus.Path(f, name), 64))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		replay.Fuzz(t, []*detect.Detector{Forwarding}, data)
	})
}
