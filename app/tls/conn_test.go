package tls

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
	"github.com/wiresleuth/wiresleuth/capture"
)

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }
func u24(v int) []byte { return []byte{byte(v >> 16), byte(v >> 8), byte(v)} }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func record(typ ContentType, body []byte) []byte {
	return cat([]byte{byte(typ), 3, 3}, u16(len(body)), body)
}

func handshakeMsg(typ HandshakeType, body []byte) []byte {
	return cat([]byte{byte(typ)}, u24(len(body)), body)
}

func ext(typ int, data []byte) []byte { return cat(u16(typ), u16(len(data)), data) }

func clientHelloBody(sni string, alpn []string, versions []uint16) []byte {
	var exts []byte
	if sni != "" {
		entry := cat([]byte{0}, u16(len(sni)), []byte(sni))
		exts = append(exts, ext(extServerName, cat(u16(len(entry)), entry))...)
	}
	if len(alpn) > 0 {
		var list []byte
		for _, p := range alpn {
			list = append(list, byte(len(p)))
			list = append(list, p...)
		}
		exts = append(exts, ext(extALPN, cat(u16(len(list)), list))...)
	}
	if len(versions) > 0 {
		var list []byte
		for _, v := range versions {
			list = append(list, u16(int(v))...)
		}
		exts = append(exts, ext(extSupportedVersions, cat([]byte{byte(len(list))}, list))...)
	}
	return cat(u16(0x0303), make([]byte, 32), []byte{0}, u16(4), u16(0x1301), u16(0xc02f), []byte{1, 0}, u16(len(exts)), exts)
}

func serverHelloBody(random []byte, cipher int, version uint16) []byte {
	var exts []byte
	if version != 0 {
		exts = ext(extSupportedVersions, u16(int(version)))
	}
	return cat(u16(0x0303), random, []byte{0}, u16(cipher), []byte{0}, u16(len(exts)), exts)
}

type step struct {
	side app.Side
	data []byte
	gap  int64
}

func run(steps ...step) *apptest.Collector {
	col := &apptest.Collector{}
	c := New(col.Output())
	for i, s := range steps {
		at := app.Pos{Frame: int64(i + 1), Time: capture.Time(i+1) * 1e6}
		if s.gap > 0 {
			c.Gap(s.side, s.gap, at)
		} else {
			c.Bytes(s.side, s.data, at)
		}
	}
	c.End(app.Pos{Frame: int64(len(steps) + 1)})
	return col
}

func TestHelloFragmentedAcrossRecords(t *testing.T) {
	msg := handshakeMsg(TypeClientHello, clientHelloBody("a.example", []string{"h2"}, []uint16{0x1a1a, 0x0304, 0x0303}))
	col := run(step{side: app.Client, data: record(HandshakeRecord, msg[:30])},
		step{side: app.Client, data: cat(record(HandshakeRecord, msg[30:]), record(AlertRecord, []byte{2, 40}))})
	h := apptest.Of[*ClientHello](col)
	if len(h) != 1 || h[0].ServerName != "a.example" || h[0].ALPN[0] != "h2" || h[0].MaxVersion() != TLS13 || h[0].Start.Frame != 1 || h[0].End.Frame != 2 {
		t.Fatalf("%+v", h)
	}
	if h[0].SupportedVersions[0].String() != "GREASE" || h[0].CipherSuites[0].String() != "TLS_AES_128_GCM_SHA256" {
		t.Fatalf("%v %v", h[0].SupportedVersions, h[0].CipherSuites)
	}
	// A client alert before any ServerHello still fails the handshake.
	if len(col.Txs) != 1 || col.Txs[0].Error != "handshake_failure" {
		t.Fatalf("%+v", col.Txs)
	}
}

func TestHelloRetryThenTLS13(t *testing.T) {
	ch := record(HandshakeRecord, handshakeMsg(TypeClientHello, clientHelloBody("", nil, []uint16{0x0304})))
	hrr := record(HandshakeRecord, handshakeMsg(TypeServerHello, serverHelloBody(helloRetryRandom, 0x1301, 0x0304)))
	sh := record(HandshakeRecord, handshakeMsg(TypeServerHello, serverHelloBody(make([]byte, 32), 0x1301, 0x0304)))
	col := run(step{side: app.Client, data: ch}, step{side: app.Server, data: hrr},
		step{side: app.Client, data: ch}, step{side: app.Server, data: cat(sh, record(ApplicationData, make([]byte, 100)))},
		step{side: app.Client, data: record(ApplicationData, make([]byte, 53))},
		step{side: app.Server, data: record(ApplicationData, make([]byte, 200))})
	s := apptest.Of[*ConnSummary](col)[0]
	if !s.HelloRetry || s.Version != TLS13 || !s.Established || s.EstablishedAt.Frame != 6 {
		t.Fatalf("%+v", s)
	}
	if col.Txs[0].Status != app.StatusOK || col.Txs[0].ReplyAt.Frame != 4 {
		t.Fatalf("%+v", col.Txs)
	}
}

