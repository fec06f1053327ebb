package tls

import (
	"bytes"

	"github.com/wiresleuth/wiresleuth/app"
)

// Extension numbers the decoder reads (IANA TLS ExtensionType Values).
const (
	extServerName        = 0
	extALPN              = 16
	extSupportedVersions = 43
)

// helloRetryRandom marks a ServerHello as a HelloRetryRequest (RFC 8446
// section 4.1.3): SHA-256 of "HelloRetryRequest".
var helloRetryRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// ClientHello is the client's first handshake message.
type ClientHello struct {
	Start, End        app.Pos // frames of the record header and of the message's last byte
	RecordVersion     Version // of the record that carried it
	Version           Version // legacy_version
	SupportedVersions []Version
	CipherSuites      []CipherSuite
	ServerName        string   // SNI host_name, cut at MaxName bytes
	ALPN              []string // protocols offered
	Extensions        []uint16 // extension types in order
	SessionIDLen      int
	Truncated         bool   // over MaxHello, a kept list over MaxList, or cut by a gap
	Malformed         string // first structural problem
}

func (h *ClientHello) At() app.Pos   { return h.Start }
func (h *ClientHello) Done() app.Pos { return h.End }

// MaxVersion is the highest version offered: from supported_versions when
// present (TLS 1.3 clients), else legacy_version.
func (h *ClientHello) MaxVersion() Version {
	best := Version(0)
	for _, v := range h.SupportedVersions {
		if !IsGREASE(uint16(v)) && v > best {
			best = v
		}
	}
	if best == 0 {
		return h.Version
	}
	return best
}

// Fields yields tshark's names: tls.handshake.type, tls.handshake.version,
// tls.handshake.ciphersuite (each), tls.handshake.extensions_server_name,
// tls.handshake.extensions_alpn_str (each),
// tls.handshake.extensions.supported_version (each).
func (h *ClientHello) Fields(yield func(app.Field) bool) {
	if !yield(app.Uint("tls.handshake.type", 1)) || !yield(app.Hex("tls.handshake.version", uint64(h.Version), 4)) {
		return
	}
	for _, c := range h.CipherSuites {
		if !yield(app.Hex("tls.handshake.ciphersuite", uint64(c), 4)) {
			return
		}
	}
	if h.ServerName != "" && !yield(app.String("tls.handshake.extensions_server_name", h.ServerName)) {
		return
	}
	for _, p := range h.ALPN {
		if !yield(app.String("tls.handshake.extensions_alpn_str", p)) {
			return
		}
	}
	for _, v := range h.SupportedVersions {
		if !yield(app.Hex("tls.handshake.extensions.supported_version", uint64(v), 4)) {
			return
		}
	}
}

// ServerHello is the server's answer (or a HelloRetryRequest).
type ServerHello struct {
	Start, End  app.Pos
	Version     Version // legacy_version
	Selected    Version // from supported_versions when present, else Version
	CipherSuite CipherSuite
	ALPN        string
	Extensions  []uint16
	HelloRetry  bool // a HelloRetryRequest: a second ClientHello follows
	Resumed     bool // up to TLS 1.2: the client's session ID was echoed
	Truncated   bool
	Malformed   string
}

func (h *ServerHello) At() app.Pos   { return h.Start }
func (h *ServerHello) Done() app.Pos { return h.End }

// Fields yields tshark's names: tls.handshake.type, tls.handshake.version,
// tls.handshake.ciphersuite, tls.handshake.extensions.supported_version,
// tls.handshake.extensions_alpn_str.
func (h *ServerHello) Fields(yield func(app.Field) bool) {
	_ = yield(app.Uint("tls.handshake.type", 2)) &&
		yield(app.Hex("tls.handshake.version", uint64(h.Version), 4)) &&
		yield(app.Hex("tls.handshake.ciphersuite", uint64(h.CipherSuite), 4)) &&
		(h.Selected == h.Version || yield(app.Hex("tls.handshake.extensions.supported_version", uint64(h.Selected), 4))) &&
		(h.ALPN == "" || yield(app.String("tls.handshake.extensions_alpn_str", h.ALPN)))
}

func keepName(b []byte, truncated *bool) string {
	if len(b) > MaxName {
		b = b[:MaxName]
		*truncated = true
	}
	return string(b)
}

