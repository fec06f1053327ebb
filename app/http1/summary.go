package http1

import "github.com/wiresleuth/wiresleuth/app"

// ConnSummary sums up one connection at End: what connection-reuse and
// missing-FIN detectors need.
type ConnSummary struct {
	Start, End app.Pos // first byte seen, End call
	Requests   int     // requests seen (complete or not)
	Responses  int     // final responses seen
	Interim    int     // 1xx responses seen
	Unanswered int     // requests without a final response at End

	// Keep-alive: how many requests asked for a persistent connection (HTTP/1.1
	// without "close", HTTP/1.0 with "keep-alive") and how many final
	// responses allowed one (the same rule, and not delimited by close).
	ClientKeepAlive, ClientClose int
	ServerKeepAlive, ServerClose int

	// Closing: which sides sent FIN or RST, in what frame; FirstCloser is the
	// side that closed first, valid when AnyClosed.
	Closed      [2]bool
	Reset       [2]bool
	ClosedAt    [2]app.Pos
	AnyClosed   bool
	FirstCloser app.Side

	// LastComplete says the last final response ended by its own framing;
	// CloseDelimitedOpen says it was delimited by close and the server's
	// FIN never came: a client waits for it until its own timeout.
	LastComplete       bool
	LastDelimit        Delimit
	LastData           app.Pos // last byte of the last final response: a waiting client idles from here
	CloseDelimitedOpen bool

	Tunnel    bool    // the connection switched protocols (CONNECT, Upgrade)
	Gaps      [2]int  // gaps per side
	Resyncs   [2]int  // times a side lost step and resumed at a start line
	Stopped   [2]bool // side stopped decoding (closed, tunnel)
	Dropped   int     // requests forgotten because MaxPending were waiting
	Malformed [2]int  // messages with a framing problem per side
}

func (s *ConnSummary) At() app.Pos   { return s.Start }
func (s *ConnSummary) Done() app.Pos { return s.End }

// KeepAliveAsked reports whether the client asked to keep the connection
// open on its first request.
func (s *ConnSummary) KeepAliveAsked() bool { return s.ClientKeepAlive > 0 && s.ClientClose == 0 }

// Reused reports whether the connection carried more than one request.
func (s *ConnSummary) Reused() bool { return s.Requests > 1 }

// Fields yields wiresleuth's own per-connection fields (tshark has none).
func (s *ConnSummary) Fields(yield func(app.Field) bool) {
	_ = yield(app.Uint("http.conn.requests", uint64(s.Requests))) &&
		yield(app.Uint("http.conn.responses", uint64(s.Responses))) &&
		yield(app.Uint("http.conn.unanswered", uint64(s.Unanswered))) &&
		yield(app.Bool("http.conn.keep_alive_asked", s.KeepAliveAsked())) &&
		yield(app.Bool("http.conn.keep_alive_offered", s.ServerKeepAlive > 0 && s.ServerClose == 0)) &&
		yield(app.Bool("http.conn.reused", s.Reused())) &&
		(!s.AnyClosed || yield(app.String("http.conn.first_closer", s.FirstCloser.String()))) &&
		yield(app.String("http.conn.last_delimit", s.LastDelimit.String())) &&
		yield(app.Bool("http.conn.close_delimited_open", s.CloseDelimitedOpen))
}
