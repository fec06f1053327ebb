package reasm

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

// piece is part of a reassembled direction: bytes, or (data nil) a gap of
// n bytes.
type piece struct {
	data []byte
	gap  int64
}

// pieces is one direction's stream: adjacent bytes merged, adjacent gaps
// merged.
type pieces []piece

func (p pieces) add(data []byte, gap int64) pieces {
	if n := len(p); n > 0 {
		last := &p[n-1]
		if data != nil && last.data != nil {
			last.data = append(last.data, data...)
			return p
		}
		if data == nil && last.data == nil {
			last.gap += gap
			return p
		}
	}
	if data != nil {
		data = bytes.Clone(data)
	}
	return append(p, piece{data: data, gap: gap})
}

func (p pieces) equal(q pieces) bool {
	return slices.EqualFunc(p, q, func(a, b piece) bool {
		return (a.data == nil) == (b.data == nil) && a.gap == b.gap && bytes.Equal(a.data, b.data)
	})
}

// dataOnly returns the bytes with the gaps left out.
func (p pieces) dataOnly() []byte {
	var b []byte
	for _, x := range p {
		b = append(b, x.data...)
	}
	return b
}

// isPrefixOf reports whether p is q's beginning, whole pieces at a time
// except that p's last piece may be a shorter run of q's bytes.
func (p pieces) isPrefixOf(q pieces) (rest pieces, ok bool) {
	if len(p) > len(q) {
		return nil, false
	}
	for i, x := range p {
		y := q[i]
		if i == len(p)-1 && x.data != nil && y.data != nil && bytes.HasPrefix(y.data, x.data) {
			if len(x.data) < len(y.data) {
				return append(pieces{{data: y.data[len(x.data):]}}, q[i+1:]...), true
			}
			return q[i+1:], true
		}
		if !(pieces{x}).equal(pieces{y}) {
			return nil, false
		}
	}
	return q[len(p):], true
}

func (p pieces) String() string {
	var parts []string
	for _, x := range p {
		if x.data == nil {
			parts = append(parts, fmt.Sprintf("gap(%d)", x.gap))
		} else {
			parts = append(parts, fmt.Sprintf("bytes(%d)", len(x.data)))
		}
	}
	return strings.Join(parts, " ")
}

// firstDifference describes where p and q part.
func firstDifference(p, q pieces) string {
	off := int64(0)
	for i := 0; i < len(p) || i < len(q); i++ {
		if i >= len(p) {
			return fmt.Sprintf("at %d: ours ends, tshark has %s", off, q[i:])
		}
		if i >= len(q) {
			return fmt.Sprintf("at %d: tshark ends, ours has %s", off, p[i:])
		}
		a, b := p[i], q[i]
		if a.data != nil && b.data != nil {
			n := min(len(a.data), len(b.data))
			for k := range n {
				if a.data[k] != b.data[k] {
					return fmt.Sprintf("at %d: byte %#x vs %#x", off+int64(k), a.data[k], b.data[k])
				}
			}
			if len(a.data) != len(b.data) {
				return fmt.Sprintf("at %d: ours bytes(%d) vs tshark bytes(%d)", off, len(a.data), len(b.data))
			}
			off += int64(n)
			continue
		}
		if a.data == nil && b.data == nil && a.gap == b.gap {
			off += a.gap
			continue
		}
		return fmt.Sprintf("at %d: ours %s vs tshark %s", off, pieces{a}, pieces{b})
	}
	return ""
}

// followed is one TCP stream as tshark's follow shows it, or as ours does.
type followed struct {
	node [2]netip.AddrPort // node 0 is tshark's first sender
	dir  [2]pieces         // what each node sent
	// ours only:
	stats  [2]Stats
	frames int
}

// missing is how tshark's follow marks a gap in raw mode: the text, NUL
// terminated, in place of the bytes.
var missing = regexp.MustCompile(`^\[(\d+) bytes missing in capture file\]\x00$`)

// tsharkFollow runs tshark once on file for both what the comparison
// needs: each TCP frame's tcp.stream, and follow,tcp,raw of every stream.
// Starting tshark costs more than following a few dozen streams, so it asks
// for streams 0-31 and asks again only for a capture with more. It returns
// errors rather than failing a test so that it can run in goroutines.
func tsharkFollow(file string, extra ...string) (streamOf map[int64]int, res map[int]*followed, err error) {
	for n := 32; ; {
		streamOf, res, err = tsharkFollowN(file, n, extra...)
		if err != nil {
			return nil, nil, err
		}
		top := -1
		for _, s := range streamOf {
			top = max(top, s)
		}
		if top < n {
			return streamOf, res, nil
		}
		n = top + 1
	}
}

