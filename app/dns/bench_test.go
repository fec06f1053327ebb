package dns

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

// BenchmarkExchange decodes 100 query/response pairs on one UDP 4-tuple,
// the responses with a CNAME and two addresses behind compression pointers.
func BenchmarkExchange(b *testing.B) {
	var queries, responses [][]byte
	for i := range 100 {
		queries = append(queries, msg(uint16(i), 0x0100, 1, 0, 0, 0, q("www.example.com", 1)))
		cname := []byte{0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, 6, 3, 'c', 'd', 'n', 0xc0, 16}
		responses = append(responses, msg(uint16(i), 0x8180, 1, 3, 0, 0, q("www.example.com", 1), cname,
			rrA([]byte{0xc0, 33}, [4]byte{192, 0, 2, 1}), rrA([]byte{0xc0, 33}, [4]byte{192, 0, 2, 2})))
	}
	size := 0
	for i := range queries {
		size += len(queries[i]) + len(responses[i])
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	out := app.Output{Sink: func(app.Transaction) {}, Record: func(app.Record) {}}
	var at app.Pos
	for b.Loop() {
		d := NewDatagrams(out)
		for i := range queries {
			d.Datagram(app.Client, queries[i], at)
			d.Datagram(app.Server, responses[i], at)
		}
		d.End(at)
	}
}
