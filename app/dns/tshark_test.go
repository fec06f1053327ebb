package dns

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

var dnsFields = []string{"dns.id", "dns.flags.response", "dns.flags.opcode", "dns.flags.rcode", "dns.flags.truncated",
	"dns.qry.name", "dns.qry.type", "dns.qry.class", "dns.count.answers", "dns.a", "dns.aaaa", "dns.cname",
	"dns.resp.name", "dns.resp.type", "dns.response_to", "dns.time", "dns.retransmission", "dns.retransmit_request_in"}

// decodeCapture runs every UDP exchange and TCP connection of a capture
// through its own decoder (TCP Bytes split into pieces of at most chunk).
func decodeCapture(t testing.TB, path string, opt apptest.Options, chunk int) []*apptest.Collector {
	t.Helper()
	conns, err := apptest.Load(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	var out []*apptest.Collector
	for _, c := range conns {
		col := &apptest.Collector{}
		if c.Proto == 17 {
			c.ReplayDatagrams(NewDatagrams(col.Output()))
		} else {
			c.Replay(NewStream(col.Output()), chunk)
		}
		out = append(out, col)
	}
	return out
}

// TestAgainstTshark compares every message decoded from testdata/dns.pcap
// (dnslab.py's client, responder and silent server, made by
// testdata/capture.sh) with tshark's fields, matching included.
func TestAgainstTshark(t *testing.T) {
	const pcap = "testdata/dns.pcap"
	var recs []app.Record
	for _, col := range decodeCapture(t, pcap, apptest.Options{}, 0) {
		recs = append(recs, col.Recs...)
	}
	a := apptest.Compare(t, apptest.Ours(recs, dnsFields),
		apptest.Theirs(t, apptest.Tshark(t, pcap, nil, "dns", dnsFields...), dnsFields), dnsFields, nil)
	t.Logf("dns: %v", a)
}
