package reasm

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

var update = flag.Bool("update", false, "rewrite the generated captures in testdata/")

// Generated captures, for what the kernel will not do on demand: copies of
// a range with different bytes, sequence numbers that wrap, holes at the
// end, a snap length. They are written to testdata/ (go test -update) so
// that TestFollowAgreement compares them with tshark too; TestSynthFiles
// checks the files are what the generators make.

var (
	synthStart  = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	synthClient = netip.MustParseAddrPort("10.9.0.1:51000")
	synthServer = netip.MustParseAddrPort("10.9.0.2:80")
)

// handmade writes frames one segment at a time, 1 ms apart.
type handmade struct {
	frames []synth.Frame
	t      time.Time
}

func (h *handmade) seg(from app.Side, seq, ack uint32, flags uint8, data string) {
	src, dst := synthClient, synthServer
	if from == app.Server {
		src, dst = dst, src
	}
	if h.t.IsZero() {
		h.t = synthStart
	}
	h.t = h.t.Add(time.Millisecond)
	layers := []synth.Layer{
		&synth.Ethernet{},
		&synth.IPv4{Src: src.Addr(), Dst: dst.Addr(), TTL: 64},
		&synth.TCP{SrcPort: src.Port(), DstPort: dst.Port(), Seq: seq, Ack: ack, Flags: flags, Window: 65535},
	}
	if data != "" {
		layers = append(layers, synth.Payload(data))
	}
	h.frames = append(h.frames, synth.Frame{Time: h.t, Data: synth.Encode(nil, layers...)})
}

func (h *handmade) handshake(cisn, sisn uint32) {
	h.seg(app.Client, cisn, 0, synth.SYN, "")
	h.seg(app.Server, sisn, cisn+1, synth.SYN|synth.ACK, "")
	h.seg(app.Client, cisn+1, sisn+1, synth.ACK, "")
}

// synthOverlap: copies of the same range with different bytes, in order
// (a forged reply racing the real one, as Quantum Insert does) and out of
// order (two buffered copies that overlap).
func synthOverlap() []synth.Frame {
	var h handmade
	h.handshake(1000, 5000)
	h.seg(app.Client, 1001, 5001, synth.ACK|synth.PSH, "GET / HTTP/1.1\r\n\r\n")
	forged := "HTTP/1.1 302 Found\r\nLocation: http://evil/\r\n\r\n"
	real := "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
	h.seg(app.Server, 5001, 1019, synth.ACK|synth.PSH, forged)
	h.seg(app.Server, 5001, 1019, synth.ACK|synth.PSH, real+"0123456789")
	// The body's next 30 bytes as three segments, delivered out of order
	// with a differing overlap between two buffered copies.
	base := uint32(5001 + len(real) + 10)
	h.seg(app.Server, base+20, 1019, synth.ACK, "KLMNOPQRST")
	h.seg(app.Server, base+10, 1019, synth.ACK, "abcdefghijXYZ") // overlaps the last copy's first 3 bytes, differently
	h.seg(app.Server, base, 1019, synth.ACK, "ABCDEFGHIJ")
	h.seg(app.Client, 1019, base+30, synth.ACK|synth.FIN, "")
	h.seg(app.Server, base+30, 1020, synth.ACK|synth.FIN, "")
	h.seg(app.Client, 1020, base+31, synth.ACK, "")
	return h.frames
}

// synthHoles: holes the capture never fills — one acknowledged in the
// middle, one before a FIN, out-of-order data still waiting at the end,
// and a direction whose last bytes are acknowledged with no FIN seen.
func synthHoles() []synth.Frame {
	var h handmade
	h.handshake(7000, 9000)
	h.seg(app.Client, 7001, 9001, synth.ACK|synth.PSH, "request one\n")
	h.seg(app.Server, 9001, 7013, synth.ACK, "reply part 1;")
	// reply part 2 (13 bytes) not captured; acknowledged:
	h.seg(app.Server, 9027, 7013, synth.ACK, "reply part 3;")
	h.seg(app.Client, 7013, 9040, synth.ACK, "")
	// The client's second request is not captured but acknowledged by
	// the server's reply to it.
	h.seg(app.Server, 9040, 7029, synth.ACK|synth.PSH, "second reply;")
	// The server's last data and FIN: 13 bytes lost before the FIN.
	h.seg(app.Server, 9066, 7029, synth.ACK|synth.FIN, "")
	h.seg(app.Client, 7029, 9067, synth.ACK, "")
	// Client data out of order at the end of the capture: a hole never
	// acknowledged, then data.
	h.seg(app.Client, 7040, 9067, synth.ACK|synth.PSH, "never acked")
	return h.frames
}

// synthWrap: a transfer each way whose sequence numbers wrap through 0,
// under path loss and reordering, captured at the client.
func synthWrap() []synth.Frame {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: synthClient, ISN: 0xffffd000},
		Server: synth.Endpoint{Addr: synthServer, ISN: 0xfffff000},
		Start:  synthStart,
		RTT:    5 * time.Millisecond,
		Seed:   3,
	})
	c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 4}, synth.Fate{Delay: 2 * time.Millisecond})
	c.Fault(synth.Match{From: synth.Server, Data: 1, Nth: 9}, synth.Fate{Lost: true})
	c.Fault(synth.Match{From: synth.Client, Data: 1, Nth: 3}, synth.Fate{Lost: true})
	c.Handshake()
	cl, sv := wrapData()
	c.SendData(synth.Client, cl)
	c.SendData(synth.Server, sv)
	c.Close(synth.Client)
	c.Close(synth.Server)
	c.Wait(time.Second)
	return c.Capture(synth.Vantage{At: 0})
}

