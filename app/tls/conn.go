package tls

import (
	"github.com/wiresleuth/wiresleuth/app"
)

// sideState is one direction's record and handshake parser.
type sideState struct {
	// record layer
	hdr     [5]byte
	hdrN    int
	hdrAt   app.Pos
	typ     ContentType
	recLen  int
	remain  int
	stopped bool
	ccs     bool // sent ChangeCipherSpec: later handshake and alert records are encrypted
	encHS   int  // encrypted handshake records (Finished) after ChangeCipherSpec
	app23   int  // application_data records

	// handshake messages, reassembled across records while in clear
	hs     [4]byte
	hsN    int
	hsAt   app.Pos
	hsType HandshakeType
	hsLen  int
	hsLeft int
	hsBuf  []byte
	hsCut  bool // part of the kept message is missing
	hsLost bool // message boundaries lost at a gap

	alert   [2]byte
	alertN  int
	alertAt app.Pos
}

// Conn decodes one TLS connection; it implements app.Stream.
type Conn struct {
	out        app.Output
	side       [2]sideState
	sum        ConnSummary
	hello      *ClientHello // first ClientHello
	sessionID  []byte       // the client's session ID, to recognise resumption
	server     *ServerHello // the ServerHello that was not a retry request
	serverSeen bool         // TLS 1.3: a long server record after the client's first encrypted one
	maybeAlert *Alert       // TLS 1.3: a short server record after it, not yet followed by a long one
	reported   bool         // the handshake transaction was emitted
	started    bool
	ended      bool
}

// New returns a decoder for one connection that reports to out.
func New(out app.Output) *Conn { return &Conn{out: out} }

// Bytes implements app.Stream.
func (c *Conn) Bytes(side app.Side, b []byte, at app.Pos) {
	if c.ended || side > app.Server {
		return
	}
	c.start(at)
	s := &c.side[side]
	for len(b) > 0 && !s.stopped {
		if s.remain == 0 {
			if s.hdrN == 0 {
				s.hdrAt = at
			}
			n := copy(s.hdr[s.hdrN:], b)
			s.hdrN += n
			b = b[n:]
			if s.hdrN == 5 {
				c.header(side, at)
			}
			continue
		}
		n := min(len(b), s.remain)
		c.payload(side, b[:n], at)
		s.remain -= n
		b = b[n:]
		if s.remain == 0 {
			c.recordDone(side, at)
		}
	}
}

// Gap implements app.Stream: a gap inside the current record is skipped; one
// that reaches past it loses the record boundaries and stops the side.
func (c *Conn) Gap(side app.Side, n int64, at app.Pos) {
	if c.ended || side > app.Server || n <= 0 {
		return
	}
	c.start(at)
	s := &c.side[side]
	c.sum.Gaps[side]++
	if s.stopped {
		return
	}
	if s.remain == 0 || n > int64(s.remain) {
		c.stop(side, "gap across a record boundary")
		return
	}
	if s.typ == HandshakeRecord && !c.encrypted(side) {
		c.handshakeGap(side, int(n))
	}
	if s.typ == AlertRecord {
		s.alertN = 0
	}
	s.remain -= int(n)
	if s.remain == 0 {
		c.recordDone(side, at)
	}
}

// Close implements app.Stream.
func (c *Conn) Close(side app.Side, reset bool, at app.Pos) {
	if c.ended || side > app.Server {
		return
	}
	c.start(at)
	c.sum.Closed[side], c.sum.Reset[side] = true, reset
}

// End implements app.Stream: a handshake that neither completed nor failed
// is reported here.
func (c *Conn) End(at app.Pos) {
	if c.ended {
		return
	}
	c.start(at)
	c.ended = true
	if c.tls13() && !c.sum.Established && c.sum.FailedBy == nil && c.side[app.Client].app23 > 0 {
		// The client finished; the server's verdict is encrypted.
		if c.maybeAlert != nil {
			c.alert(c.maybeAlert)
		} else {
			c.serverSeen = true
			c.checkEstablished(at)
		}
	}
	if c.hello != nil && !c.reported {
		t := c.transaction()
		if c.server == nil {
			t.Status, t.Reply = app.StatusNoReply, ""
		} else {
			t.Status, t.Reply = app.StatusIncomplete, t.Reply+"; handshake did not complete"
		}
		c.reported = true
		c.out.Emit(t)
	}
	c.sum.End = at
	sum := c.sum
	c.out.EmitRecord(&sum)
}

// Summary returns the connection summary so far (final after End).
func (c *Conn) Summary() ConnSummary { return c.sum }

func (c *Conn) start(at app.Pos) {
	if !c.started {
		c.started, c.sum.Start = true, at
	}
}

func (c *Conn) stop(side app.Side, why string) {
	s := &c.side[side]
	s.stopped = true
	c.sum.Lost[side], c.sum.LostReason[side] = true, why
}

// tls13 reports whether the server chose TLS 1.3.
func (c *Conn) tls13() bool { return c.server != nil && c.server.Selected == TLS13 }

// encrypted reports whether side's handshake and alert records are
// encrypted: after its ChangeCipherSpec up to TLS 1.2. In TLS 1.3 encrypted
// records all carry the outer type application_data, so a handshake or
// alert record is clear text.
func (c *Conn) encrypted(side app.Side) bool { return c.side[side].ccs && !c.tls13() }

