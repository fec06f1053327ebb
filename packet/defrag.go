package packet

import (
	"net/netip"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/header"
)

// DefragLimits bound IP reassembly so that a capture full of fragments that
// never complete cannot exhaust memory: at most MaxDatagrams incomplete
// datagrams and MaxBytes of fragment data are held; a datagram incomplete
// after Timeout of capture time (Linux's ipfrag_time default) is dropped.
var DefragLimits = struct {
	MaxDatagrams int
	MaxBytes     int
	Timeout      time.Duration
}{4096, 32 << 20, 30 * time.Second}

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type fragPiece struct {
	off  int
	data []byte
}

type datagram struct {
	first  capture.Time
	pieces []fragPiece
	total  int // payload length once the last fragment is seen, else -1
	bytes  int
}

type defragmenter struct {
	pending map[fragKey]*datagram
	order   []fragKey // insertion order, for eviction
	bytes   int
	buf     []byte // the last reassembled payload
	// Overlaps counts fragments that overlapped data already held (kept:
	// the first copy wins).
	Overlaps int64
	Evicted  int64
}

func newDefragmenter() defragmenter {
	return defragmenter{pending: map[fragKey]*datagram{}}
}

func (d *defragmenter) addV4(p *Packet, h header.IPv4, payload []byte) ([]byte, bool) {
	k := fragKey{src: p.Src, dst: p.Dst, id: uint32(h.ID()), proto: h.Protocol()}
	return d.add(k, p.Time, h.FragOffset(), !h.MF(), payload)
}

func (d *defragmenter) addV6(p *Packet, f header.IPv6Fragment, payload []byte) ([]byte, bool) {
	k := fragKey{src: p.Src, dst: p.Dst, id: f.ID(), proto: f.NextHeader(), v6: true}
	return d.add(k, p.Time, f.Offset(), !f.More(), payload)
}

func (d *defragmenter) add(k fragKey, t capture.Time, off int, last bool, payload []byte) ([]byte, bool) {
	if d.pending == nil {
		d.pending = map[fragKey]*datagram{}
	}
	d.expire(t)
	if off+len(payload) > 65535 {
		return nil, false
	}
	dg := d.pending[k]
	if dg == nil {
		dg = &datagram{first: t, total: -1}
		d.pending[k] = dg
		d.order = append(d.order, k)
	}
	for _, pc := range dg.pieces {
		if off < pc.off+len(pc.data) && pc.off < off+len(payload) {
			d.Overlaps++
			break
		}
	}
	dg.pieces = append(dg.pieces, fragPiece{off, append([]byte(nil), payload...)})
	dg.bytes += len(payload)
	d.bytes += len(payload)
	if last {
		dg.total = off + len(payload)
	}
	if dg.total < 0 {
		d.enforce()
		return nil, false
	}
	// Complete when the pieces cover [0, total) without a hole. The first
	// copy of any byte wins. Each datagram gets its own buffer: the packet
	// that carries it may be used after later frames are decoded (the
	// pipeline decodes ahead), and fragments are rare enough to allocate.
	d.buf = make([]byte, dg.total)
	covered := make([]bool, dg.total)
	for _, pc := range dg.pieces {
		for i, c := range pc.data {
			j := pc.off + i
			if j < dg.total && !covered[j] {
				covered[j] = true
				d.buf[j] = c
			}
		}
	}
	for _, c := range covered {
		if !c {
			d.enforce()
			return nil, false
		}
	}
	d.remove(k)
	return d.buf, true
}

func (d *defragmenter) remove(k fragKey) {
	if dg := d.pending[k]; dg != nil {
		d.bytes -= dg.bytes
		delete(d.pending, k)
	}
}

// expire drops datagrams older than the timeout; order is oldest first.
func (d *defragmenter) expire(now capture.Time) {
	for len(d.order) > 0 {
		k := d.order[0]
		dg := d.pending[k]
		if dg != nil && now.Sub(dg.first) < DefragLimits.Timeout {
			break
		}
		if dg != nil {
			d.Evicted++
			d.remove(k)
		}
		d.order = d.order[1:]
	}
	if len(d.order) == 0 {
		d.order = d.order[:0:0]
	}
}

// enforce evicts the oldest datagrams while over the limits.
func (d *defragmenter) enforce() {
	for len(d.order) > 0 && (len(d.pending) > DefragLimits.MaxDatagrams || d.bytes > DefragLimits.MaxBytes) {
		k := d.order[0]
		d.order = d.order[1:]
		if _, ok := d.pending[k]; ok {
			d.Evicted++
			d.remove(k)
		}
	}
}
