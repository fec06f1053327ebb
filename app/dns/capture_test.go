package dns

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

// TestCaptureTransactions checks the outcome dnslab.py's client scripted for
// each query in testdata/dns.pcap.
func TestCaptureTransactions(t *testing.T) {
	var got []string
	for _, col := range decodeCapture(t, "testdata/dns.pcap", apptest.Options{}, 0) {
		for _, tx := range col.Txs {
			got = append(got, tx.Request+" → "+tx.Status.String()+" "+tx.Error)
			if strings.HasPrefix(tx.Request, "A slow.test") && tx.Latency < 300*time.Millisecond {
				t.Errorf("slow.test answered in %v, the responder waits 0.3 s", tx.Latency)
			}
		}
	}
	want := []string{
		"A a.test → ok ", "A alias.test → ok ", "A nx.test → error NXDOMAIN", "A fail.test → error SERVFAIL",
		"A refused.test → error REFUSED", "A slow.test → ok ", "AAAA v6.test → ok ", "A big.test → ok ",
		"A drop.test (2 tries) → no-reply ",            // UDP to the responder, in order
		"A big.test → ok ",                             // the TCP retry
		"A a.test → ok ", "A nx.test → error NXDOMAIN", // pipelined on TCP
		"A anything.test (3 tries) → no-reply ", // the silent server
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("transactions:\n got %q\nwant %q", got, want)
	}
}

func TestCaptureIncremental(t *testing.T) {
	whole := decodeCapture(t, "testdata/dns.pcap", apptest.Options{}, 0)
	for _, chunk := range []int{1, 3} {
		if got := decodeCapture(t, "testdata/dns.pcap", apptest.Options{}, chunk); !reflect.DeepEqual(got, whole) {
			t.Fatalf("chunk %d: output differs", chunk)
		}
	}
}
