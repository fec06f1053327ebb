package tls

import "github.com/wiresleuth/wiresleuth/app"

// handshake feeds clear-text handshake record payload; messages may span
// records and several may share one.
func (c *Conn) handshake(side app.Side, b []byte, at app.Pos) {
	s := &c.side[side]
	for len(b) > 0 && !s.hsLost {
		if s.hsN < 4 {
			if s.hsN == 0 {
				s.hsAt = at
			}
			n := copy(s.hs[s.hsN:], b)
			s.hsN += n
			b = b[n:]
			if s.hsN == 4 {
				s.hsType = HandshakeType(s.hs[0])
				s.hsLen = int(s.hs[1])<<16 | int(s.hs[2])<<8 | int(s.hs[3])
				s.hsLeft, s.hsBuf, s.hsCut = s.hsLen, s.hsBuf[:0], false
				if s.hsLeft == 0 {
					c.message(side, at)
				}
			}
			continue
		}
		n := min(len(b), s.hsLeft)
		if kept(s.hsType) {
			room := MaxHello - len(s.hsBuf)
			if room < n {
				s.hsCut = true
			}
			s.hsBuf = append(s.hsBuf, b[:min(n, max(room, 0))]...)
		}
		s.hsLeft -= n
		b = b[n:]
		if s.hsLeft == 0 {
			c.message(side, at)
		}
	}
}

// kept reports whether a message type's body is buffered and parsed.
func kept(t HandshakeType) bool { return t == TypeClientHello || t == TypeServerHello }

// handshakeGap accounts for n missing handshake bytes.
func (c *Conn) handshakeGap(side app.Side, n int) {
	s := &c.side[side]
	if s.hsLost {
		return
	}
	if s.hsN < 4 || n > s.hsLeft {
		s.hsLost = true // message boundaries are gone; records still are not
		return
	}
	s.hsCut = true
	s.hsLeft -= n
	if s.hsLeft == 0 {
		c.message(side, s.hsAt)
	}
}

// message handles one complete handshake message.
func (c *Conn) message(side app.Side, at app.Pos) {
	s := &c.side[side]
	s.hsN = 0
	start := s.hsAt
	switch {
	case s.hsType == TypeClientHello && side == app.Client:
		h := &ClientHello{Start: start, End: at, RecordVersion: Version(uint16(s.hdr[1])<<8 | uint16(s.hdr[2]))}
		parseClientHello(h, s.hsBuf, s.hsCut)
		if s.hsCut {
			h.Truncated = true
		}
		if c.hello == nil {
			c.hello = h
			c.sessionID = sessionID(s.hsBuf)
			c.sum.ClientHello, c.sum.ServerName, c.sum.Offered = true, h.ServerName, h.MaxVersion()
			c.sum.OfferedALPN = h.ALPN
		}
		c.out.EmitRecord(h)
	case s.hsType == TypeServerHello && side == app.Server:
		h := &ServerHello{Start: start, End: at}
		parseServerHello(h, s.hsBuf, s.hsCut, c.sessionID)
		if s.hsCut {
			h.Truncated = true
		}
		if h.HelloRetry {
			c.sum.HelloRetry = true
		} else if c.server == nil {
			c.server = h
			c.sum.ServerHello, c.sum.Version, c.sum.CipherSuite = true, h.Selected, h.CipherSuite
			c.sum.ALPN, c.sum.Resumed = h.ALPN, h.Resumed
		}
		c.out.EmitRecord(h)
	default:
		c.out.EmitRecord(&Handshake{Start: start, End: at, Side: side, Type: s.hsType, Length: s.hsLen})
	}
}

// sessionID returns a copy of the legacy session ID of a ClientHello body.
func sessionID(body []byte) []byte {
	r := reader{b: body}
	r.bytes(34)
	sid := r.vec8()
	if r.bad || sid.bad {
		return nil
	}
	return append([]byte(nil), sid.b...)
}
