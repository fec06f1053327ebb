package replay

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// Copy returns an Ethernet frame (without VLAN tags) carrying the same IP
// packet with another source MAC, and its TTL (hop limit) lowered by dec,
// the IPv4 header checksum fixed: what a second router forwarding the
// packet would put on the wire.
func Copy(f []byte, src synth.MAC, dec uint8) []byte {
	g := slices.Clone(f)
	copy(g[6:12], src[:])
	if len(g) < 14+20 {
		return g
	}
	switch g[14] >> 4 {
	case 4:
		ip := g[14:]
		ip[8] -= dec
		ihl := int(ip[0]&0xf) * 4
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ipSum(ip[:ihl]))
	case 6:
		g[14+7] -= dec
	}
	return g
}

// SetDst sets an Ethernet frame's destination MAC in place.
func SetDst(f []byte, dst synth.MAC) { copy(f[0:6], dst[:]) }

func ipSum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// Sort puts frames in time order (stable).
func Sort(fs []synth.Frame) []synth.Frame {
	slices.SortStableFunc(fs, func(a, b synth.Frame) int { return a.Time.Compare(b.Time) })
	return fs
}

// Write writes Ethernet frames as a pcap file in a test's temporary
// directory and returns its name.
func Write(tb testing.TB, name string, fs []synth.Frame) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := synth.WriteFile(p, synth.LinkEthernet, fs); err != nil {
		tb.Fatal(err)
	}
	return p
}

// WritePcapng writes frames as a pcapng file with n Ethernet interfaces.
func WritePcapng(tb testing.TB, name string, n int, fs []synth.Frame) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w, err := synth.NewPcapngWriter(f, synth.PcapngOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for range n {
		if _, err := w.AddInterface(synth.Interface{LinkType: synth.LinkEthernet}); err != nil {
			tb.Fatal(err)
		}
	}
	for _, fr := range fs {
		if err := w.WriteFrame(fr); err != nil {
			tb.Fatal(err)
		}
	}
	return p
}

// T0 is the start of generated captures.
var T0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// PadSum rewrites the TCP checksum of an IPv4 Ethernet frame (without
// VLAN tags) that carries padding as a device would that sums the padding
// as part of the segment: over the segment and the padding, with the
// pseudo-header's length grown to match. Frames without padding are
// returned unchanged.
func PadSum(f []byte) []byte {
	if len(f) < 14+20 || f[12] != 0x08 || f[13] != 0 || f[14]>>4 != 4 || f[14+9] != 6 {
		return f
	}
	ip := f[14:]
	ihl := int(ip[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if total >= len(ip) || total < ihl+20 {
		return f
	}
	g := slices.Clone(f)
	ip = g[14:]
	seg := ip[ihl:] // the segment and the padding after it
	seg[16], seg[17] = 0, 0
	var s uint32
	for i := 12; i < 20; i += 2 {
		s += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	s += 6 + uint32(len(seg))
	for i := 0; i+1 < len(seg); i += 2 {
		s += uint32(binary.BigEndian.Uint16(seg[i:]))
	}
	if len(seg)%2 == 1 {
		s += uint32(seg[len(seg)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	binary.BigEndian.PutUint16(seg[16:], ^uint16(s))
	return g
}
