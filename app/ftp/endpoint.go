package ftp

import (
	"bytes"
	"net/netip"
	"strconv"

	"github.com/wiresleuth/wiresleuth/app"
)

// DataEndpoint is where a data connection is expected: the server listens
// (PASV, EPSV, SPAS: Passive) or the client does (PORT, EPRT, SPOR).
type DataEndpoint struct {
	At      app.Pos
	Passive bool
	Command string     // PASV, EPSV, SPAS, PORT, EPRT or SPOR
	Addr    netip.Addr // invalid when only a port was given (EPSV)
	Port    uint16
}

// Resolve returns the address the data connection will be opened to, given
// the control connection's server and client addresses: EPSV gives only a
// port, and some servers announce 0.0.0.0. An announced address that differs
// from the control connection's is kept (it may be a NAT mistake worth
// seeing: the data connection then fails).
func (e DataEndpoint) Resolve(server, client netip.Addr) netip.AddrPort {
	a := e.Addr
	if !a.IsValid() || a.IsUnspecified() {
		a = client
		if e.Passive {
			a = server
		}
	}
	return netip.AddrPortFrom(a, e.Port)
}

// parseHostPort parses RFC 959's "h1,h2,h3,h4,p1,p2".
func parseHostPort(b []byte) (netip.Addr, uint16, bool) {
	var n [6]int
	parts := bytes.Split(bytes.TrimSpace(b), []byte(","))
	if len(parts) != 6 {
		return netip.Addr{}, 0, false
	}
	for i, p := range parts {
		v, err := strconv.Atoi(string(bytes.TrimSpace(p)))
		if err != nil || v < 0 || v > 255 {
			return netip.Addr{}, 0, false
		}
		n[i] = v
	}
	return netip.AddrFrom4([4]byte{byte(n[0]), byte(n[1]), byte(n[2]), byte(n[3])}), uint16(n[4]<<8 | n[5]), true
}

// findHostPort scans reply text for the first h1,h2,h3,h4,p1,p2 (RFC 1123
// section 4.1.2.6: the format around the numbers varies between servers).
func findHostPort(b []byte) (netip.Addr, uint16, bool) {
	for i := 0; i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' || i > 0 && (b[i-1] >= '0' && b[i-1] <= '9' || b[i-1] == ',') {
			continue
		}
		j := i
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ',' || b[j] == ' ') {
			j++
		}
		if a, p, ok := parseHostPort(b[i:j]); ok {
			return a, p, true
		}
	}
	return netip.Addr{}, 0, false
}

// parseExtended parses RFC 2428's "<d>af<d>addr<d>port<d>" (EPRT argument,
// or the inside of an EPSV reply's parentheses, where af and addr are empty).
func parseExtended(b []byte) (netip.Addr, uint16, bool) {
	if len(b) < 5 {
		return netip.Addr{}, 0, false
	}
	d := b[0]
	if d < 33 || d > 126 {
		return netip.Addr{}, 0, false
	}
	f := bytes.Split(b, []byte{d})
	if len(f) != 5 || len(f[0]) != 0 || len(f[4]) != 0 {
		return netip.Addr{}, 0, false
	}
	port, err := strconv.ParseUint(string(f[3]), 10, 16)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	var addr netip.Addr
	if len(f[2]) > 0 {
		addr, err = netip.ParseAddr(string(f[2]))
		if err != nil {
			return netip.Addr{}, 0, false
		}
		switch string(f[1]) {
		case "1":
			if !addr.Is4() {
				return netip.Addr{}, 0, false
			}
		case "2":
			if !addr.Is6() {
				return netip.Addr{}, 0, false
			}
		}
	}
	return addr, uint16(port), true
}

// parseEPSVReply finds "(|||port|)" in a 229 reply.
func parseEPSVReply(text []byte) (netip.Addr, uint16, bool) {
	i := bytes.IndexByte(text, '(')
	j := bytes.LastIndexByte(text, ')')
	if i < 0 || j < i {
		return netip.Addr{}, 0, false
	}
	return parseExtended(text[i+1 : j])
}
