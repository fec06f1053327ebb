package tls

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

var tlsFields = []string{"tls.handshake.type", "tls.handshake.version", "tls.handshake.ciphersuite",
	"tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
	"tls.handshake.extensions.supported_version", "tls.alert_message.level", "tls.alert_message.desc"}

var decodeAs = []string{"tcp.port==4433,tls", "tcp.port==4434,tls", "tcp.port==4435,tls", "tcp.port==4436,tls"}

// decodeCapture runs every TCP connection through its own decoder.
func decodeCapture(t testing.TB, path string, chunk int) []*apptest.Collector {
	t.Helper()
	conns, err := apptest.Load(path, apptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*apptest.Collector
	for _, c := range conns {
		col := &apptest.Collector{}
		c.Replay(New(col.Output()), chunk)
		out = append(out, col)
	}
	return out
}

// TestAgainstTshark compares hellos, other clear-text handshake messages
// and alerts decoded from testdata/tls.pcap (openssl and curl, made by
// testdata/capture.sh) with tshark's fields.
func TestAgainstTshark(t *testing.T) {
	const pcap = "testdata/tls.pcap"
	var recs []app.Record
	for _, col := range decodeCapture(t, pcap, 0) {
		for _, r := range col.Recs {
			if _, ok := r.(*ConnSummary); !ok {
				recs = append(recs, r)
			}
		}
	}
	a := apptest.Compare(t, apptest.Ours(recs, tlsFields),
		apptest.Theirs(t, apptest.Tshark(t, pcap, decodeAs, "tls.handshake or tls.alert_message", tlsFields...), tlsFields),
		tlsFields, nil)
	t.Logf("tls: %v", a)
}