// parseClientHello parses a ClientHello body (RFC 8446 section 4.1.2);
// cut says the body is incomplete. Parsing goes as far as the bytes allow.
func parseClientHello(h *ClientHello, body []byte, cut bool) {
	r := reader{b: body}
	h.Version = Version(r.u16())
	r.bytes(32) // random
	sid := r.vec8()
	h.SessionIDLen = len(sid.b)
	suites := r.vec16()
	for !suites.empty() && !suites.bad {
		c := CipherSuite(suites.u16())
		if len(h.CipherSuites) < MaxList {
			h.CipherSuites = append(h.CipherSuites, c)
		} else {
			h.Truncated = true
		}
	}
	r.vec8() // compression methods
	if r.bad || suites.bad {
		h.malformed(cut, "short ClientHello")
		return
	}
	if r.empty() {
		return // no extensions (SSL 3.0 style)
	}
	exts := r.vec16()
	if r.bad {
		h.malformed(cut, "short extensions")
	}
	for !exts.empty() {
		typ := exts.u16()
		data := exts.vec16()
		if exts.bad || data.bad {
			h.malformed(cut, "short extension")
			return
		}
		if len(h.Extensions) < MaxList {
			h.Extensions = append(h.Extensions, typ)
		} else {
			h.Truncated = true
		}
		switch typ {
		case extServerName:
			list := data.vec16()
			for !list.empty() && !list.bad {
				kind := list.u8()
				name := list.vec16()
				if kind == 0 && h.ServerName == "" && !name.bad {
					h.ServerName = keepName(name.b, &h.Truncated)
				}
				if name.bad {
					list.bad = true
				}
			}
			if list.bad {
				h.malformed(false, "bad server_name extension")
			}
		case extALPN:
			h.ALPN = parseALPN(data, &h.Truncated, func(s string) { h.malformed(false, s) })
		case extSupportedVersions:
			list := data.vec8()
			for !list.empty() && !list.bad {
				v := Version(list.u16())
				if len(h.SupportedVersions) < MaxList {
					h.SupportedVersions = append(h.SupportedVersions, v)
				}
			}
			if list.bad {
				h.malformed(false, "bad supported_versions extension")
			}
		}
	}
}

func (h *ClientHello) malformed(cut bool, why string) {
	if cut {
		h.Truncated = true
	} else if h.Malformed == "" {
		h.Malformed = why
	}
}

func parseALPN(data reader, truncated *bool, bad func(string)) []string {
	var out []string
	list := data.vec16()
	for !list.empty() && !list.bad {
		p := list.vec8()
		if p.bad {
			list.bad = true
			break
		}
		if len(out) < MaxList {
			out = append(out, keepName(p.b, truncated))
		}
	}
	if list.bad || data.bad {
		bad("bad ALPN extension")
	}
	return out
}

// parseServerHello parses a ServerHello body (RFC 8446 section 4.1.3).
func parseServerHello(h *ServerHello, body []byte, cut bool, clientSessionID []byte) {
	r := reader{b: body}
	h.Version = Version(r.u16())
	h.Selected = h.Version
	random := r.bytes(32)
	h.HelloRetry = bytes.Equal(random, helloRetryRandom)
	sid := r.vec8()
	h.CipherSuite = CipherSuite(r.u16())
	r.u8() // compression
	if r.bad {
		h.malformed(cut, "short ServerHello")
		return
	}
	h.Resumed = len(sid.b) > 0 && bytes.Equal(sid.b, clientSessionID)
	if r.empty() {
		return
	}
	exts := r.vec16()
	for !exts.empty() {
		typ := exts.u16()
		data := exts.vec16()
		if exts.bad || data.bad {
			h.malformed(cut, "short extension")
			return
		}
		if len(h.Extensions) < MaxList {
			h.Extensions = append(h.Extensions, typ)
		}
		switch typ {
		case extSupportedVersions:
			if v := data.u16(); !data.bad {
				h.Selected = Version(v)
			}
		case extALPN:
			if p := parseALPN(data, &h.Truncated, func(s string) { h.malformed(false, s) }); len(p) > 0 {
				h.ALPN = p[0]
			}
		}
	}
	if h.Selected == TLS13 {
		h.Resumed = false // TLS 1.3 echoes the legacy session ID always
	}
}

func (h *ServerHello) malformed(cut bool, why string) {
	if cut {
		h.Truncated = true
	} else if h.Malformed == "" {
		h.Malformed = why
	}
}
