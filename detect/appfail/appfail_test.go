package appfail_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/all"
	"github.com/wiresleuth/wiresleuth/detect/appfail"
	"github.com/wiresleuth/wiresleuth/diagnose"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/synth"
)

var detectors = []*detect.Detector{appfail.ErrorReply, appfail.NoReply, appfail.Slow}

// diagnoseDirs diagnoses captures as vantage points of one path (a
// directory stands for its captures) with the app detectors, and returns
// the merged findings.
func diagnoseArgs(t *testing.T, args ...string) []detect.Finding {
	t.Helper()
	in, _, err := diagnose.Inputs(args)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := diagnose.Run(in, diagnose.Options{Detectors: detectors, Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Findings
}

func ids(fs []detect.Finding) []string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("%s(%s): %s", f.ID, f.Severity, f.Title))
	}
	return s
}

// only returns the findings with id.
func only(fs []detect.Finding, id string) []detect.Finding {
	var out []detect.Finding
	for _, f := range fs {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// one returns the single finding with id whose fact key has value, failing
// otherwise.
func one(t *testing.T, fs []detect.Finding, id, key, value string) detect.Finding {
	t.Helper()
	var hit []detect.Finding
	for _, f := range only(fs, id) {
		if f.Fact(key) == value {
			hit = append(hit, f)
		}
	}
	if len(hit) != 1 {
		t.Fatalf("want one %s with %s=%s, got %d among\n%s", id, key, value, len(hit), strings.Join(ids(fs), "\n"))
	}
	return hit[0]
}

func testdata(t *testing.T, pkg, name string) string {
	return corpus.Path(t, "app", pkg, "testdata", name)
}

func evidenceFrames(f detect.Finding) []int64 {
	var out []int64
	for _, e := range f.Evidence {
		out = append(out, e.Frame)
	}
	return out
}

func contains(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s does not say %q:\n%s", what, p, s)
		}
	}
}

// TestGlusterQemuImgEACCES is the Gluster story's hanging qemu-img: both
// bricks answer SETVOLUME with op_ret -1, errno 13, "Authentication
// failed" — one error finding with the story's remedy.
func TestGlusterQemuImgEACCES(t *testing.T) {
	fs := diagnoseArgs(t, testdata(t, "oncrpc", "gluster-qemu-img.pcap"))
	if len(fs) != 1 {
		t.Fatalf("want one finding, got\n%s", strings.Join(ids(fs), "\n"))
	}
	f := one(t, fs, "app.error-reply", "error", "EACCES")
	if f.Severity != detect.Error || f.Affected != 2 || f.OutOf != 2 || len(f.Connections) != 2 {
		t.Errorf("severity %v, %d of %d, %d connections", f.Severity, f.Affected, f.OutOf, len(f.Connections))
	}
	contains(t, "title", f.Title, "GlusterFS Handshake v2 SETVOLUME", "op_ret -1 errno 13 EACCES (Permission denied): Authentication failed",
		"192.0.2.21:49152 and 192.0.2.22:49152")
	for k, v := range map[string]string{"program": "14398633", "procedure": "SETVOLUME", "op_ret": "-1", "op_errno": "13", "server_error": "Authentication failed"} {
		if f.Fact(k) != v {
			t.Errorf("fact %s = %q, want %q", k, f.Fact(k), v)
		}
	}
	if got := fmt.Sprint(evidenceFrames(f)); got != "[27 29 52 54]" {
		t.Errorf("evidence frames %s", got)
	}
	contains(t, "next steps", strings.Join(f.NextSteps, " "), "server.allow-insecure", "rpc-auth-allow-insecure", "stop and start the volume",
		"glusterfs.hndsk.proc && rpc.msgtyp == 1")
}

