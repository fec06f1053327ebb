package oncrpc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
)

// This file is a test-only stand-in for the project's TCP reassembler,
// which is written in parallel: it turns a small, clean capture into
// app.Stream and app.Datagrams calls. It orders each direction by sequence
// number, drops retransmitted bytes and reports holes as gaps; it does not
// try to be a general reassembler.

type endpointPair struct{ a, b netip.AddrPort }

type tcpDir struct {
	next    uint32
	synced  bool
	pending map[uint32][]byte // out-of-order segments by sequence number
	pendAt  map[uint32]app.Pos
}

type tcpConn struct {
	lastAt app.Pos
	client netip.AddrPort
	dirs   [2]tcpDir
	s      app.Stream
	closed [2]bool
}

type udpExchange struct {
	client netip.AddrPort
	d      app.Datagrams
}

// replayOptions lets tests damage a clean capture.
type replayOptions struct {
	drop func(frame int64) bool // frames to pretend were not captured
}

// replay feeds the capture at path through decoders made by newStream and
// newDatagrams, as the pipeline will.
func replay(t testing.TB, path string, newStream func() app.Stream, newDatagrams func() app.Datagrams, opt replayOptions) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	conns := map[endpointPair]*tcpConn{}
	exchanges := map[endpointPair]*udpExchange{}
	var order []any
	var last app.Pos
	for frame := int64(1); ; frame++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		at := app.Pos{Frame: frame, Time: capture.Time(ci.Timestamp.UnixNano())}
		last = at
		if opt.drop != nil && opt.drop(frame) {
			continue
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		var src, dst netip.Addr
		if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			src, _ = netip.AddrFromSlice(ip4.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(ip4.DstIP.To4())
		} else if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			src, _ = netip.AddrFromSlice(ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(ip6.DstIP)
		} else {
			continue
		}
		switch l := pkt.TransportLayer().(type) {
		case *layers.TCP:
			from, to := netip.AddrPortFrom(src, uint16(l.SrcPort)), netip.AddrPortFrom(dst, uint16(l.DstPort))
			key := pairKey(from, to)
			c := conns[key]
			if c == nil {
				if newStream == nil {
					continue
				}
				client := from
				if !l.SYN && l.DstPort > l.SrcPort {
					client = to // first seen mid-connection: guess the lower port serves
				}
				c = &tcpConn{client: client, s: newStream()}
				conns[key] = c
				order = append(order, c)
			}
			c.segment(from, l, at)
		case *layers.UDP:
			from, to := netip.AddrPortFrom(src, uint16(l.SrcPort)), netip.AddrPortFrom(dst, uint16(l.DstPort))
			key := pairKey(from, to)
			e := exchanges[key]
			if e == nil {
				if newDatagrams == nil {
					continue
				}
				e = &udpExchange{client: from, d: newDatagrams()}
				exchanges[key] = e
				order = append(order, e)
			}
			side := app.Client
			if from != e.client {
				side = app.Server
			}
			e.d.Datagram(side, l.Payload, at)
		}
	}
	for _, o := range order {
		switch o := o.(type) {
		case *tcpConn:
			o.flush(last)
			o.s.End(last)
		case *udpExchange:
			o.d.End(last)
		}
	}
}

func pairKey(x, y netip.AddrPort) endpointPair {
	if x.Compare(y) < 0 {
		return endpointPair{x, y}
	}
	return endpointPair{y, x}
}

func (c *tcpConn) segment(from netip.AddrPort, l *layers.TCP, at app.Pos) {
	side := app.Client
	if from != c.client {
		side = app.Server
	}
	c.lastAt = at
	d := &c.dirs[side]
	seq := l.Seq
	if l.SYN {
		d.next, d.synced = seq+1, true
		return
	}
	if !d.synced {
		d.next, d.synced = seq, true
	}
	// The peer acknowledging bytes we never saw: the capture missed them.
	if o := &c.dirs[1-side]; l.ACK && o.synced && int32(l.Ack-o.next) > 0 {
		c.deliverUpTo(1-side, l.Ack)
	}
	if len(l.Payload) > 0 {
		if d.pending == nil {
			d.pending, d.pendAt = map[uint32][]byte{}, map[uint32]app.Pos{}
		}
		if _, dup := d.pending[seq]; !dup {
			d.pending[seq] = append([]byte(nil), l.Payload...)
			d.pendAt[seq] = at
		}
		c.deliver(side, false)
	}
	if (l.FIN || l.RST) && !c.closed[side] {
		c.deliver(side, true)
		c.closed[side] = true
		c.s.Close(side, l.RST, at)
		if l.FIN {
			d.next++ // the FIN takes a sequence number
		}
	}
}

