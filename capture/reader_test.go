package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/tshark"
)

type frameRow struct {
	number  int64
	epoch   string
	origLen int
	capLen  int
	iface   int
	comment string
}

func readAll(t testing.TB, name string) ([]frameRow, *capture.Reader, error) {
	t.Helper()
	r, err := capture.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var rows []frameRow
	for f, err := range r.Frames() {
		if err != nil {
			return rows, r, err
		}
		rows = append(rows, frameRow{f.Number, f.Time.Epoch(), f.OrigLen, len(f.Data), f.Interface, string(f.Comment)})
	}
	return rows, r, nil
}

// TestAgainstTshark reads every capture in the repository and in the shared
// peer traces and compares each frame's number, timestamp, lengths,
// interface and comment with tshark's.
func TestAgainstTshark(t *testing.T) {
	files := corpus.All(t)
	if len(files) < 20 {
		t.Fatalf("only %d captures found", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			got, _, err := readAll(t, file)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			ref := file
			if strings.HasSuffix(file, ".zst") { // tshark 4.0 cannot read zstd
				ref = strings.TrimSuffix(file, ".zst")
			}
			want := tshark.Fields(t, ref, []string{"frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.interface_id", "frame.comment"})
			if len(got) != len(want) {
				t.Fatalf("%d frames, tshark reads %d", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				gs := []string{strconv.FormatInt(g.number, 10), g.epoch, strconv.Itoa(g.origLen), strconv.Itoa(g.capLen), strconv.Itoa(g.iface), g.comment}
				if w[4] == "" { // pcap: tshark prints no interface id
					gs[4] = ""
				}
				if strings.Join(gs, "\t") != strings.Join(w, "\t") {
					t.Fatalf("frame %d:\n got  %q\n want %q", i+1, gs, w)
				}
			}
		})
	}
}