// TestGlusterMountFailure is the story's mount failure: two bricks drop
// the SYNs (handshake.unanswered's finding), the third accepts the
// connection and never answers the DUMP call — the transport answered, the
// brick did not.
func TestGlusterMountFailure(t *testing.T) {
	fs := diagnoseArgs(t, testdata(t, "oncrpc", "gluster-mount-failure.pcap"))
	if len(fs) != 1 {
		t.Fatalf("want one finding, got\n%s", strings.Join(ids(fs), "\n"))
	}
	f := one(t, fs, "app.no-reply", "server", "192.0.2.23:49153")
	if f.Severity != detect.Error || f.Fact("transport") != "acknowledged" || f.Fact("wait_s") != "42.0" {
		t.Errorf("severity %v, transport %q, wait %q", f.Severity, f.Fact("transport"), f.Fact("wait_s"))
	}
	contains(t, "title", f.Title, "Gluster Dump v1 DUMP call to 192.0.2.23:49153 never answered")
	contains(t, "explanation", f.Explanation, "acknowledged the request (frame 52", "never answered", "closed the connection (frame 53)")
	if got := fmt.Sprint(evidenceFrames(f)); got != "[51 52 53]" {
		t.Errorf("evidence frames %s", got)
	}
	contains(t, "next steps", strings.Join(f.NextSteps, " "), "gluster volume status", "49152 and up")
	// With every detector, the two dropped bricks are handshake findings.
	in, _, _ := diagnose.Inputs([]string{testdata(t, "oncrpc", "gluster-mount-failure.pcap")})
	rep, err := diagnose.Run(in, diagnose.Options{Detectors: all.Detectors()})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(only(rep.Findings, "handshake.unanswered")); n != 2 {
		t.Errorf("%d handshake.unanswered findings, want 2 (the bricks behind the firewall)", n)
	}
}

// TestNFSErrors: severities follow what the error does to the user.
func TestNFSErrors(t *testing.T) {
	fs := diagnoseArgs(t, testdata(t, "oncrpc", "nfs-errors.pcap"))
	want := map[string]detect.Severity{
		"MNT3ERR_ACCES": detect.Error, "NFS3ERR_STALE": detect.Error, "SYSTEM_ERR": detect.Error,
		"AUTH_ERROR/AUTH_TOOWEAK": detect.Error, "PROG_MISMATCH": detect.Error, "RPC_MISMATCH": detect.Error,
		"NFS3ERR_ACCES": detect.Warning, "NFS3ERR_NOENT": detect.Info, "NLM4_DENIED": detect.Info,
	}
	for e, sev := range want {
		if f := one(t, fs, "app.error-reply", "error", e); f.Severity != sev {
			t.Errorf("%s: %v, want %v", e, f.Severity, sev)
		}
	}
	if n := len(only(fs, "app.error-reply")); n != len(want) {
		t.Errorf("%d error-reply findings, want %d:\n%s", n, len(want), strings.Join(ids(fs), "\n"))
	}
	// The GETATTR over UDP retransmitted twice and never answered, while
	// the server answered the TCP calls.
	f := one(t, fs, "app.no-reply", "server", "192.0.2.30:2049")
	if f.Severity != detect.Error || f.Fact("transport") != "silent" {
		t.Errorf("no-reply: %v %q", f.Severity, f.Fact("transport"))
	}
	contains(t, "explanation", f.Explanation, "sent the call 3 times", "answered 9 other requests")
	if f := one(t, fs, "app.error-reply", "error", "PROG_MISMATCH"); f.Fact("supported_versions") != "3-3" {
		t.Errorf("supported versions %q", f.Fact("supported_versions"))
	}
}

// TestRPCVersionNegotiation: rpcinfo's probe of version 0, answered
// PROG_MISMATCH and followed by calls to versions 2 to 4, is not a
// failure; its explicit call to version 7 is.
func TestRPCVersionNegotiation(t *testing.T) {
	fs := diagnoseArgs(t, testdata(t, "oncrpc", "rpcinfo.pcap"))
	f := one(t, fs, "app.error-reply", "error", "PROG_MISMATCH")
	if f.Fact("version") != "7" || f.Affected != 2 {
		t.Errorf("PROG_MISMATCH finding for version %s, %d calls (want 7, over TCP and UDP)", f.Fact("version"), f.Affected)
	}
	contains(t, "explanation", f.Explanation, "supports versions 2 to 4")
	one(t, fs, "app.error-reply", "error", "NOT_REGISTERED")
}

