package pmtu

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/internal/replay"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// FuzzObserver diagnoses arbitrary frames with the detector (and so its
// observer): nothing may fail or panic, whatever the packets claim.
func FuzzObserver(f *testing.F) {
	for _, name := range []string{"examples/pmtu-blackhole/06-server.pcap", "examples/pmtu-blackhole/01-client.pcap", "detect/pmtu/testdata/mtu-probing-server.pcap", "detect/pmtu/testdata/ipv6-blackhole-server.pcap"} {
		f.Add(replay.Seed(f, corpus.Path(f, name), 64))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		replay.Fuzz(t, []*detect.Detector{Blackhole}, data)
	})
}
