// Command gencap writes a large, realistic, deterministic capture for
// benchmarks: tens of thousands of short HTTP/1.1 keep-alive connections
// with several requests each, a few bulk transfers, DNS over UDP, some loss
// and retransmission, Linux-like and other option sets, Ethernet framing,
// as captured by a tap between clients and servers.
//
//	go run ./internal/synth/gencap -o /tmp/big.pcap -size 400MB -seed 1
//
// The output format follows the name: .pcap or .pcapng, optionally .gz or
// .zst. Memory stays bounded whatever the size: connections are simulated
// side by side and their frames merged in time order as they are made.
package main

import (
	"bufio"
	"container/heap"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

func main() {
	out := flag.String("o", "", "output file (.pcap or .pcapng, optionally .gz or .zst)")
	size := flag.String("size", "400MB", "stop starting new connections once this much is written (KB, MB, GB)")
	seed := flag.Uint64("seed", 1, "random seed: the same seed gives the same file")
	flag.Parse()
	n, err := parseSize(*size)
	if *out == "" || err != nil {
		fmt.Fprintln(os.Stderr, "usage: gencap -o FILE [-size 400MB] [-seed N]", err)
		os.Exit(2)
	}
	start := time.Now() // the command measures itself; the capture's clock is fixed
	st, err := writeFile(*out, n, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	el := time.Since(start)
	fmt.Fprintf(os.Stderr, "gencap: %s: %d frames, %d bytes, %d TCP connections (%d bulk), %d DNS exchanges in %.2fs (%.0f MB/s)\n",
		*out, st.Frames, st.Bytes, st.TCP, st.Bulk, st.DNS, el.Seconds(), float64(st.Bytes)/1e6/el.Seconds())
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	u := strings.ToUpper(s)
	for _, x := range []struct {
		suf string
		m   int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}} {
		if strings.HasSuffix(u, x.suf) {
			mult, u = x.m, strings.TrimSuffix(u, x.suf)
			break
		}
	}
	v, err := strconv.ParseFloat(u, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(v * float64(mult)), nil
}

// Stats counts what was generated.
type Stats struct {
	Frames, Bytes  int64
	TCP, Bulk, DNS int
}

type frameWriter interface {
	WriteFrame(synth.Frame) error
	Offset() int64
}

func writeFile(name string, size int64, seed uint64) (Stats, error) {
	f, err := os.Create(name)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	c := synth.None
	base := name
	if b, ok := strings.CutSuffix(name, ".gz"); ok {
		c, base = synth.Gzip, b
	} else if b, ok := strings.CutSuffix(name, ".zst"); ok {
		c, base = synth.Zstd, b
	}
	cw, err := synth.Compress(bw, c)
	if err != nil {
		return Stats{}, err
	}
	st, err := generate(cw, strings.HasSuffix(base, ".pcapng"), size, seed)
	if err != nil {
		return st, err
	}
	if err := cw.Close(); err != nil {
		return st, err
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	return st, f.Close()
}

// generate writes the capture to w until about size bytes are written.
func generate(w io.Writer, pcapng bool, size int64, seed uint64) (Stats, error) {
	var fw frameWriter
	if pcapng {
		ng, err := synth.NewPcapngWriter(w, synth.PcapngOptions{UserAppl: "wiresleuth gencap", Comment: fmt.Sprintf("gencap -seed %d", seed)})
		if err != nil {
			return Stats{}, err
		}
		if _, err := ng.AddInterface(synth.Interface{LinkType: synth.LinkEthernet, Name: "eth0", SnapLen: 262144}); err != nil {
			return Stats{}, err
		}
		fw = ng
	} else {
		pw, err := synth.NewPcapWriter(w, synth.PcapOptions{LinkType: synth.LinkEthernet})
		if err != nil {
			return Stats{}, err
		}
		fw = pw
	}
	g := newGen(seed)
	var st Stats
	for g.q.Len() > 0 {
		s := g.q[0]
		if s.i < len(s.frames) {
			fr := s.frames[s.i]
			s.i++
			if fr.Data != nil { // nil: a spawner's wake-up
				if err := fw.WriteFrame(fr); err != nil {
					return st, err
				}
				st.Frames++
			}
			if !g.stop && fw.Offset() >= size {
				g.stop = true
			}
			if s.i < len(s.frames) {
				s.key = s.frames[s.i].Time
				heap.Fix(&g.q, s.idx)
				continue
			}
		}
		// Refill: make the source's next frames, or retire it.
		s.frames, s.i = s.frames[:0], 0
		for len(s.frames) == 0 && !s.done {
			s.frames, s.done = s.src.next(g)
		}
		if len(s.frames) == 0 {
			heap.Remove(&g.q, s.idx)
			continue
		}
		s.key = s.frames[0].Time
		heap.Fix(&g.q, s.idx)
	}
	st.Bytes = fw.Offset()
	st.TCP, st.Bulk, st.DNS = g.nTCP, g.nBulk, g.nDNS
	return st, nil
}

// source makes frames in time order, a batch at a time; a batch is never
// earlier than the last one.
type source interface {
	next(g *gen) (frames []synth.Frame, done bool)
}

type entry struct {
	src    source
	frames []synth.Frame
	i      int
	key    time.Time
	done   bool
	idx    int
}

type queue []*entry

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].key.Before(q[j].key) }
func (q queue) Swap(i, j int)      { q[i], q[j] = q[j], q[i]; q[i].idx, q[j].idx = i, j }
func (q *queue) Push(x any) {
	e := x.(*entry)
	e.idx = len(*q)
	*q = append(*q, e)
}
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type gen struct {
	rng   *rand.Rand
	q     queue
	stop  bool
	t0    time.Time
	body  []byte // shared response bytes
	nTCP  int
	nBulk int
	nDNS  int
	port  int // ephemeral port counter, so no 4-tuple is ever reused
}

// vantage is a tap in the middle of the path (frames arrive padded).
var vantage = synth.Vantage{At: 0.5, Pad: true}

func newGen(seed uint64) *gen {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x5eed)), t0: time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC)}
	g.body = make([]byte, 1<<21)
	const text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. "
	for i := range g.body {
		g.body[i] = text[i%len(text)]
	}
	g.add(&spawner{kind: kindHTTP, at: g.t0})
	g.add(&spawner{kind: kindDNS, at: g.t0.Add(time.Millisecond)})
	g.add(&spawner{kind: kindBulk, at: g.t0.Add(100 * time.Millisecond)})
	return g
}