// TestExamplesApp checks the lab scenarios where the app detectors have
// something to say, and where they must not.
func TestExamplesApp(t *testing.T) {
	ex := func(name string) string { return corpus.Path(t, "examples", name) }
	t.Run("oncrpc", func(t *testing.T) {
		fs := diagnoseArgs(t, ex("oncrpc"))
		if len(fs) != 2 {
			t.Fatalf("want 2 findings, got\n%s", strings.Join(ids(fs), "\n"))
		}
		mm := one(t, fs, "app.error-reply", "error", "PROG_MISMATCH")
		if mm.Fact("program") != "100000" || mm.Fact("version") != "5" || mm.Fact("supported_versions") != "2-4" {
			t.Errorf("PROG_MISMATCH facts %v", mm.Facts)
		}
		un := one(t, fs, "app.error-reply", "error", "PROG_UNAVAIL")
		if un.Fact("program") != "100003" {
			t.Errorf("PROG_UNAVAIL facts %v", un.Facts)
		}
		for _, f := range fs {
			if len(f.Vantages) != 1 || !strings.Contains(f.Vantages[0], "client, router-in, router-out, server") || f.Connections[0].Capture != "client" {
				t.Errorf("%s: not merged across the four vantage points: %q from %s", f.Title, f.Vantages, f.Connections[0].Capture)
			}
		}
	})
	t.Run("burst-drop", func(t *testing.T) {
		// The GridFTP story: the client's AUTH never reaches the server,
		// which times out with 421. At the client it answers AUTH; at the
		// server it is unsolicited: one finding, from the client's view.
		fs := diagnoseArgs(t, ex("burst-drop"))
		if len(fs) != 1 {
			t.Fatalf("want 1 finding, got\n%s", strings.Join(ids(fs), "\n"))
		}
		f := one(t, fs, "app.error-reply", "error", "421")
		if f.Severity != detect.Error || f.Affected != 3 || f.OutOf != 7 {
			t.Errorf("%v %d of %d", f.Severity, f.Affected, f.OutOf)
		}
		contains(t, "title", f.Title, "FTP AUTH", "421 Idle Timeout")
		contains(t, "explanation", f.Explanation, "never acknowledged the request", "AUTH GSSAPI", "retransmitted")
		contains(t, "vantages", strings.Join(f.Vantages, ""), "client, router-in, router-out, server")
	})
	for _, name := range []string{"conntrack-idle-reset", "duplicate-forwarding", "pmtu-blackhole", "fin-lost", "healthy",
		"http-keepalive", "http-no-keepalive", "bulk-random-loss", "syn-drop", "timewait-reuse", "snat-mss-clamp"} {
		t.Run(name, func(t *testing.T) {
			if fs := diagnoseArgs(t, ex(name)); len(fs) > 0 {
				t.Errorf("unexpected findings:\n%s", strings.Join(ids(fs), "\n"))
			}
		})
	}
}