func wrapData() (client, server []byte) {
	r := rand.New(rand.NewPCG(1, 2))
	client, server = make([]byte, 20000), make([]byte, 60000)
	for i := range client {
		client[i] = byte(r.Uint32())
	}
	for i := range server {
		server[i] = byte(r.Uint32())
	}
	return client, server
}

// synthSnaplen: a clean transfer captured with a 96-byte snap length.
func synthSnaplen() []synth.Frame {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: synthClient},
		Server: synth.Endpoint{Addr: synthServer},
		Start:  synthStart,
		Seed:   4,
	})
	c.Handshake()
	c.Send(synth.Client, 300)
	c.Send(synth.Server, 20000)
	c.Close(synth.Client)
	c.Close(synth.Server)
	c.Wait(time.Second)
	return c.Capture(synth.Vantage{At: 0})
}

const synthSnap = 96

var synthFiles = []struct {
	name string
	gen  func() []synth.Frame
	snap int
}{
	{"synth-overlap.pcap", synthOverlap, 0},
	{"synth-holes.pcap", synthHoles, 0},
	{"synth-wrap.pcap", synthWrap, 0},
	{"synth-snaplen.pcap", synthSnaplen, synthSnap},
}

func encodePcap(t *testing.T, frames []synth.Frame, snap int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := synth.NewPcapWriter(&b, synth.PcapOptions{LinkType: synth.LinkEthernet, SnapLen: snap})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// TestSynthFiles checks that the generated captures in testdata are what
// the generators make (-update rewrites them).
func TestSynthFiles(t *testing.T) {
	for _, f := range synthFiles {
		want := encodePcap(t, f.gen(), f.snap)
		path := filepath.Join("testdata", f.name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what its generator makes (go test -update rewrites it)", path)
		}
	}
}

func synthConns(t *testing.T, name string, opt Options) []*capConn {
	t.Helper()
	return reassemble(t, filepath.Join("testdata", name), opt, nil)
}

func TestSynthOverlap(t *testing.T) {
	var olds, news []string
	opt := Options{OnInconsistency: func(side app.Side, at app.Pos, _ seqnum.Value, old, new []byte) {
		olds, news = append(olds, string(old)), append(news, string(new))
	}}
	conns := synthConns(t, "synth-overlap.pcap", opt)
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0]
	// The forged reply, first, wins its range; the real reply's longer
	// tail follows it; among the buffered copies the first captured wins.
	real := "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n0123456789"
	forged := "HTTP/1.1 302 Found\r\nLocation: http://evil/\r\n\r\n"
	want := forged + real[len(forged):] + "ABCDEFGHIJ" + "abcdefghij" + "KLMNOPQRST" + "|FIN"
	if got := c.rec.stream(app.Server); got != want {
		t.Errorf("server stream\n got %q\nwant %q", got, want)
	}
	st := c.conn.Stats(app.Server)
	if st.Inconsistencies != 2 || st.FirstInconsistency.Frame != 6 {
		t.Errorf("stats %+v", st)
	}
	if len(olds) != 2 || olds[0] != forged || news[0] != real[:len(forged)] || olds[1] != "KLM" || news[1] != "XYZ" {
		t.Errorf("reported old %q new %q", olds, news)
	}
}

func TestSynthHoles(t *testing.T) {
	conns := synthConns(t, "synth-holes.pcap", Options{})
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	r := conns[0].rec
	// The client's second request (16 bytes) is declared missing before
	// the reply to it; the server's 13 lost bytes before its FIN when the
	// client acknowledges the FIN; the client's unacknowledged hole at
	// End, then its waiting data.
	want := `c"request one\n"@4 s"reply part 1;"@5 sG13@7 s"reply part 3;"@6 cG16@8 s"second reply;"@8 sG13@10 sFIN@9 cG11@11 c"never acked"@11 E@11`
	if got := r.calls(); got != want {
		t.Errorf("calls\n got %s\nwant %s", got, want)
	}
}

func TestSynthWrap(t *testing.T) {
	conns := synthConns(t, "synth-wrap.pcap", Options{})
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0]
	cl, sv := wrapData()
	for side, want := range [][]byte{cl, sv} {
		if got := c.rec.stream(app.Side(side)); got != string(want)+"|FIN" {
			t.Errorf("%s: %d bytes, want %d", app.Side(side), len(got), len(want)+4)
		}
	}
	if st := c.conn.Stats(app.Server); st.PeakBuffered == 0 || st.Gaps != 0 {
		t.Errorf("server: no reordering seen, or gaps: %+v", st)
	}
}

func TestSynthSnaplen(t *testing.T) {
	conns := synthConns(t, "synth-snaplen.pcap", Options{})
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0]
	for side, n := range []int{300, 20000} {
		want := make([]byte, n)
		for i := range want {
			want[i] = 'a' + byte(i%26) // synth.Conn.Send's pattern
		}
		checkAgainst(t, c.rec, app.Side(side), want)
		st := c.conn.Stats(app.Side(side))
		if st.TruncatedBytes == 0 || st.TruncatedBytes != st.GapBytes || st.Delivered+st.GapBytes != int64(n) {
			t.Errorf("%s: %+v", app.Side(side), st)
		}
	}
}
