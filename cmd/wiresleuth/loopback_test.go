package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/tshark"
)

// rewrap writes the frames of a real Ethernet capture again under the BSD
// null (host-order address family) or OpenBSD loop (network order) link
// type. No BSD host is available here: the traffic is the Linux stack's,
// only its link encapsulation is BSD's.
func rewrap(t *testing.T, src, dst string, lt capture.LinkType, af6 uint32, order binary.ByteOrder) {
	r, err := capture.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], uint32(lt))
	out.Write(h)
	for f, err := range r.Frames() {
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Data) < 14 {
			continue
		}
		var af uint32
		switch binary.BigEndian.Uint16(f.Data[12:]) {
		case 0x0800:
			af = 2
		case 0x86dd:
			af = af6
		default:
			continue
		}
		payload := f.Data[14:]
		rec := make([]byte, 16+4+len(payload))
		binary.LittleEndian.PutUint32(rec[0:], uint32(int64(f.Time)/1e9))
		binary.LittleEndian.PutUint32(rec[4:], uint32(int64(f.Time)%1e9/1e3))
		binary.LittleEndian.PutUint32(rec[8:], uint32(4+len(payload)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(4+len(payload)))
		order.PutUint32(rec[16:], af)
		copy(rec[20:], payload)
		out.Write(rec)
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBSDLoopback reads real traffic under the BSD null and OpenBSD loop
// link types (AF_INET6 as macOS and OpenBSD number it) and compares with
// tshark.
func TestBSDLoopback(t *testing.T) {
	dir := t.TempDir()
	src := corpus.Path(t, "testdata", "http-veth.pcap")
	for _, tc := range []struct {
		name  string
		lt    capture.LinkType
		af6   uint32
		order binary.ByteOrder
	}{{"null-darwin.pcap", capture.LinkNull, 30, binary.LittleEndian}, {"loop-openbsd.pcap", capture.LinkLoop, 24, binary.BigEndian}} {
		file := filepath.Join(dir, tc.name)
		rewrap(t, src, file, tc.lt, tc.af6, tc.order)
		args := []string{"packets", "-T", "fields"}
		targs := []string{"-r", file, "-T", "fields"}
		for _, f := range issueFields {
			args = append(args, "-e", f)
			targs = append(targs, "-e", f)
		}
		got := wsRun(t, append(args, file)...)
		want := tshark.Run(t, targs...)
		if got != want || got == "" {
			t.Errorf("%s: fields differ from tshark's", tc.name)
		}
		conv := wsRun(t, "conv", "--proto", "tcp", file)
		if !bytes.Contains([]byte(conv), []byte("TCP conversations in "+file+": 6")) {
			t.Errorf("%s: conv\n%s", tc.name, conv)
		}
	}
}