// TestDecoderCaptures: the app packages' captures made on this machine.
func TestDecoderCaptures(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		fs := diagnoseArgs(t, testdata(t, "http1", "http.pcap"))
		if f := one(t, fs, "app.error-reply", "error", "503"); f.Severity != detect.Error {
			t.Errorf("503: %v", f.Severity)
		}
		if f := one(t, fs, "app.error-reply", "error", "404"); f.Severity != detect.Info || f.Affected != 2 {
			t.Errorf("404: %v, %d", f.Severity, f.Affected)
		}
		if len(fs) != 2 {
			t.Errorf("findings:\n%s", strings.Join(ids(fs), "\n"))
		}
	})
	t.Run("ftp", func(t *testing.T) {
		fs := diagnoseArgs(t, testdata(t, "ftp", "ftp.pcap"))
		if f := one(t, fs, "app.error-reply", "error", "421"); f.Severity != detect.Error {
			t.Errorf("421: %v", f.Severity)
		}
		if f := one(t, fs, "app.error-reply", "error", "550"); f.Severity != detect.Info {
			t.Errorf("550 on SIZE: %v", f.Severity)
		}
		if len(fs) != 2 {
			t.Errorf("findings:\n%s", strings.Join(ids(fs), "\n"))
		}
	})
	t.Run("tls", func(t *testing.T) {
		fs := diagnoseArgs(t, testdata(t, "tls", "tls.pcap"))
		for _, e := range []string{"protocol_version", "unknown_ca", "encrypted_alert"} {
			if f := one(t, fs, "app.error-reply", "error", e); f.Severity != detect.Error {
				t.Errorf("%s: %v", e, f.Severity)
			}
		}
		f := one(t, fs, "app.no-reply", "server", "127.0.0.1:4436")
		contains(t, "title", f.Title, "TLS ClientHello to 127.0.0.1:4436 never answered")
		if f.Fact("transport") != "acknowledged" {
			t.Errorf("transport %q", f.Fact("transport"))
		}
		if len(fs) != 4 {
			t.Errorf("findings:\n%s", strings.Join(ids(fs), "\n"))
		}
	})
	t.Run("dns", func(t *testing.T) {
		fs := diagnoseArgs(t, testdata(t, "dns", "dns.pcap"))
		for e, sev := range map[string]detect.Severity{"NXDOMAIN": detect.Info, "SERVFAIL": detect.Error, "REFUSED": detect.Error} {
			if f := one(t, fs, "app.error-reply", "error", e); f.Severity != sev {
				t.Errorf("%s: %v", e, f.Severity)
			}
		}
		// drop.test: the resolver answers others, not this one (sent twice).
		f := one(t, fs, "app.no-reply", "server", "127.0.0.53:53")
		contains(t, "explanation", f.Explanation, "drop.test", "answered 11 other requests", "sent the query 2 times")
		// A resolver that answers nothing at all, queried three times.
		f = one(t, fs, "app.no-reply", "server", "127.0.0.54:53")
		contains(t, "explanation", f.Explanation, "anything.test", "Nothing at all came back", "3 times")
		if f.Severity != detect.Error {
			t.Errorf("silent resolver: %v", f.Severity)
		}
		if len(fs) != 5 {
			t.Errorf("findings:\n%s", strings.Join(ids(fs), "\n"))
		}
	})
	t.Run("missing-fin", func(t *testing.T) {
		if fs := diagnoseArgs(t, testdata(t, "http1", "missing-fin.pcap")); len(fs) > 0 {
			t.Errorf("findings:\n%s", strings.Join(ids(fs), "\n"))
		}
	})
}

// TestPeerTraces: Zeek's and Wireshark's traces. The only application
// faults in them are a request a server acknowledged and never answered
// in 5 minutes (Zeek's retransmit-timeout test); multicast name queries
// nobody answers, scanner probes a non-RPC server answered in its own
// protocol, a search-list expansion a home gateway refuses and a 150-second
// FTP transfer are not faults.
func TestPeerTraces(t *testing.T) {
	want := map[string][]string{
		"tcp-retransmit-timeout.pcapng": {"app.no-reply(error): HTTP GET request to 192.168.0.1:80 never answered"},
	}
	for _, file := range corpus.PeerCaptures(t) {
		name := filepath.Base(file)
		got := ids(diagnoseArgs(t, file))
		if strings.Join(got, "\n") != strings.Join(want[name], "\n") {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want[name])
		}
	}
}

// TestSlow: thirty requests around 20 ms and two that take 2.5 s and 3 s:
// the two, as a warning, without retransmissions.
func TestSlow(t *testing.T) {
	ex := steady(30)
	ex[7].latency = 2500 * time.Millisecond
	ex[21].latency = 3 * time.Second
	fs := diagnoseArgs(t, httpCapture(t, "slow.pcap", ex))
	if len(fs) != 1 {
		t.Fatalf("findings:\n%s", strings.Join(ids(fs), "\n"))
	}
	f := one(t, fs, "app.slow", "operation", "GET")
	if f.Severity != detect.Warning || f.Affected != 2 || f.OutOf != 30 || f.Fact("outliers") != "2" {
		t.Errorf("%v %d of %d", f.Severity, f.Affected, f.OutOf)
	}
	contains(t, "explanation", f.Explanation, "None of their connections retransmitted", "3.0 s, 2.5 s")
	contains(t, "title", f.Title, "HTTP GET requests to 10.2.0.2:80: 2 answered in 2.5 s or more")
}

