package dfilter

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/fields"
	"github.com/wiresleuth/wiresleuth/packet"
)

func TestCompileErrors(t *testing.T) {
	for _, bad := range []string{"", "tcp.port ==", "no.such.field", "(tcp", "tcp.port = 80", "tcp and", "\"open", "tcp.port == 80 )"} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestSemantics(t *testing.T) {
	// A UDP packet from 10.0.0.1:5000 to 10.0.0.2:53, TTL 64.
	p := &packet.Packet{}
	raw := []byte{0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x13, 0x88, 0, 53, 0, 8, 0, 0}
	packet.NewDecoder().Decode(&capture.Frame{Number: 1, Data: raw, OrigLen: len(raw), LinkType: capture.LinkRaw}, p)
	if p.Src != netip.MustParseAddr("10.0.0.1") {
		t.Fatal("decode")
	}
	c := &fields.Context{P: p}
	for expr, want := range map[string]bool{
		"udp":                                 true,
		"tcp":                                 false,
		"ip.addr == 10.0.0.2":                 true,
		"ip.addr != 10.0.0.2":                 false, // every occurrence must differ
		"ip.addr != 10.9.9.9":                 true,
		"ip.addr == 10.0.0.0/24":              true,
		"not ip.addr == 10.0.0.0/24":          false,
		"udp.port == 53 && ip.ttl > 63":       true,
		"udp.port == 54 || ip.ttl ge 64":      true,
		"tcp.port != 80":                      false, // absent field: comparisons are false
		"!(tcp.port == 80)":                   true,
		"frame.len le 28 and frame.len >= 28": true,
		"ip.src eq 10.0.0.1 and (udp.dstport == 1 or udp.dstport == 53)": true,
	} {
		f, err := Compile(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if got := f.Match(c); got != want {
			t.Errorf("%q = %v, want %v", expr, got, want)
		}
	}
}

func TestApplicationFields(t *testing.T) {
	p := &packet.Packet{}
	raw := []byte{0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x13, 0x88, 0, 53, 0, 8, 0, 0}
	packet.NewDecoder().Decode(&capture.Frame{Number: 1, Data: raw, OrigLen: len(raw), LinkType: capture.LinkRaw}, p)
	c := &fields.Context{P: p, App: []app.Field{
		app.Bool("http", true), app.String("http.request.method", "GET"), app.String("http.host", "www.Example.com"),
		app.Bool("http", true), app.String("http.request.method", "HEAD"),
		app.Bool("rpc", true), app.Hex("rpc.xid", 4, 8), app.Int("gluster.op_ret", -1), app.Uint("gluster.op_errno", 13),
	}}
	for expr, want := range map[string]bool{
		"http":                                         true,
		"dns":                                          false,
		`http.request.method == "GET"`:                 true,
		"http.request.method == HEAD":                  true,
		"http.request.method == POST":                  false,
		"http.request.method != GET":                   false, // one occurrence is GET
		"http.request.method != POST":                  true,
		`http.host contains "Example"`:                 true,
		`http.host contains "example"`:                 false, // contains is case-sensitive
		`http.host matches "example\.com$"`:            true,  // matches is not
		`http.host ~ "^www"`:                           true,
		`http.host == "www.Example.com"`:               true,
		`http.request.method > "GAA"`:                  true,
		"rpc.xid == 0x00000004 and rpc.xid == 4":       true,
		"gluster.op_ret == -1":                         true,
		"gluster.op_ret < 0 && gluster.op_errno == 13": true,
		"http.response.code == 200":                    false,
		`http.request.method == "a\"b"`:                false,
	} {
		f, err := Compile(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if got := f.Match(c); got != want {
			t.Errorf("%q = %v, want %v", expr, got, want)
		}
	}
	f, err := Compile(`http.host contains "x" or not (tcp.port == 80 and rpc)`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fl := range f.Fields() {
		names = append(names, fl.Name)
	}
	if got := strings.Join(names, " "); got != "http.host tcp.port rpc" {
		t.Errorf("Fields() = %s", got)
	}
	if _, err := Compile(`http.host matches "("`); err == nil {
		t.Error("a bad regular expression compiled")
	}
	if f, err := Compile(`http.host == "a\"b\\"`); err != nil || f.root.(cmpNode).lit.text != `a"b\` {
		t.Errorf("escapes: %v %+v", err, f)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"tcp", "ip.addr == 10.0.0.0/8 and not (tcp.port == 80 || udp)", "tcp.len >= 0x10", "eth.src == 00:11:22:33:44:55", "\"x\"", "!!!tcp", `http.host contains "a\"b"`, `http.request.method ~ "^G(ET|X)"`} {
		f.Add(s)
	}
	raw := []byte{0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x13, 0x88, 0, 53, 0, 8, 0, 0}
	p := &packet.Packet{}
	packet.NewDecoder().Decode(&capture.Frame{Number: 1, Data: raw, OrigLen: len(raw), LinkType: capture.LinkRaw}, p)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Compile(expr)
		if err != nil {
			return
		}
		flt.Match(&fields.Context{P: p})
	})
}
