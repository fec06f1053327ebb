package oncrpc

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// This file builds captures packet by packet for what cannot run here
// (GlusterFS, NFS servers failing). It is test code on purpose: the
// project's internal/synth is being written in parallel.

// pcapBuilder writes Ethernet/IPv4 frames to an in-memory pcap with a
// deterministic clock.
type pcapBuilder struct {
	t   testing.TB
	buf bytes.Buffer
	w   *pcapgo.Writer
	now time.Time
}

func newPcap(t testing.TB) *pcapBuilder {
	b := &pcapBuilder{t: t, now: time.Date(2014, 5, 10, 13, 19, 49, 0, time.UTC)}
	b.w = pcapgo.NewWriterNanos(&b.buf)
	if err := b.w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *pcapBuilder) wait(d time.Duration) { b.now = b.now.Add(d) }

func (b *pcapBuilder) write(src, dst netip.Addr, transport gopacket.SerializableLayer, tl interface {
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}, payload []byte) {
	mac := func(a netip.Addr) net.HardwareAddr {
		v := a.As4()
		return net.HardwareAddr{0x02, 0, v[0], v[1], v[2], v[3]}
	}
	eth := &layers.Ethernet{SrcMAC: mac(src), DstMAC: mac(dst), EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src.AsSlice(), DstIP: dst.AsSlice(), Flags: layers.IPv4DontFragment}
	switch transport.(type) {
	case *layers.TCP:
		ip.Protocol = layers.IPProtocolTCP
	case *layers.UDP:
		ip.Protocol = layers.IPProtocolUDP
	}
	if err := tl.SetNetworkLayerForChecksum(ip); err != nil {
		b.t.Fatal(err)
	}
	sb := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, transport, gopacket.Payload(payload))
	if err != nil {
		b.t.Fatal(err)
	}
	data := sb.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: b.now, CaptureLength: len(data), Length: len(data)}
	if err := b.w.WritePacket(ci, data); err != nil {
		b.t.Fatal(err)
	}
	b.wait(100 * time.Microsecond)
}

// tcpFlow is one TCP connection; side 0 is the client.
type tcpFlow struct {
	b   *pcapBuilder
	ep  [2]netip.AddrPort
	seq [2]uint32
	mss int
}

func (b *pcapBuilder) connect(client, server string) *tcpFlow {
	f := &tcpFlow{b: b, ep: [2]netip.AddrPort{netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)},
		seq: [2]uint32{1000, 50000}, mss: 1448}
	f.segment(0, true, false, false, nil)
	f.segment(1, true, true, false, nil)
	f.segment(0, false, true, false, nil)
	return f
}

// synUnanswered writes a connection attempt nobody answers: a SYN and its
// retransmissions, as behind a firewall that drops.
func (b *pcapBuilder) synUnanswered(client, server string, tries int) {
	f := &tcpFlow{b: b, ep: [2]netip.AddrPort{netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)},
		seq: [2]uint32{7000, 0}}
	wait := time.Second
	for i := 0; i < tries; i++ {
		f.segment(0, true, false, false, nil)
		f.seq[0]-- // a retransmitted SYN keeps its sequence number
		b.wait(wait)
		wait *= 2
	}
}

func (f *tcpFlow) segment(side int, syn, ack, fin bool, payload []byte) {
	src, dst := f.ep[side], f.ep[1-side]
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: f.seq[side], SYN: syn, ACK: ack, FIN: fin, PSH: len(payload) > 0, Window: 65535}
	if ack {
		tcp.Ack = f.seq[1-side]
	}
	f.b.write(src.Addr(), dst.Addr(), tcp, tcp, payload)
	f.seq[side] += uint32(len(payload))
	if syn || fin {
		f.seq[side]++
	}
}

// send writes data from side in segments of at most mss bytes, each
// acknowledged.
func (f *tcpFlow) send(side int, data []byte) {
	for len(data) > 0 {
		n := min(len(data), f.mss)
		f.segment(side, false, true, false, data[:n])
		data = data[n:]
	}
	f.segment(1-side, false, true, false, nil)
}

// exchange sends a call record and, after rtt, its reply record.
func (f *tcpFlow) exchange(call, reply []byte, rtt time.Duration) {
	f.send(0, call)
	f.b.wait(rtt)
	if reply != nil {
		f.send(1, reply)
	}
	f.b.wait(time.Millisecond)
}