// TestSlowByLoss: the slow request was lost twice on the way; the finding
// says it is loss recovery.
func TestSlowByLoss(t *testing.T) {
	ex := steady(30)
	ex[4].loseRequest = true
	fs := diagnoseArgs(t, httpCapture(t, "slowloss.pcap", ex))
	f := one(t, fs, "app.slow", "operation", "GET")
	contains(t, "explanation", f.Explanation, "retransmitted")
	if f.Affected != 1 {
		t.Errorf("%d slow", f.Affected)
	}
}

// TestSlowLookalikes: no finding for too few samples, for a distribution
// that is simply wide, or for many slow requests (a slow mode, not
// outliers).
func TestSlowLookalikes(t *testing.T) {
	few := steady(15)
	few[3].latency = 4 * time.Second
	wide := steady(40)
	for i := range wide {
		wide[i].latency = time.Duration(10+i*i) * time.Millisecond // 10 ms to 1.5 s, evenly spread in rank
	}
	bimodal := steady(30)
	for i := 0; i < 30; i += 3 {
		bimodal[i].latency = 2 * time.Second
	}
	for name, ex := range map[string][]httpExchange{"few": few, "wide": wide, "bimodal": bimodal} {
		if fs := only(diagnoseArgs(t, httpCapture(t, name+".pcap", ex)), "app.slow"); len(fs) > 0 {
			t.Errorf("%s: %s", name, strings.Join(ids(fs), "\n"))
		}
	}
}

// TestSlowDNS: a resolver answering in about 1 ms, twice after 1.5 s.
func TestSlowDNS(t *testing.T) {
	var qs []dnsQuery
	for i := 0; i < 40; i++ {
		qs = append(qs, dnsQuery{at: time.Duration(i) * 500 * time.Millisecond, name: fmt.Sprintf("host%d.example.com", i),
			latency: time.Duration(800+i*10) * time.Microsecond})
	}
	qs[10].latency = 1500 * time.Millisecond
	qs[30].latency = 1800 * time.Millisecond
	fs := diagnoseArgs(t, dnsCapture(t, "slowdns.pcap", "10.53.0.1", qs, ""))
	f := one(t, fs, "app.slow", "protocol", "dns")
	if f.Affected != 2 || f.Severity != detect.Warning {
		t.Errorf("%v %d", f.Severity, f.Affected)
	}
	if len(fs) != 1 {
		t.Errorf("findings:\n%s", strings.Join(ids(fs), "\n"))
	}
}

// TestNoReplyHTTP: a server that accepts a request and never answers; the
// client gives up after 30 s.
func TestNoReplyHTTP(t *testing.T) {
	ex := steady(3)
	ex = append(ex, httpExchange{at: 5 * time.Second, noReply: true, wait: 30 * time.Second})
	fs := diagnoseArgs(t, httpCapture(t, "noreply.pcap", ex))
	f := one(t, fs, "app.no-reply", "server", "10.2.0.2:80")
	if f.Severity != detect.Error || f.Fact("transport") != "acknowledged" || f.Affected != 1 || f.OutOf != 4 {
		t.Errorf("%v %q %d of %d", f.Severity, f.Fact("transport"), f.Affected, f.OutOf)
	}
	contains(t, "explanation", f.Explanation, "waited 30 s and then closed")
}

