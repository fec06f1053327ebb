package checksum

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/internal/replay"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// FuzzObserver diagnoses arbitrary frames with the detector (and so its
// observer): nothing may fail or panic, whatever the packets claim.
func FuzzObserver(f *testing.F) {
	for _, name := range []string{"detect/checksum/testdata/padsum-client.pcap", "testdata/http-veth.pcap"} {
		f.Add(replay.Seed(f, corpus.Path(f, name), 64))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		replay.Fuzz(t, []*detect.Detector{BadChecksum}, data)
	})
}
