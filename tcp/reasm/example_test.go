package reasm_test

import (
	"fmt"
	"path/filepath"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp/reasm"
)

// printer is an app.Stream that prints what it is given.
type printer struct{}

func (printer) Bytes(side app.Side, b []byte, at app.Pos) {
	fmt.Printf("frame %2d: %s %q\n", at.Frame, side, b)
}
func (printer) Gap(side app.Side, n int64, at app.Pos) {
	fmt.Printf("frame %2d: %s missing %d bytes\n", at.Frame, side, n)
}
func (printer) Close(side app.Side, reset bool, at app.Pos) {
	fmt.Printf("frame %2d: %s closed (reset %v)\n", at.Frame, side, reset)
}
func (printer) End(at app.Pos) { fmt.Printf("frame %2d: end\n", at.Frame) }

// Reassemble a generated capture in which part of the server's reply and
// the client's second request were not captured, and the server's last
// bytes before its FIN are missing too. The holes are declared when the
// other side acknowledges past them.
func Example() {
	r, err := capture.Open(filepath.Join("testdata", "synth-holes.pcap"))
	if err != nil {
		panic(err)
	}
	defer r.Close()
	conn := reasm.New(printer{}, reasm.Options{})
	d := packet.NewDecoder()
	var p packet.Packet
	var last app.Pos
	for f, err := range r.Frames() {
		if err != nil {
			panic(err)
		}
		d.Decode(f, &p)
		if p.TCP == nil {
			continue
		}
		side := app.Client
		if p.SrcPort == 80 {
			side = app.Server
		}
		conn.Segment(&p, side)
		last = app.Pos{Frame: p.Frame, Time: p.Time}
	}
	conn.End(last)
	st := conn.Stats(app.Server)
	fmt.Println("server:", st.Delivered, "bytes delivered,", st.GapBytes, "missing")
	// Output:
	// frame  4: client "request one\n"
	// frame  5: server "reply part 1;"
	// frame  7: server missing 13 bytes
	// frame  6: server "reply part 3;"
	// frame  8: client missing 16 bytes
	// frame  8: server "second reply;"
	// frame 10: server missing 13 bytes
	// frame  9: server closed (reset false)
	// frame 11: client missing 11 bytes
	// frame 11: client "never acked"
	// frame 11: end
	// server: 39 bytes delivered, 26 missing
}
