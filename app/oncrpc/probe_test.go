package oncrpc

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

func TestProbe(t *testing.T) {
	call := callMsg(0x1234, ProgNFS, 3, 1, AuthSys, authSys("c", 0, 0), xdrw().opaque(make([]byte, 32)).bytes())
	unknown := callMsg(0x1234, 400123, 1, 1, AuthNone, nil, nil)
	reply := replyOK(0x1234, xdrw().u32(0).bytes())
	tls := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	dns := []byte{0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 3, 'w', 'w', 'w', 0, 0, 1, 0, 1}
	cases := []struct {
		name string
		side app.Side
		b    []byte
		port uint16
		want app.Confidence
	}{
		{"tcp call, known program", app.Client, record(call), 40000, app.Likely},
		{"udp call, known program", app.Client, call, 40000, app.Likely},
		{"tcp call, unknown program", app.Client, record(unknown), 40000, app.Maybe},
		{"tcp call, unknown program, rpc port", app.Client, record(unknown), 111, app.Likely},
		{"gluster call on a brick port", app.Client, record(callMsg(1, ProgGlusterHandshk, 2, 1, AuthGlusterV2, authGluster(), nil)), 49152, app.Likely},
		{"tcp reply", app.Server, record(reply), 40000, app.Maybe},
		{"tcp reply, nfs port", app.Server, record(reply), 2049, app.Likely},
		{"first bytes of a call only", app.Client, record(call)[:12], 2049, app.Maybe},
		{"first bytes of a call only, other port", app.Client, record(call)[:12], 8080, app.No},
		{"http on the nfs port", app.Client, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 2049, app.No},
		{"http", app.Client, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 80, app.No},
		{"tls", app.Client, tls, 443, app.No},
		{"dns", app.Client, dns, 53, app.No},
		{"rpc version 3", app.Client, func() []byte { b := record(call); b[4+11] = 3; return b }(), 40000, app.No},
		{"empty", app.Client, nil, 111, app.Maybe},
	}
	for _, c := range cases {
		if got := Probe(c.side, c.b, c.port); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if Protocol.Name != "oncrpc" || Protocol.NewStream(nil) == nil || Protocol.NewDatagrams(nil) == nil {
		t.Error("Protocol incomplete")
	}
}

// TestFieldNamesKnownToTshark: every field name we yield exists in tshark.
func TestFieldNamesKnownToTshark(t *testing.T) {
	out, err := exec.Command("tshark", "-G", "fields").Output()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, "\t"); len(f) > 2 {
			known[f[2]] = true
		}
	}
	for _, n := range FieldNames() {
		if !known[n] {
			t.Errorf("tshark has no field %q", n)
		}
	}
}
