package dfilter

import (
	"net/netip"
	"testing"

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

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"tcp", "ip.addr == 10.0.0.0/8 and not (tcp.port == 80 || udp)", "tcp.len >= 0x10", "eth.src == 00:11:22:33:44:55", "\"x\"", "!!!tcp"} {
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