func tsharkFollowN(file string, n int, extra ...string) (map[int64]int, map[int]*followed, error) {
	args := append([]string{"-n", "-r", file, "-T", "fields", "-E", "occurrence=f", "-e", "frame.number", "-e", "tcp.stream", "-Y", "tcp"}, extra...)
	for s := range n {
		args = append(args, "-z", fmt.Sprintf("follow,tcp,raw,%d", s))
	}
	cmd := exec.Command("tshark", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// tshark exits 2 on a damaged file after printing what it read.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			return nil, nil, fmt.Errorf("tshark %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
	}
	streamOf := map[int64]int{}
	res := map[int]*followed{}
	var cur *followed
	fields := true
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "=====") {
			fields, cur = false, nil
			continue
		}
		if fields {
			f := strings.Split(line, "\t")
			if len(f) != 2 || f[1] == "" {
				continue
			}
			fr, err1 := strconv.ParseInt(f[0], 10, 64)
			s, err2 := strconv.Atoi(f[1])
			if err1 != nil || err2 != nil {
				return nil, nil, fmt.Errorf("%s: tshark fields: %q", file, line)
			}
			streamOf[fr] = s
			continue
		}
		switch {
		case strings.HasPrefix(line, "Filter: tcp.stream eq "):
			s, err := strconv.Atoi(strings.TrimPrefix(line, "Filter: tcp.stream eq "))
			if err != nil {
				return nil, nil, fmt.Errorf("%s: tshark follow: %q", file, line)
			}
			cur = &followed{}
			res[s] = cur
		case cur == nil, line == "", strings.HasPrefix(line, "Follow: "):
		case strings.HasPrefix(line, "Node 0: "), strings.HasPrefix(line, "Node 1: "):
			// Streams that do not exist have no address.
			if ap, err := netip.ParseAddrPort(line[8:]); err == nil {
				cur.node[line[5]-'0'] = ap
			}
		default:
			side := 0
			if line[0] == '\t' {
				side, line = 1, line[1:]
			}
			b, err := hex.DecodeString(line)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: tshark follow: %q: %v", file, line, err)
			}
			if m := missing.FindSubmatch(b); m != nil {
				n, _ := strconv.ParseInt(string(m[1]), 10, 64)
				cur.dir[side] = cur.dir[side].add(nil, n)
			} else {
				cur.dir[side] = cur.dir[side].add(b, 0)
			}
		}
	}
	return streamOf, res, nil
}

// oursFollow reassembles every TCP stream of file, the frames grouped as
// tshark groups them (tcp.stream), so that only reassembly is compared.
// The originator (app.Client) is the sender of a SYN, else of the first
// packet.
func oursFollow(t testing.TB, file string, streamOf map[int64]int, opt Options) map[int]*followed {
	t.Helper()
	r, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type conn struct {
		f      *followed
		c      *Conn
		rec    *recorder
		client netip.AddrPort
		last   app.Pos
	}
	conns := map[int]*conn{}
	d := packet.NewDecoder()
	var p packet.Packet
	for fr, err := range r.Frames() {
		if err != nil {
			t.Logf("%s: %v (comparing what was read)", file, err)
			break
		}
		d.Decode(fr, &p)
		s, ok := streamOf[fr.Number]
		if p.TCP == nil || !ok {
			continue
		}
		src := netip.AddrPortFrom(p.Src.Unmap(), p.SrcPort)
		dst := netip.AddrPortFrom(p.Dst.Unmap(), p.DstPort)
		c := conns[s]
		if c == nil {
			c = &conn{f: &followed{}, rec: &recorder{}, client: src}
			if p.TCP.Flags()&(header.FlagSYN|header.FlagACK) == header.FlagSYN|header.FlagACK {
				c.client = dst
			}
			c.c = New(c.rec, opt)
			c.f.node = [2]netip.AddrPort{c.client, src}
			if c.client == src {
				c.f.node[1] = dst
			}
			conns[s] = c
		}
		side := app.Client
		if src != c.client {
			side = app.Server
		}
		c.f.frames++
		c.last = app.Pos{Frame: p.Frame, Time: p.Time}
		c.c.Segment(&p, side)
	}
	res := map[int]*followed{}
	for s, c := range conns {
		c.c.End(c.last)
		for _, e := range c.rec.errs {
			t.Errorf("%s stream %d: contract: %s", file, s, e)
		}
		for _, e := range c.rec.events {
			switch e.kind {
			case 'B':
				c.f.dir[e.side] = c.f.dir[e.side].add([]byte(e.data), 0)
			case 'G':
				c.f.dir[e.side] = c.f.dir[e.side].add(nil, e.n)
			}
		}
		c.f.stats = [2]Stats{c.c.Stats(app.Client), c.c.Stats(app.Server)}
		res[s] = c.f
	}
	return res
}