// TestNoReplyLookalikes: a request the capture ends right after, one the
// server answers with a reset, and one seen only one way are not
// unanswered requests.
func TestNoReplyLookalikes(t *testing.T) {
	cases := map[string][]httpExchange{
		"capture-ends": {{noReply: true, wait: 300 * time.Millisecond}},
		"server-reset": {{resetByServer: true, latency: 5 * time.Second}},
	}
	for name, ex := range cases {
		if fs := diagnoseArgs(t, httpCapture(t, name+".pcap", ex)); len(fs) > 0 {
			t.Errorf("%s: %s", name, strings.Join(ids(fs), "\n"))
		}
	}
	// Only the client's packets pass this vantage point: it sees the
	// request and never the answer.
	oneWay := capture{}
	for _, f := range (httpExchange{latency: 10 * time.Millisecond}).frames(0) {
		if len(f.Data) > 30 && f.Data[26] == 10 && f.Data[27] == 1 { // IPv4 source 10.1.x.x
			oneWay.add([]synth.Frame{f})
		}
	}
	if fs := diagnoseArgs(t, oneWay.write(t, "oneway.pcap")); len(fs) > 0 {
		t.Errorf("one-way: %s", strings.Join(ids(fs), "\n"))
	}
}

// TestNoReplyDNS: a resolver that is gone (ICMP port unreachable), and
// one that stays silent.
func TestNoReplyDNS(t *testing.T) {
	q := []dnsQuery{{name: "www.example.com", tries: 2, lost: true}}
	fs := diagnoseArgs(t, dnsCapture(t, "icmp.pcap", "10.53.0.1", q, "10.53.0.1"))
	f := one(t, fs, "app.no-reply", "transport", "icmp")
	contains(t, "explanation", f.Explanation, "ICMP port unreachable came back from 10.53.0.1")
	fs = diagnoseArgs(t, dnsCapture(t, "silent.pcap", "10.53.0.1", q, ""))
	f = one(t, fs, "app.no-reply", "transport", "silent")
	contains(t, "explanation", f.Explanation, "Nothing at all came back from 10.53.0.1:53")
	if f.Severity != detect.Error {
		t.Errorf("%v", f.Severity)
	}
}

// TestErrorReplyLookalikes: an authentication challenge answered, a 503
// among two hundred successes, a search-list NXDOMAIN.
func TestErrorReplyLookalikes(t *testing.T) {
	challenge := steady(5)
	challenge[1].status = 401
	fs := diagnoseArgs(t, httpCapture(t, "401.pcap", challenge))
	if len(fs) > 0 {
		t.Errorf("401 then 200: %s", strings.Join(ids(fs), "\n"))
	}
	sporadic := steady(200)
	sporadic[50].status = 503
	fs = diagnoseArgs(t, httpCapture(t, "503.pcap", sporadic))
	if f := one(t, fs, "app.error-reply", "error", "503"); f.Severity != detect.Warning {
		t.Errorf("one 503 in 200: %v", f.Severity)
	}
	qs := []dnsQuery{{name: "db.corp.example"}, {at: time.Second, name: "db.corp.example.lab.example", rcode: 3}}
	if fs := diagnoseArgs(t, dnsCapture(t, "search.pcap", "10.53.0.1", qs, "")); len(fs) > 0 {
		t.Errorf("search list: %s", strings.Join(ids(fs), "\n"))
	}
}

// TestManyUnanswered: a resolver that drops a third of 15,000 queries and
// answers NXDOMAIN to another third: every failed query is judged, through
// the view's indexes (a scan of every transaction and connection per
// failed query is quadratic: 10^11 steps for 100,000 lost queries among a
// million connections). The time bound only catches a gross regression.
func TestManyUnanswered(t *testing.T) {
	if testing.Short() {
		t.Skip("15,000 queries")
	}
	qs := make([]dnsQuery, 15000)
	for i := range qs {
		qs[i] = dnsQuery{at: time.Duration(i) * time.Millisecond, name: fmt.Sprintf("host%d.example", i%500), latency: time.Millisecond,
			lost: i%3 == 0, tries: 1 + 2*btoi(i%3 == 0)}
		if i%3 == 1 {
			qs[i].rcode = 3
		}
	}
	file := dnsCapture(t, "many.pcap", "10.1.0.53", qs, "")
	start := time.Now()
	fs := diagnoseArgs(t, file)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("diagnosis took %v", d)
	}
	f := one(t, fs, "app.no-reply", "server", "10.1.0.53:53")
	contains(t, "explanation", f.Explanation, "5000 queries")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
