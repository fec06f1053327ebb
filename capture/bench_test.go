package capture_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/wiresleuth/wiresleuth/capture"
)

// benchPcap builds an in-memory pcap of n frames of size bytes.
func benchPcap(n, size int) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], 1)
	b.Write(h)
	rec := make([]byte, 16+size)
	for i := range n {
		binary.LittleEndian.PutUint32(rec[0:], uint32(i))
		binary.LittleEndian.PutUint32(rec[8:], uint32(size))
		binary.LittleEndian.PutUint32(rec[12:], uint32(size))
		b.Write(rec)
	}
	return b.Bytes()
}

// BenchmarkPcapNext measures reading one frame (mixed sizes as in real
// traffic are covered by the end-to-end benchmark; this isolates the reader).
func BenchmarkPcapNext(b *testing.B) {
	data := benchPcap(10000, 400)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)) / 10000)
	var r *capture.Reader
	for b.Loop() {
		if r == nil {
			r, _ = capture.NewReader(bytes.NewReader(data), "bench")
		}
		if _, err := r.Next(); err == io.EOF {
			r = nil
		}
	}
}
