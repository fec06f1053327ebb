// Package flow provides packed, comparable connection keys. A Key names a
// bidirectional flow (protocol and both endpoints) the same whichever way a
// packet travels; Dir says which way. Keys are plain integers, built without
// going through netip on the IPv4 hot path, so Go maps hash them as memory;
// tailscale measured such packed keys twice as fast as netip.AddrPort pairs
// for its flowtrack, and building this one costs a few nanoseconds.
package flow

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
)

// Endpoint is an address and port.
type Endpoint struct {
	Addr netip.Addr
	Port uint16
}

func (e Endpoint) String() string {
	if e.Addr.Is6() && !e.Addr.Is4In6() {
		return fmt.Sprintf("[%s]:%d", e.Addr, e.Port)
	}
	return fmt.Sprintf("%s:%d", e.Addr, e.Port)
}

// Dir is the direction of a packet relative to its key.
type Dir uint8

const (
	AtoB Dir = 0 // from endpoint A to endpoint B
	BtoA Dir = 1
)

// Reverse returns the other direction.
func (d Dir) Reverse() Dir { return 1 - d }

// Key is a bidirectional flow key: protocol and the two endpoints in a
// canonical order (A sorts before B by address bytes, then port). Each
// address is the big-endian halves of its 16-byte form (IPv4-mapped for
// IPv4), so comparing the integers compares the bytes.
type Key struct {
	a0, a1, b0, b1 uint64
	ports          uint32 // A's port << 16 | B's port
	proto          uint32
}

const v4Mapped = 0xffff << 32

func halves(a netip.Addr) (uint64, uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

func make2(proto uint8, s0, s1 uint64, sport uint16, d0, d1 uint64, dport uint16) (Key, Dir) {
	if s0 > d0 || s0 == d0 && (s1 > d1 || s1 == d1 && sport > dport) {
		return Key{d0, d1, s0, s1, uint32(dport)<<16 | uint32(sport), uint32(proto)}, BtoA
	}
	return Key{s0, s1, d0, d1, uint32(sport)<<16 | uint32(dport), uint32(proto)}, AtoB
}

// New returns the key of a packet from src:sport to dst:dport and the
// packet's direction along it.
func New(proto uint8, src netip.Addr, sport uint16, dst netip.Addr, dport uint16) (Key, Dir) {
	s0, s1 := halves(src)
	d0, d1 := halves(dst)
	return make2(proto, s0, s1, sport, d0, d1, dport)
}

// NewIPv4 is New for IPv4 addresses given as big-endian integers (as read
// from the header), for the hot path of every packet.
func NewIPv4(proto uint8, src uint32, sport uint16, dst uint32, dport uint16) (Key, Dir) {
	return make2(proto, 0, v4Mapped|uint64(src), sport, 0, v4Mapped|uint64(dst), dport)
}

// Equal reports k == o; written out because the compiler turns == on a
// struct this size into a call to memequal.
func (k Key) Equal(o Key) bool {
	return k.a1 == o.a1 && k.b1 == o.b1 && k.ports == o.ports && k.a0 == o.a0 && k.b0 == o.b0 && k.proto == o.proto
}

func addr(h0, h1 uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], h0)
	binary.BigEndian.PutUint64(b[8:], h1)
	return netip.AddrFrom16(b).Unmap()
}

// A and B return the endpoints in canonical order.
func (k Key) A() Endpoint { return Endpoint{addr(k.a0, k.a1), uint16(k.ports >> 16)} }
func (k Key) B() Endpoint { return Endpoint{addr(k.b0, k.b1), uint16(k.ports)} }

// Proto returns the IP protocol number.
func (k Key) Proto() uint8 { return uint8(k.proto) }

// Src and Dst return the endpoints as seen by a packet travelling in d.
func (k Key) Src(d Dir) Endpoint {
	if d == AtoB {
		return k.A()
	}
	return k.B()
}

func (k Key) Dst(d Dir) Endpoint { return k.Src(d.Reverse()) }

func (k Key) String() string { return fmt.Sprintf("%d %v <-> %v", k.Proto(), k.A(), k.B()) }

// Hash mixes the key with seed into 64 bits (wyhash-style multiply-fold).
// Trackers use it to index their tables through the map fast path for
// uint64 keys: a map keyed by Key hashes and compares 40 bytes through the
// runtime's generic routines, several times the work (measured with
// callgrind). Use a random seed per table so that a crafted capture cannot
// aim collisions at it.
func (k Key) Hash(seed uint64) uint64 {
	h := mum(k.a1^seed, k.b1^0xa0761d6478bd642f)
	return mum(h^uint64(k.ports)<<8^uint64(k.proto), k.a0^k.b0^0xe7037ed1a0b428db^seed)
}

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
