// Package flow provides packed, comparable connection keys. A Key names a
// bidirectional flow (protocol and both endpoints) the same whichever way a
// packet travels; Dir says which way. Keys are fixed-size byte arrays so
// that Go maps hash them as plain memory, which measured faster than
// structs of netip.AddrPort (as tailscale found for its flowtrack).
package flow

import (
	"bytes"
	"encoding/binary"
	"fmt"
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
// canonical order (A sorts before B). IPv4 addresses are stored in their
// IPv4-mapped IPv6 form.
type Key struct{ b [37]byte }

// New returns the key of a packet from src:sport to dst:dport and the
// packet's direction along it.
func New(proto uint8, src netip.Addr, sport uint16, dst netip.Addr, dport uint16) (Key, Dir) {
	s, d := src.As16(), dst.As16()
	var k Key
	dir := AtoB
	c := bytes.Compare(s[:], d[:])
	if c > 0 || c == 0 && sport > dport {
		s, d, sport, dport = d, s, dport, sport
		dir = BtoA
	}
	copy(k.b[0:16], s[:])
	copy(k.b[16:32], d[:])
	binary.BigEndian.PutUint16(k.b[32:], sport)
	binary.BigEndian.PutUint16(k.b[34:], dport)
	k.b[36] = proto
	return k, dir
}

func addr(b []byte) netip.Addr { return netip.AddrFrom16([16]byte(b)).Unmap() }

// A and B return the endpoints in canonical order.
func (k Key) A() Endpoint { return Endpoint{addr(k.b[0:16]), binary.BigEndian.Uint16(k.b[32:])} }
func (k Key) B() Endpoint { return Endpoint{addr(k.b[16:32]), binary.BigEndian.Uint16(k.b[34:])} }

// Proto returns the IP protocol number.
func (k Key) Proto() uint8 { return k.b[36] }

// Src and Dst return the endpoints as seen by a packet travelling in d.
func (k Key) Src(d Dir) Endpoint {
	if d == AtoB {
		return k.A()
	}
	return k.B()
}

func (k Key) Dst(d Dir) Endpoint { return k.Src(d.Reverse()) }

func (k Key) String() string { return fmt.Sprintf("%d %v <-> %v", k.Proto(), k.A(), k.B()) }