func (g *gen) add(s source) {
	e := &entry{src: s}
	for len(e.frames) == 0 && !e.done {
		e.frames, e.done = s.next(g)
	}
	if len(e.frames) == 0 {
		return
	}
	e.key = e.frames[0].Time
	heap.Push(&g.q, e)
}

func (g *gen) exp(mean time.Duration) time.Duration {
	return time.Duration(g.rng.ExpFloat64() * float64(mean))
}

// lognormal returns a value whose median is m, with spread sigma.
func (g *gen) lognormal(m, sigma float64) float64 {
	return m * math.Exp(g.rng.NormFloat64()*sigma)
}

// client returns a fresh client address: ports are never reused.
func (g *gen) client() (netip.AddrPort, synth.MAC) {
	g.port++
	host := g.port % 4000
	port := 32768 + (g.port/4000)%28000
	a := netip.AddrFrom4([4]byte{10, 64 + byte(host>>8), byte(host), 1 + byte(g.port/4000/28000)})
	return netip.AddrPortFrom(a, uint16(port)), synth.MAC{0x02, 0x42, 10, 64 + byte(host>>8), byte(host), 1}
}

const (
	kindHTTP = iota
	kindDNS
	kindBulk
)

// spawner starts new sessions at random times until the size is reached.
// Being a source itself keeps starts in time order with everything else.
type spawner struct {
	kind int
	at   time.Time
}

// next starts a session at the spawner's time and returns a wake-up frame
// (no data) for the time of the next start.
func (s *spawner) next(g *gen) ([]synth.Frame, bool) {
	if g.stop {
		return nil, true
	}
	{
		at := s.at
		switch s.kind {
		case kindHTTP:
			s.at = at.Add(g.exp(1500 * time.Microsecond))
			g.add(newHTTP(g, at))
		case kindDNS:
			s.at = at.Add(g.exp(8 * time.Millisecond))
			g.add(newDNS(g, at))
		case kindBulk:
			s.at = at.Add(g.exp(20 * time.Second))
			g.add(newBulk(g, at))
		}
		return []synth.Frame{{Time: s.at}}, false
	}
}