func (c *Conn) header(side app.Side, at app.Pos) {
	s := &c.side[side]
	s.hdrN = 0
	typ := ContentType(s.hdr[0])
	major := s.hdr[1]
	length := int(s.hdr[3])<<8 | int(s.hdr[4])
	if typ < ChangeCipherSpec || typ > Heartbeat || major != 3 {
		c.stop(side, "not a TLS record")
		return
	}
	if length > MaxRecord {
		c.stop(side, "record longer than allowed")
		return
	}
	s.typ, s.recLen, s.remain = typ, length, length
	c.sum.Records[side]++
	if length == 0 {
		c.recordDone(side, at)
	}
}

func (c *Conn) payload(side app.Side, b []byte, at app.Pos) {
	s := &c.side[side]
	switch s.typ {
	case HandshakeRecord:
		if !c.encrypted(side) {
			c.handshake(side, b, at)
		}
	case AlertRecord:
		if c.encrypted(side) || s.recLen != 2 {
			return // encrypted: reported whole at the record's end
		}
		for _, v := range b {
			if s.alertN == 0 {
				s.alertAt = at
			}
			s.alert[s.alertN] = v
			if s.alertN++; s.alertN == 2 {
				s.alertN = 0
				c.alert(&Alert{Pos: s.alertAt, Side: side, Level: AlertLevel(s.alert[0]), Description: AlertDescription(s.alert[1])})
			}
		}
	case ApplicationData:
		c.sum.AppBytes[side] += int64(len(b))
	}
}

func (c *Conn) recordDone(side app.Side, at app.Pos) {
	s := &c.side[side]
	switch s.typ {
	case ChangeCipherSpec:
		s.ccs = true
	case HandshakeRecord:
		if c.encrypted(side) {
			s.encHS++
		}
	case AlertRecord:
		if c.encrypted(side) || s.recLen != 2 {
			// A clear alert is 2 bytes; anything else is encrypted (also
			// when the capture began after the keys changed).
			c.alert(&Alert{Pos: s.hdrAt, Side: side, Encrypted: true})
		}
	case ApplicationData:
		s.app23++
		c.sum.AppRecords[side]++
		if c.tls13() {
			c.tls13Progress(side, s.recLen)
		}
	}
	c.checkEstablished(at)
}

// tls13Progress applies the TLS 1.3 rule: after the client's first
// encrypted record (its Finished, or its certificate), a server record longer
// than an alert (19 bytes: 2, the inner type and a 16-byte tag; up to 24 with
// padding) is a ticket or data and means the server accepted the client; a
// short one first is taken as an encrypted alert unless a longer one follows.
func (c *Conn) tls13Progress(side app.Side, length int) {
	if side != app.Server || c.side[app.Client].app23 == 0 {
		return
	}
	s := &c.side[side]
	if length > 24 {
		c.serverSeen, c.maybeAlert = true, nil
		return
	}
	if !c.serverSeen && c.maybeAlert == nil {
		c.maybeAlert = &Alert{Pos: s.hdrAt, Side: side, Encrypted: true, Inferred: true}
	}
}

func (c *Conn) checkEstablished(at app.Pos) {
	if c.sum.Established || c.server == nil || c.sum.FailedBy != nil {
		return
	}
	cl, sv := &c.side[app.Client], &c.side[app.Server]
	var ok bool
	if c.tls13() {
		ok = cl.app23 >= 1 && c.serverSeen
	} else {
		ok = cl.ccs && sv.ccs && cl.encHS > 0 && sv.encHS > 0
	}
	if !ok {
		return
	}
	c.sum.Established, c.sum.EstablishedAt = true, at
	if c.hello != nil && !c.reported {
		c.reported = true
		c.out.Emit(c.transaction())
	}
}

func (c *Conn) alert(a *Alert) {
	c.sum.Alerts++
	c.out.EmitRecord(a)
	if c.sum.Established || c.sum.FailedBy != nil || !a.Encrypted && !a.Fatal() {
		return
	}
	if a.Encrypted && c.server == nil {
		return
	}
	failed := *a // a copy: the Alert record belongs to its receiver
	c.sum.FailedBy = &failed
	if c.hello == nil || c.reported {
		return
	}
	c.reported = true
	t := c.transaction()
	t.Status = app.StatusError
	t.ReplyAt = a.Pos
	t.Latency = a.Pos.Time.Sub(c.hello.Start.Time)
	who := a.Side.String()
	if a.Encrypted {
		t.Error, t.Reply = "encrypted_alert", who+" encrypted alert"
	} else {
		t.Error, t.Reply = a.Description.String(), who+" alert "+a.Level.String()+" "+a.Description.String()
	}
	c.out.Emit(t)
}

// transaction describes the handshake so far.
func (c *Conn) transaction() app.Transaction {
	h := c.hello
	t := app.Transaction{Protocol: "tls", Operation: "handshake", Request: "ClientHello", RequestAt: h.Start}
	if h.ServerName != "" {
		t.Request += " SNI=" + h.ServerName
	}
	t.Request += " up to " + h.MaxVersion().String()
	if sh := c.server; sh != nil {
		t.Reply = "ServerHello " + sh.Selected.String() + " " + sh.CipherSuite.String()
		if sh.ALPN != "" {
			t.Reply += " ALPN=" + sh.ALPN
		}
		t.ReplyAt = sh.Start
		t.Latency = sh.Start.Time.Sub(h.Start.Time)
	}
	return t
}