func TestTLS13ShortRecordIsAlert(t *testing.T) {
	ch := record(HandshakeRecord, handshakeMsg(TypeClientHello, clientHelloBody("x", nil, []uint16{0x0304})))
	sh := record(HandshakeRecord, handshakeMsg(TypeServerHello, serverHelloBody(make([]byte, 32), 0x1302, 0x0304)))
	col := run(step{side: app.Client, data: ch}, step{side: app.Server, data: cat(sh, record(ApplicationData, make([]byte, 500)))},
		step{side: app.Client, data: record(ApplicationData, make([]byte, 53))},
		step{side: app.Server, data: record(ApplicationData, make([]byte, 19))})
	if s := apptest.Of[*ConnSummary](col)[0]; s.Established || s.FailedBy == nil || !s.FailedBy.Inferred {
		t.Fatalf("%+v", s)
	}
	if col.Txs[0].Error != "encrypted_alert" || col.Txs[0].ReplyAt.Frame != 4 {
		t.Fatalf("%+v", col.Txs)
	}
}

func TestGaps(t *testing.T) {
	ch := record(HandshakeRecord, handshakeMsg(TypeClientHello, clientHelloBody("gap.example", nil, nil)))
	app1 := record(ApplicationData, make([]byte, 1000))
	// A gap inside an application data record is skipped.
	col := run(step{side: app.Client, data: ch}, step{side: app.Client, data: app1[:100]},
		step{side: app.Client, gap: 800}, step{side: app.Client, data: cat(app1[900:], record(AlertRecord, []byte{1, 0}))})
	s := apptest.Of[*ConnSummary](col)[0]
	if s.Lost[app.Client] || s.AppRecords[app.Client] != 1 || s.Alerts != 1 || s.AppBytes[app.Client] != 200 {
		t.Fatalf("%+v", s)
	}
	// A gap across a record boundary stops the side.
	col = run(step{side: app.Client, data: ch[:10]}, step{side: app.Client, gap: int64(len(ch))},
		step{side: app.Client, data: app1})
	if s := apptest.Of[*ConnSummary](col)[0]; !s.Lost[app.Client] || s.Records[app.Client] != 1 {
		t.Fatalf("%+v", s)
	}
	// A gap inside a hello: parsed as far as kept, flagged truncated.
	col = run(step{side: app.Client, data: ch[:50]}, step{side: app.Client, gap: int64(len(ch) - 50)})
	if h := apptest.Of[*ClientHello](col); len(h) != 1 || !h[0].Truncated || h[0].Malformed != "" {
		t.Fatalf("%+v", h)
	}
}

func TestNotTLSStops(t *testing.T) {
	for _, in := range [][]byte{
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		cat([]byte{22, 3, 3}, u16(MaxRecord+1)),
		{0x80, 0x2e, 0x01, 0x03, 0x01}, // SSLv2-compatible ClientHello: not decoded
	} {
		col := run(step{side: app.Client, data: in})
		if s := apptest.Of[*ConnSummary](col)[0]; !s.Lost[app.Client] {
			t.Errorf("%q: %+v", in, s)
		}
	}
}

func TestMalformedHelloKeepsPartialResults(t *testing.T) {
	body := clientHelloBody("ok.example", nil, nil)
	bad := body[:len(body)-3] // the extensions block is shorter than announced
	col := run(step{side: app.Client, data: record(HandshakeRecord, handshakeMsg(TypeClientHello, bad))})
	h := apptest.Of[*ClientHello](col)
	if len(h) != 1 || h[0].Malformed != "short extensions" || len(h[0].CipherSuites) != 2 || h[0].Truncated {
		t.Fatalf("%+v", h[0])
	}
}

func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		AlertDescription(70).String():  "protocol_version",
		AlertDescription(48).String():  "unknown_ca",
		AlertDescription(200).String(): "alert_200",
		Version(0x7f1c).String():       "TLS 1.3 draft 28",
		Version(0x0a0a).String():       "GREASE",
		CipherSuite(0xc02f).String():   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
		CipherSuite(0x1234).String():   "0x1234",
		HandshakeType(11).String():     "certificate",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestProbe(t *testing.T) {
	ch := record(HandshakeRecord, handshakeMsg(TypeClientHello, clientHelloBody("", nil, nil)))
	sh := record(HandshakeRecord, handshakeMsg(TypeServerHello, serverHelloBody(make([]byte, 32), 0x1301, 0)))
	for _, tc := range []struct {
		side  app.Side
		first []byte
		want  app.Confidence
	}{
		{app.Client, ch, app.Likely},
		{app.Client, ch[:3], app.Maybe},
		{app.Server, sh, app.Likely},
		{app.Server, record(AlertRecord, []byte{2, 70}), app.Likely},
		{app.Client, sh, app.No},
		{app.Client, []byte("GET / HTTP/1.1"), app.No},
		{app.Server, []byte("220 ftp"), app.No},
		{app.Client, record(ApplicationData, make([]byte, 40)), app.Maybe},
	} {
		if got := Probe(tc.side, tc.first, 443); got != tc.want {
			t.Errorf("Probe(%v, %x) = %v, want %v", tc.side, tc.first, got, tc.want)
		}
	}
}