func (f *tcpFlow) close() {
	f.segment(0, false, true, true, nil)
	f.segment(1, false, true, true, nil)
	f.segment(0, false, true, false, nil)
}

func (b *pcapBuilder) udp(from, to string, payload []byte) {
	src, dst := netip.MustParseAddrPort(from), netip.MustParseAddrPort(to)
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	b.write(src.Addr(), dst.Addr(), u, u, payload)
}

// xw writes XDR.
type xw struct{ b []byte }

func (w *xw) u32(v ...uint32) *xw {
	for _, u := range v {
		w.b = binary.BigEndian.AppendUint32(w.b, u)
	}
	return w
}
func (w *xw) i32(v int32) *xw  { return w.u32(uint32(v)) }
func (w *xw) u64(v uint64) *xw { w.b = binary.BigEndian.AppendUint64(w.b, v); return w }
func (w *xw) opaque(p []byte) *xw {
	w.u32(uint32(len(p)))
	w.b = append(w.b, p...)
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
	return w
}
func (w *xw) str(s string) *xw               { return w.opaque([]byte(s)) }
func (w *xw) fixed(p []byte) *xw             { w.b = append(w.b, p...); return w }
func (w *xw) zeros(n int) *xw                { w.b = append(w.b, make([]byte, n)...); return w }
func (w *xw) bytes() []byte                  { return w.b }
func xdrw() *xw                              { return &xw{} }
func (w *xw) with(p []byte) *xw              { w.b = append(w.b, p...); return w }
func (w *xw) boolean(v bool) *xw             { return w.u32(map[bool]uint32{false: 0, true: 1}[v]) }
func (w *xw) auth(f Flavor, body []byte) *xw { return w.u32(uint32(f)).opaque(body) }

// authSys is an AUTH_SYS credential body.
func authSys(machine string, uid, gid uint32) []byte {
	return xdrw().u32(0x535fdd1a).str(machine).u32(uid, gid).u32(0).bytes()
}

// authGluster is an AUTH_GLUSTERFS_v2 credential body: pid, uid, gid,
// groups, lk_owner.
func authGluster() []byte {
	return xdrw().u32(2961, 0, 0).u32(0).opaque([]byte{0, 0, 0, 0, 0, 0, 0, 0}).bytes()
}

func callMsg(xid, prog, vers, proc uint32, cred Flavor, credBody []byte, args []byte) []byte {
	return xdrw().u32(xid, uint32(Call), 2, prog, vers, proc).auth(cred, credBody).auth(AuthNone, nil).with(args).bytes()
}

func replyOK(xid uint32, results []byte) []byte {
	return xdrw().u32(xid, uint32(Reply), uint32(Accepted)).auth(AuthNone, nil).u32(uint32(Success)).with(results).bytes()
}

func replyAccept(xid uint32, stat AcceptStat, lo, hi uint32) []byte {
	w := xdrw().u32(xid, uint32(Reply), uint32(Accepted)).auth(AuthNone, nil).u32(uint32(stat))
	if stat == ProgMismatch {
		w.u32(lo, hi)
	}
	return w.bytes()
}

func replyDenied(xid uint32, rej RejectStat, v ...uint32) []byte {
	return xdrw().u32(xid, uint32(Reply), uint32(Denied), uint32(rej)).u32(v...).bytes()
}

// record adds record marking; frags, if given, are the sizes of all
// fragments but the last.
func record(msg []byte, frags ...int) []byte {
	var out []byte
	for _, n := range frags {
		out = binary.BigEndian.AppendUint32(out, uint32(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	out = binary.BigEndian.AppendUint32(out, uint32(len(msg))|1<<31)
	return append(out, msg...)
}

// glusterDict serialises a GlusterFS dict (libglusterfs dict_serialize).
func glusterDict(kv ...string) []byte {
	w := xdrw().u32(uint32(len(kv) / 2))
	for i := 0; i+1 < len(kv); i += 2 {
		v := append([]byte(kv[i+1]), 0)
		w.u32(uint32(len(kv[i])), uint32(len(v)))
		w.b = append(w.b, kv[i]...)
		w.b = append(w.b, 0)
		w.b = append(w.b, v...)
	}
	return w.bytes()
}
