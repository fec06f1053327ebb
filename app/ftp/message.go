package ftp

import (
	"time"

	"github.com/wiresleuth/wiresleuth/app"
)

// Command is one command line the client sent.
type Command struct {
	Start, End app.Pos
	Seq        int    // 1 for the connection's first command
	Name       string // the verb, upper-cased (USER, AUTH, ADAT, PASV …)
	Arg        string // the rest of the line, cut at MaxValue bytes
	Truncated  bool
	AfterGap   bool
	Data       []DataEndpoint // PORT, EPRT, SPOR: where the client will listen
}

func (c *Command) At() app.Pos   { return c.Start }
func (c *Command) Done() app.Pos { return c.End }

// Fields yields tshark's names: ftp.request, ftp.request.command,
// ftp.request.arg, ftp.active.cip and ftp.active.port (PORT),
// ftp.eprt.ip/ipv6 and ftp.eprt.port (EPRT).
func (c *Command) Fields(yield func(app.Field) bool) {
	if !yield(app.Bool("ftp.request", true)) || !yield(app.String("ftp.request.command", c.Name)) {
		return
	}
	if c.Arg != "" && !yield(app.String("ftp.request.arg", c.Arg)) {
		return
	}
	for _, d := range c.Data {
		var ok bool
		switch d.Command {
		case "PORT":
			ok = yield(app.Addr("ftp.active.cip", d.Addr.String())) && yield(app.Uint("ftp.active.port", uint64(d.Port)))
		case "EPRT":
			name := "ftp.eprt.ip"
			if d.Addr.Is6() {
				name = "ftp.eprt.ipv6"
			}
			ok = yield(app.Addr(name, d.Addr.String())) && yield(app.Uint("ftp.eprt.port", uint64(d.Port)))
		default:
			ok = yield(app.Addr("ftp.data.ip", d.Addr.String())) && yield(app.Uint("ftp.data.port", uint64(d.Port)))
		}
		if !ok {
			return
		}
	}
}

// Reply is one reply, all its lines assembled.
type Reply struct {
	Start, End app.Pos
	Code       int
	Text       string // the first line after the code, cut at MaxValue bytes
	More       string // continuation lines, joined by "\n", cut at MaxText bytes
	Lines      int    // lines in the reply
	Truncated  bool
	Complete   bool // the last line arrived
	AfterGap   bool

	Greeting    bool // sent before any command: the banner (or a refusal)
	Unsolicited bool // no command was waiting (e.g. a 421 idle timeout)
	Preliminary bool // 1yz: the command goes on
	// The command it answers (Seq 0 for the greeting and unsolicited replies).
	Seq       int
	Command   string
	CommandAt app.Pos

	Data []DataEndpoint // PASV, EPSV, SPAS: where the server listens
}

func (r *Reply) At() app.Pos   { return r.Start }
func (r *Reply) Done() app.Pos { return r.End }

// Latency is from the command's first byte to the reply's first byte.
func (r *Reply) Latency() time.Duration {
	if r.Seq == 0 {
		return 0
	}
	return r.Start.Time.Sub(r.CommandAt.Time)
}

// Fields yields tshark's names: ftp.response, ftp.response.code,
// ftp.response.arg (the first line, as tshark), ftp.passive.ip and
// ftp.passive.port (227), ftp.epsv.port (229 to EPSV), then
// ftp.response.command, which tshark lacks: the command answered.
func (r *Reply) Fields(yield func(app.Field) bool) {
	if !yield(app.Bool("ftp.response", true)) || !yield(app.Uint("ftp.response.code", uint64(r.Code))) {
		return
	}
	if r.Text != "" && !yield(app.String("ftp.response.arg", r.Text)) {
		return
	}
	for _, d := range r.Data {
		var ok bool
		switch d.Command {
		case "PASV":
			ok = yield(app.Addr("ftp.passive.ip", d.Addr.String())) && yield(app.Uint("ftp.passive.port", uint64(d.Port)))
		case "EPSV":
			ok = (!d.Addr.IsValid() || yield(app.Addr("ftp.epsv.ip", d.Addr.String()))) && yield(app.Uint("ftp.epsv.port", uint64(d.Port)))
		default:
			ok = yield(app.Addr("ftp.data.ip", d.Addr.String())) && yield(app.Uint("ftp.data.port", uint64(d.Port)))
		}
		if !ok {
			return
		}
	}
	if r.Command != "" {
		yield(app.String("ftp.response.command", r.Command))
	}
}

// ConnSummary sums up a control connection at End: what a stall or timeout
// finding needs to say where the dialogue stopped.
type ConnSummary struct {
	Start, End app.Pos

	Greeting     bool // a greeting arrived
	GreetingCode int
	GreetingText string
	GreetingAt   app.Pos

	Commands, Replies int
	Unanswered        int    // commands without a final reply at End
	LastCommand       string // verb of the last command sent
	LastCommandAt     app.Pos
	LastReplyCode     int
	LastReplyAt       app.Pos

	IdleTimeout bool   // a 421 reply (service closing the control connection)
	Auth        string // mechanism of the last AUTH command (GSSAPI, TLS …)
	TLS         bool   // AUTH TLS/SSL accepted: the rest is encrypted, not decoded

	Data []DataEndpoint // endpoints announced for data connections, latest MaxData

	Closed      [2]bool
	Reset       [2]bool
	ClosedAt    [2]app.Pos
	AnyClosed   bool
	FirstCloser app.Side
	Gaps        [2]int
	Dropped     int // commands forgotten because MaxPending were waiting
	Malformed   int // server lines that were not replies
}

func (s *ConnSummary) At() app.Pos   { return s.Start }
func (s *ConnSummary) Done() app.Pos { return s.End }

// Fields yields wiresleuth's own per-connection fields (tshark has none).
func (s *ConnSummary) Fields(yield func(app.Field) bool) {
	_ = yield(app.Uint("ftp.conn.commands", uint64(s.Commands))) &&
		yield(app.Uint("ftp.conn.unanswered", uint64(s.Unanswered))) &&
		(!s.Greeting || yield(app.Uint("ftp.conn.greeting_code", uint64(s.GreetingCode)))) &&
		(s.LastCommand == "" || yield(app.String("ftp.conn.last_command", s.LastCommand))) &&
		yield(app.Bool("ftp.conn.idle_timeout", s.IdleTimeout)) &&
		yield(app.Bool("ftp.conn.tls", s.TLS))
}