func TestInterfacesAndStats(t *testing.T) {
	_, r, err := readAll(t, corpus.Path(t, "testdata", "multi.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	ifs := r.Interfaces()
	if len(ifs) != 3 {
		t.Fatalf("%d interfaces, want 3 (va, wstun, lo)", len(ifs))
	}
	want := []struct {
		name string
		lt   capture.LinkType
	}{{"va", capture.LinkEthernet}, {"wstun", capture.LinkRaw}, {"lo", capture.LinkEthernet}}
	for i, w := range want {
		if ifs[i].Name != w.name || ifs[i].LinkType != w.lt {
			t.Errorf("interface %d: %s %v, want %s %v", i, ifs[i].Name, ifs[i].LinkType, w.name, w.lt)
		}
		st := ifs[i].Stats
		if st == nil || st.Has&capture.HasReceived == 0 || st.Has&capture.HasDropped == 0 {
			t.Errorf("interface %d: statistics missing: %+v", i, st)
		}
	}
	// capinfos-independent check of the counters: dumpcap records how many
	// packets each interface delivered; the frames in the file must match.
	counts := map[int]uint64{}
	r2, _ := capture.Open(corpus.Path(t, "testdata", "multi.pcapng"))
	defer r2.Close()
	for f, err := range r2.Frames() {
		if err != nil {
			t.Fatal(err)
		}
		counts[f.Interface]++
	}
	for i, ifc := range ifs {
		if ifc.Stats.Received < counts[i] {
			t.Errorf("interface %d: isb_ifrecv %d < %d frames in the file", i, ifc.Stats.Received, counts[i])
		}
	}
	if c := r.Comments(); len(c) != 1 || !strings.Contains(c[0], "veth, tun and loopback") {
		t.Errorf("section comments %q", c)
	}
}

func TestFormatsAndCompression(t *testing.T) {
	base, _, err := readAll(t, corpus.Path(t, "testdata", "http-veth.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		comp capture.Compression
	}{{"http-veth.pcap", capture.Uncompressed}, {"http-veth.pcap.gz", capture.Gzip}, {"http-veth.pcap.zst", capture.Zstd}} {
		rows, r, err := readAll(t, corpus.Path(t, "testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if r.Compression() != tc.comp || r.Format() != capture.FormatPcap {
			t.Errorf("%s: %v %v", tc.file, r.Compression(), r.Format())
		}
		if fmt.Sprint(rows) != fmt.Sprint(base) {
			t.Errorf("%s: frames differ from the uncompressed file", tc.file)
		}
	}
	// Same traffic at nanosecond resolution.
	ns, _, err := readAll(t, corpus.Path(t, "testdata", "http-veth-ns.pcap"))
	if err != nil || len(ns) != len(base) {
		t.Fatalf("ns file: %d frames, %v", len(ns), err)
	}
}

// swapPcap rewrites a little-endian pcap as big-endian (optionally with
// the Kuznetzov record extension), which Linux tools do not produce.
func swapPcap(t *testing.T, data []byte, kuznetzov bool) []byte {
	t.Helper()
	le, be := binary.LittleEndian, binary.BigEndian
	var out bytes.Buffer
	hdr := make([]byte, 24)
	copy(hdr, data[:24])
	magic := uint32(0xa1b2c3d4)
	if kuznetzov {
		magic = 0xa1b2cd34
	}
	be.PutUint32(hdr[0:], magic)
	be.PutUint16(hdr[4:], le.Uint16(data[4:]))
	be.PutUint16(hdr[6:], le.Uint16(data[6:]))
	for _, o := range []int{8, 12, 16, 20} {
		be.PutUint32(hdr[o:], le.Uint32(data[o:]))
	}
	out.Write(hdr)
	for p := data[24:]; len(p) > 0; {
		rec := make([]byte, 16)
		for o := 0; o < 16; o += 4 {
			be.PutUint32(rec[o:], le.Uint32(p[o:]))
		}
		out.Write(rec)
		if kuznetzov {
			out.Write([]byte{0, 0, 0, 2, 0x08, 0x00, 4, 0}) // ifindex 2, IPv4, outgoing
		}
		n := int(le.Uint32(p[8:]))
		out.Write(p[16 : 16+n])
		p = p[16+n:]
	}
	return out.Bytes()
}

func TestBigEndianAndKuznetzov(t *testing.T) {
	path := corpus.Path(t, "testdata", "http-veth.pcap")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := readAll(t, path)
	for _, kz := range []bool{false, true} {
		r, err := capture.NewReader(bytes.NewReader(swapPcap(t, data, kz)), "swapped")
		if err != nil {
			t.Fatal(err)
		}
		var rows []frameRow
		for f, err := range r.Frames() {
			if err != nil {
				t.Fatal(err)
			}
			if kz && f.Direction != capture.DirOutbound {
				t.Fatalf("frame %d: direction %v, want outbound", f.Number, f.Direction)
			}
			rows = append(rows, frameRow{f.Number, f.Time.Epoch(), f.OrigLen, len(f.Data), f.Interface, string(f.Comment)})
		}
		if fmt.Sprint(rows) != fmt.Sprint(base) {
			t.Errorf("kuznetzov=%v: big-endian copy reads differently", kz)
		}
	}
}

func TestNotACapture(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":  {nil, "empty file"},
		"text":   {[]byte("hello, this is a text file\n"), "text"},
		"html":   {[]byte("<!DOCTYPE html><html>"), "HTML"},
		"short":  {[]byte{0xd4, 0xc3}, "only 2 bytes"},
		"random": {[]byte{0x12, 0x99, 0x00, 0x01, 0x02, 0x03, 0xfe, 0xff}, "12 99 00 01"},
		"gzipped-text": {func() []byte {
			var b bytes.Buffer
			w := newGzip(&b)
			w.Write([]byte("just text"))
			w.Close()
			return b.Bytes()
		}(), "text"},
	}
	for name, tc := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, tc.data, 0o644)
		_, err := capture.Open(p)
		if !errors.Is(err, capture.ErrNotCapture) {
			t.Errorf("%s: error %v, want ErrNotCapture", name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, p) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "expected pcap or pcapng") {
			t.Errorf("%s: message %q should name the file, what was expected and what was found (%q)", name, msg, tc.want)
		}
	}
	if _, err := capture.Open(dir); !errors.Is(err, capture.ErrNotCapture) || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestExpandDirectory(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile(corpus.Path(t, "testdata", "icmp.pcap"))
	os.WriteFile(filepath.Join(dir, "b.pcap"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "a.pcap"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("notes"), 0o644)
	files, skipped, err := capture.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != "a.pcap" || filepath.Base(files[1]) != "b.pcap" {
		t.Errorf("files %v", files)
	}
	if len(skipped) != 1 || filepath.Base(skipped[0]) != "README.md" {
		t.Errorf("skipped %v", skipped)
	}
}

// TestTruncatedEverywhere cuts real captures at every byte offset and checks
// that the reader returns exactly the complete frames before the cut, then
// ErrTruncated naming the frame and offset (or a clean end when the cut
// falls on a record boundary).
func TestTruncatedEverywhere(t *testing.T) {
	for _, name := range []string{"icmp.pcap", "merged.pcapng", "http-veth.pcap.gz"} {
		data, err := os.ReadFile(corpus.Path(t, "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		full, _, _ := readAll(t, corpus.Path(t, "testdata", name))
		step := 1
		if len(data) > 20000 {
			step = 7
		}
		for n := 0; n < len(data); n += step {
			r, err := capture.NewReader(bytes.NewReader(data[:n]), name)
			if err != nil {
				if !errors.Is(err, capture.ErrNotCapture) && !errors.Is(err, capture.ErrTruncated) && !errors.Is(err, capture.ErrCorrupt) {
					t.Fatalf("%s cut at %d: open: %v", name, n, err)
				}
				continue
			}
			var k int
			var last error
			for f, err := range r.Frames() {
				if err != nil {
					last = err
					break
				}
				if f.Number != full[k].number || len(f.Data) != full[k].capLen {
					t.Fatalf("%s cut at %d: frame %d differs", name, n, k+1)
				}
				k++
			}
			if last != nil {
				var e *capture.Error
				if !errors.As(last, &e) || (!errors.Is(last, capture.ErrTruncated) && !errors.Is(last, capture.ErrCorrupt)) {
					t.Fatalf("%s cut at %d: %v", name, n, last)
				}
				if e.Frame != int64(k+1) {
					t.Fatalf("%s cut at %d: error names frame %d, %d frames were read", name, n, e.Frame, k)
				}
			}
			if k > len(full) {
				t.Fatalf("%s cut at %d: %d frames from a prefix", name, n, k)
			}
		}
	}
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.total = ms.TotalAlloc
}

func newGzip(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }

func TestHostileLengths(t *testing.T) {
	le := binary.LittleEndian
	// A 100-byte pcap whose header claims a 1 GiB snap length and whose
	// record claims 200 MB.
	p := make([]byte, 24+16+60)
	le.PutUint32(p[0:], 0xa1b2c3d4)
	le.PutUint16(p[4:], 2)
	le.PutUint16(p[6:], 4)
	le.PutUint32(p[16:], 1<<30)
	le.PutUint32(p[20:], 1)
	le.PutUint32(p[32:], 200<<20)
	le.PutUint32(p[36:], 200<<20)
	// A 140-byte pcapng whose second block claims 512 MiB, and one whose
	// packet block claims 15 MiB (under the block cap) and then ends.
	shb := func() []byte {
		b := make([]byte, 28)
		le.PutUint32(b[0:], 0x0a0d0d0a)
		le.PutUint32(b[4:], 28)
		le.PutUint32(b[8:], 0x1a2b3c4d)
		le.PutUint16(b[12:], 1)
		le.PutUint64(b[16:], ^uint64(0))
		le.PutUint32(b[24:], 28)
		return b
	}
	ng := append(shb(), make([]byte, 112)...)
	le.PutUint32(ng[28:], 1)
	le.PutUint32(ng[32:], 512<<20)
	ng2 := append(shb(), make([]byte, 112)...)
	le.PutUint32(ng2[28:], 6)
	le.PutUint32(ng2[32:], 15<<20)

	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{{"pcap-1GiB", p, capture.ErrCorrupt}, {"pcapng-512MiB", ng, capture.ErrCorrupt}, {"pcapng-15MiB-short", ng2, capture.ErrTruncated}} {
		var err error
		var ms1, ms2 runtimeMem
		ms1.read()
		r, oerr := capture.NewReader(bytes.NewReader(tc.data), tc.name)
		if oerr != nil {
			err = oerr
		} else {
			for _, e := range r.Frames() {
				if e != nil {
					err = e
				}
			}
		}
		ms2.read()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if alloc := ms2.total - ms1.total; alloc > 8<<20 {
			t.Errorf("%s: allocated %d bytes reading %d", tc.name, alloc, len(tc.data))
		}
	}
}

// TestZeroAllocsPerFrame asserts that reading a frame allocates nothing.
func TestZeroAllocsPerFrame(t *testing.T) {
	for _, name := range []string{"http-veth.pcap", "merged.pcapng", "http-veth.pcap.gz"} {
		data, err := os.ReadFile(corpus.Path(t, "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := capture.NewReader(bytes.NewReader(data), name)
		if err != nil {
			t.Fatal(err)
		}
		r.Next() // warm up
		allocs := testing.AllocsPerRun(40, func() {
			if _, err := r.Next(); err != nil && err != io.EOF {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per frame", name, allocs)
		}
	}
}
