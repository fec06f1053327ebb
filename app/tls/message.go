package tls

import "github.com/wiresleuth/wiresleuth/app"

// Handshake is a clear-text handshake message other than the hellos.
type Handshake struct {
	Start, End app.Pos
	Side       app.Side
	Type       HandshakeType
	Length     int // body length announced in its header
}

func (h *Handshake) At() app.Pos   { return h.Start }
func (h *Handshake) Done() app.Pos { return h.End }

// Fields yields tls.handshake.type.
func (h *Handshake) Fields(yield func(app.Field) bool) {
	yield(app.Uint("tls.handshake.type", uint64(h.Type)))
}

// Alert is one alert message. An encrypted alert (sent after the sender's
// keys changed) has no level or description the decoder can read.
type Alert struct {
	Pos         app.Pos
	Side        app.Side
	Level       AlertLevel
	Description AlertDescription
	Encrypted   bool
	// Inferred: a TLS 1.3 record taken for an encrypted alert by its
	// length (see the package comment); it is reported at End.
	Inferred bool
}

func (a *Alert) At() app.Pos   { return a.Pos }
func (a *Alert) Done() app.Pos { return a.Pos }

// Fatal reports a fatal alert. RFC 8446 section 6 treats every alert but
// close_notify and user_canceled as fatal whatever its level says; this
// follows the level, as RFC 5246 receivers did.
func (a *Alert) Fatal() bool { return a.Level == 2 }

// Fields yields tshark's tls.alert_message.level and
// tls.alert_message.desc, or tls.alert_message.encrypted (wiresleuth's own)
// for an encrypted alert.
func (a *Alert) Fields(yield func(app.Field) bool) {
	if a.Encrypted {
		yield(app.Bool("tls.alert_message.encrypted", true))
		return
	}
	_ = yield(app.Uint("tls.alert_message.level", uint64(a.Level))) &&
		yield(app.Uint("tls.alert_message.desc", uint64(a.Description)))
}

// ConnSummary sums up a connection at End.
type ConnSummary struct {
	Start, End app.Pos

	ClientHello bool
	ServerHello bool
	HelloRetry  bool
	ServerName  string
	Offered     Version // highest version the client offered
	Version     Version // version the server chose
	CipherSuite CipherSuite
	OfferedALPN []string
	ALPN        string // protocol the server chose (in TLS 1.3 it is encrypted)
	Resumed     bool

	Established   bool
	EstablishedAt app.Pos
	// FailedBy is the first fatal (or encrypted) alert before the handshake
	// completed, nil if none.
	FailedBy *Alert

	Records    [2]int   // records per side
	AppRecords [2]int   // application_data records per side
	AppBytes   [2]int64 // their payload bytes
	Alerts     int
	Lost       [2]bool   // side stopped: not TLS, or record boundaries lost at a gap
	LostReason [2]string // why
	Gaps       [2]int
	Closed     [2]bool
	Reset      [2]bool
}

func (s *ConnSummary) At() app.Pos   { return s.Start }
func (s *ConnSummary) Done() app.Pos { return s.End }

// Fields yields wiresleuth's own per-connection fields.
func (s *ConnSummary) Fields(yield func(app.Field) bool) {
	_ = yield(app.Bool("tls.conn.established", s.Established)) &&
		(s.Version == 0 || yield(app.String("tls.conn.version", s.Version.String()))) &&
		(!s.ServerHello || yield(app.String("tls.conn.cipher", s.CipherSuite.String()))) &&
		(s.ServerName == "" || yield(app.String("tls.conn.server_name", s.ServerName))) &&
		(s.FailedBy == nil || s.FailedBy.Encrypted || yield(app.String("tls.conn.alert", s.FailedBy.Description.String())))
}
