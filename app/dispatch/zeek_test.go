package dispatch

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/dns"
	"github.com/wiresleuth/wiresleuth/app/ftp"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
	"github.com/wiresleuth/wiresleuth/app/tls"
)

// protocolFields are the fields compared with tshark per protocol, with the
// display filter selecting tshark's messages.
var protocolFields = map[string]struct {
	filter string
	fields []string
}{
	"http": {"http.request or http.response", []string{"http.request.method", "http.request.uri", "http.request.version", "http.host", "http.response.code", "http.content_length", "http.transfer_encoding"}},
	"ftp":  {"ftp", []string{"ftp.request.command", "ftp.request.arg", "ftp.response.code", "ftp.passive.port", "ftp.eprt.port", "ftp.epsv.port"}},
	"tls":  {"tls.handshake.type == 1 or tls.handshake.type == 2 or tls.alert_message", []string{"tls.handshake.version", "tls.handshake.extensions_server_name", "tls.handshake.ciphersuite", "tls.alert_message.desc"}},
	"dns":  {"dns", []string{"dns.id", "dns.flags.rcode", "dns.qry.name", "dns.qry.type", "dns.a", "dns.response_to"}},
}

// zeekChoices are the protocols the traces' names and Zeek's baselines say
// they carry, whatever the ports: content decides.
var zeekChoices = map[string][]string{
	"pop3-basic.pcap":    {},       // POP3's USER must not pass for FTP
	"ssh-basic.pcap":     {"tls"},  // SSH is no one's; one mid-stream TLS connection on 8118
	"http-to-ssh.pcap":   {"http"}, // HTTP to port 22
	"https-to-http.pcap": {"tls"},  // TLS to port 80
	"ftp-auth-tls.pcap":  {"ftp"},  // the TLS after AUTH TLS stays on the control connection
	"ftp-ipv6.pcap":      {"ftp"},
	"wikipedia.pcap":     {"dns", "http"},
}

// kept selects the records compared: tshark shows hellos, not other
// handshake messages, under the filter above.
func kept(r app.Record) bool {
	switch r.(type) {
	case *http1.Request, *http1.Response, *ftp.Command, *ftp.Reply, *tls.ClientHello, *tls.ServerHello, *tls.Alert, *dns.Message:
		return true
	}
	return false
}

// TestZeekTraces dispatches every connection of Zeek's regression traces
// (real traffic from many implementations) and compares what the chosen
// decoders report with tshark's fields on the same trace.
func TestZeekTraces(t *testing.T) {
	dir := apptest.ZeekTraces(t)
	traces, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	d, err := New(Standard())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	total := map[string]apptest.Agreement{}
	for _, pcap := range traces {
		conns, err := apptest.Load(pcap, apptest.Options{})
		if err != nil {
			t.Logf("%s: not read by the test loader: %v", filepath.Base(pcap), err)
			continue
		}
		t.Run(filepath.Base(pcap), func(t *testing.T) {
			recs := map[string][]app.Record{}
			chosen := map[string]bool{}
			var decodeAs []string // tshark decodes by port: tell it what we chose
			for _, c := range conns {
				var col apptest.Collector
				name, transport := "", "tcp"
				if c.Proto == 17 {
					g := d.NewDatagrams(c.Server.Port(), col.Output())
					c.ReplayDatagrams(g)
					name, transport = g.Protocol(), "udp"
				} else {
					s := d.NewStream(c.Server.Port(), col.Output())
					c.Replay(s, 0)
					name = s.Protocol()
				}
				chosen[name] = true
				if name != "" {
					decodeAs = append(decodeAs, fmt.Sprintf("%s.port==%d,%s", transport, c.Server.Port(), name))
				}
				for _, r := range col.Recs {
					if kept(r) {
						recs[name] = append(recs[name], r)
					}
				}
			}
			if want, ok := zeekChoices[filepath.Base(pcap)]; ok {
				for _, n := range want {
					if !chosen[n] {
						t.Errorf("no connection decoded as %q", n)
					}
				}
				for n := range chosen {
					if n != "" && !slices.Contains(want, n) {
						t.Errorf("a connection decoded as %q", n)
					}
				}
			}
			var names []string
			for n := range recs {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, name := range names {
				pf := protocolFields[name]
				theirs := apptest.Theirs(t, apptest.Tshark(t, pcap, decodeAs, pf.filter, pf.fields...), pf.fields)
				a := apptest.Compare(t, apptest.Ours(recs[name], pf.fields), theirs, pf.fields, explain(recs[name], theirs))
				t.Logf("%s: %v", name, a)
				mu.Lock()
				s := total[name]
				s.Cells, s.Agree, s.Explained = s.Cells+a.Cells, s.Agree+a.Agree, s.Explained+a.Explained
				total[name] = s
				mu.Unlock()
			}
		})
	}
	var sum []string
	for n, a := range total {
		sum = append(sum, n+": "+a.String())
	}
	sort.Strings(sum)
	t.Logf("all traces: %s", strings.Join(sum, "; "))
}

// explain accounts for the known differences between tshark and the
// decoders, found on these traces:
//   - FTP: tshark parses each packet's lines on their own, so a multi-line
//     reply spread over several packets shows its code on the frame of its
//     first line; the decoder assembles the reply and reports it on the frame
//     of its last line (Reply.End), where tshark shows only continuation text.
//   - HTTP/0.9: "GET /" without a version is not HTTP/1 and is not decoded
//     (RFC 9112 has no 0.9); tshark shows it as a request.
func explain(recs []app.Record, theirs apptest.Table) apptest.Explain {
	multi := map[int64]bool{} // first and last frames of replies spread over several
	for _, r := range recs {
		if r, ok := r.(*ftp.Reply); ok && r.Lines > 1 && r.Start.Frame != r.End.Frame {
			multi[r.Start.Frame], multi[r.End.Frame] = true, true
		}
	}
	return func(frame int64, field, ours, theirs09 string) string {
		switch {
		case field == "ftp.response.code" && multi[frame]:
			return "multi-line FTP reply over several packets: tshark shows it on its first frame, we on its last"
		case strings.HasPrefix(field, "http.request.") && ours == "" && theirs[frame]["http.request.version"] == "":
			return "HTTP/0.9 request (no version): not decoded"
		}
		return ""
	}
}
