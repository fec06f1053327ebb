package tls

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

// TestCaptureHandshakes checks the outcome capture.sh arranged for each
// handshake in testdata/tls.pcap.
func TestCaptureHandshakes(t *testing.T) {
	var got []string
	for _, col := range decodeCapture(t, "testdata/tls.pcap", 0) {
		s := apptest.Of[*ConnSummary](col)[0]
		if !s.ClientHello {
			// The readiness probes of capture.sh: openssl answers an
			// empty connection with a decode_error alert, silent.py
			// with nothing.
			if (s.FailedBy == nil || s.FailedBy.Description != 50) && s.Records != [2]int{} || len(col.Txs) != 0 {
				t.Errorf("probe connection: %+v %+v", s, col.Txs)
			}
			continue
		}
		if len(col.Txs) != 1 {
			t.Fatalf("want one handshake transaction, got %+v", col.Txs)
		}
		tx := col.Txs[0]
		line := tx.Status.String() + " " + tx.Error + " | " + s.Version.String() + " " + s.ServerName + " " + strings.Join(s.OfferedALPN, ",") + " " + s.ALPN
		got = append(got, strings.TrimSpace(line))
		if s.Established != (tx.Status == app.StatusOK) {
			t.Errorf("established %v but status %v", s.Established, tx.Status)
		}
	}
	want := []string{
		"ok  | TLS 1.3 example.test h2,http/1.1",  // curl; TLS 1.3 hides the chosen ALPN
		"ok  | TLS 1.2 example.test",              // s_client -tls1_2
		"error protocol_version | 0x0000",         // server refuses TLS 1.2
		"error unknown_ca | TLS 1.2 example.test", // client refuses the certificate
		"error encrypted_alert | TLS 1.3",         // server wants a client certificate
		"no-reply  | 0x0000 silent.test",          // nobody answers
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("handshakes:\n got %q\nwant %q", got, want)
	}
}

// TestCaptureIncremental: output must not depend on how bytes arrive.
func TestCaptureIncremental(t *testing.T) {
	whole := decodeCapture(t, "testdata/tls.pcap", 0)
	for _, chunk := range []int{1, 5, 300} {
		if got := decodeCapture(t, "testdata/tls.pcap", chunk); !reflect.DeepEqual(got, whole) {
			t.Fatalf("chunk %d: output differs", chunk)
		}
	}
}