// deliver hands over the contiguous bytes; with force, holes become gaps.
func (c *tcpConn) deliver(side app.Side, force bool) {
	d := &c.dirs[side]
	for len(d.pending) > 0 {
		progressed := false
		for seq, p := range d.pending {
			off := int32(seq - d.next)
			if off > 0 {
				continue
			}
			delete(d.pending, seq)
			at := d.pendAt[seq]
			delete(d.pendAt, seq)
			if int(-off) >= len(p) {
				progressed = true
				continue // retransmitted bytes already delivered
			}
			p = p[-off:]
			c.s.Bytes(side, p, at)
			d.next += uint32(len(p))
			progressed = true
		}
		if progressed {
			continue
		}
		if !force {
			return
		}
		seqs := make([]uint32, 0, len(d.pending))
		for seq := range d.pending {
			seqs = append(seqs, seq)
		}
		sort.Slice(seqs, func(i, j int) bool { return int32(seqs[i]-d.next) < int32(seqs[j]-d.next) })
		n := seqs[0] - d.next
		c.s.Gap(side, int64(n), d.pendAt[seqs[0]])
		d.next = seqs[0]
	}
}

// deliverUpTo delivers side's bytes up to ack, declaring what is missing
// as gaps.
func (c *tcpConn) deliverUpTo(side app.Side, ack uint32) {
	d := &c.dirs[side]
	for int32(ack-d.next) > 0 {
		c.deliver(side, false)
		if int32(ack-d.next) <= 0 {
			return
		}
		end, at := ack, app.Pos{}
		for seq, p := range d.pending {
			if int32(seq-d.next) > 0 && int32(seq-end) < 0 {
				end, at = seq, d.pendAt[seq]
			}
			_ = p
		}
		if at == (app.Pos{}) {
			at = c.lastAt
		}
		c.s.Gap(side, int64(end-d.next), at)
		d.next = end
	}
}

func (c *tcpConn) flush(at app.Pos) {
	for side := app.Client; side <= app.Server; side++ {
		c.deliver(side, true)
	}
}

// TestReplayMatchesTsharkFollow checks this helper against tshark's own
// reassembly: the bytes each side sent, per TCP connection, must be what
// `tshark -z follow,tcp,raw` prints.
func TestReplayMatchesTsharkFollow(t *testing.T) {
	for _, path := range []string{"testdata/rpcinfo.pcap", "testdata/rpcpeer.pcap", "testdata/nfs-errors.pcap"} {
		var streams [][2][]byte
		replay(t, path, func() app.Stream {
			streams = append(streams, [2][]byte{})
			return &captureStream{i: len(streams) - 1, streams: &streams}
		}, nil, replayOptions{})
		args := []string{"-r", path, "-q"}
		for i := range streams {
			args = append(args, "-z", "follow,tcp,raw,"+strconv.Itoa(i))
		}
		out, err := exec.Command("tshark", args...).Output()
		if err != nil {
			t.Fatal(err)
		}
		follow := map[int][2][]byte{}
		cur := -1
		for _, line := range strings.Split(string(out), "\n") {
			if s, ok := strings.CutPrefix(line, "Filter: tcp.stream eq "); ok {
				cur, _ = strconv.Atoi(s)
				continue
			}
			if cur < 0 || line == "" || strings.Contains(line, ":") || strings.HasPrefix(line, "=") {
				continue
			}
			side := 0
			if strings.HasPrefix(line, "\t") {
				side = 1
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("follow output %q: %v", line, err)
			}
			f := follow[cur]
			f[side] = append(f[side], b...)
			follow[cur] = f
		}
		if len(follow) != len(streams) {
			t.Errorf("%s: %d streams, tshark follows %d", path, len(streams), len(follow))
		}
		for i, s := range streams {
			for side := 0; side < 2; side++ {
				if !bytes.Equal(s[side], follow[i][side]) {
					t.Errorf("%s stream %d side %d: %d bytes, tshark %d", path, i, side, len(s[side]), len(follow[i][side]))
				}
			}
		}
	}
}
