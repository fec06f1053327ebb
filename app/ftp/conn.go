package ftp

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/lines"
)

// pendingCmd is a command waiting for its final reply.
type pendingCmd struct {
	seq       int
	name, arg string
	start     app.Pos
}

// Conn decodes one FTP control connection; it implements app.Stream.
type Conn struct {
	out      app.Output
	lines    [2]lines.Buffer
	lineAt   [2]app.Pos // frame of the current line's first byte
	suspect  [2]bool    // the next line follows a gap and may be a fragment
	afterGap [2]bool
	stopped  [2]bool
	reply    *Reply // multi-line reply being assembled
	pending  []*pendingCmd
	seq      int
	sum      ConnSummary
	greeted  bool // the greeting is over (a final greeting reply or a command)
	authTLS  bool // the last AUTH asked for TLS
	started  bool
	ended    bool
}

// New returns a decoder for one control connection that reports to out.
func New(out app.Output) *Conn {
	c := &Conn{out: out}
	for i := range c.lines {
		c.lines[i] = lines.New(MaxLine)
	}
	return c
}

// Bytes implements app.Stream.
func (c *Conn) Bytes(side app.Side, b []byte, at app.Pos) {
	if c.ended || side > app.Server || c.stopped[side] || len(b) == 0 {
		return
	}
	c.start(at)
	l := &c.lines[side]
	for len(b) > 0 && !c.stopped[side] {
		if l.Pending() == 0 {
			c.lineAt[side] = at
		}
		line, rest, ok := l.Next(b)
		if !ok {
			return
		}
		b = rest
		c.line(side, line, at)
	}
}

// Gap implements app.Stream: the partial line is dropped and decoding
// resumes at the next line that looks like a command or a reply.
func (c *Conn) Gap(side app.Side, n int64, at app.Pos) {
	if c.ended || side > app.Server || c.stopped[side] {
		return
	}
	c.start(at)
	c.sum.Gaps[side]++
	c.lines[side].Reset()
	c.suspect[side], c.afterGap[side] = true, true
	if side == app.Server && c.reply != nil {
		c.finish(c.reply, at, false)
	}
}

// Close implements app.Stream. A last line without its line end is still
// decoded.
func (c *Conn) Close(side app.Side, reset bool, at app.Pos) {
	if c.ended || side > app.Server || c.sum.Closed[side] {
		return
	}
	c.start(at)
	if !c.stopped[side] {
		if line, ok := c.lines[side].Flush(); ok {
			c.line(side, line, at)
		}
		if side == app.Server && c.reply != nil {
			c.finish(c.reply, at, false)
		}
	}
	c.sum.Closed[side], c.sum.Reset[side], c.sum.ClosedAt[side] = true, reset, at
	if !c.sum.AnyClosed {
		c.sum.AnyClosed, c.sum.FirstCloser = true, side
	}
	c.stopped[side] = true
}

// End implements app.Stream: commands still waiting are reported
// unanswered and the summary is emitted.
func (c *Conn) End(at app.Pos) {
	if c.ended {
		return
	}
	c.start(at)
	if c.reply != nil {
		c.finish(c.reply, at, false)
	}
	c.ended = true
	for _, p := range c.pending {
		c.sum.Unanswered++
		c.out.Emit(app.Transaction{
			Protocol: "ftp", Operation: p.name, Request: request(p.name, p.arg),
			Status: app.StatusNoReply, RequestAt: p.start,
		})
	}
	c.pending = nil
	c.sum.End = at
	sum := c.sum
	sum.Data = append([]DataEndpoint(nil), c.sum.Data...)
	c.out.EmitRecord(&sum)
}

// Summary returns the connection summary so far (final after End).
func (c *Conn) Summary() ConnSummary { return c.sum }

// Expected returns the data-connection endpoints announced so far, oldest
// first (at most MaxData).
func (c *Conn) Expected() []DataEndpoint { return append([]DataEndpoint(nil), c.sum.Data...) }

func (c *Conn) start(at app.Pos) {
	if !c.started {
		c.started, c.sum.Start = true, at
	}
}

func (c *Conn) line(side app.Side, line lines.Line, at app.Pos) {
	if side == app.Client {
		c.command(line, at)
	} else {
		c.replyLine(line, at)
	}
}

func (c *Conn) command(line lines.Line, at app.Pos) {
	text := stripTelnet(line.Text)
	if c.suspect[app.Client] {
		c.suspect[app.Client] = false
		if !looksLikeCommand(text) {
			return
		}
	}
	if len(bytes.TrimSpace(text)) == 0 {
		return
	}
	verb, arg, _ := bytes.Cut(text, []byte(" "))
	cmd := &Command{
		Start: c.lineAt[app.Client], End: at, Name: strings.ToUpper(string(verb)),
		Truncated: line.Truncated, AfterGap: c.afterGap[app.Client],
	}
	cmd.Arg = keep(arg, MaxValue, &cmd.Truncated)
	c.seq++
	cmd.Seq = c.seq
	switch cmd.Name {
	case "PORT":
		if a, p, ok := parseHostPort(arg); ok {
			cmd.Data = append(cmd.Data, DataEndpoint{At: cmd.Start, Command: "PORT", Addr: a, Port: p})
		}
	case "EPRT":
		if a, p, ok := parseExtended(bytes.TrimSpace(arg)); ok {
			cmd.Data = append(cmd.Data, DataEndpoint{At: cmd.Start, Command: "EPRT", Addr: a, Port: p})
		}
	case "SPOR":
		for f := range bytes.FieldsSeq(arg) {
			if a, p, ok := parseHostPort(f); ok && len(cmd.Data) < MaxData {
				cmd.Data = append(cmd.Data, DataEndpoint{At: cmd.Start, Command: "SPOR", Addr: a, Port: p})
			}
		}
	case "AUTH":
		c.sum.Auth = strings.ToUpper(cmd.Arg)
		switch c.sum.Auth {
		case "TLS", "SSL", "TLS-C", "TLS-P":
			c.authTLS = true
		default:
			c.authTLS = false
		}
	}
	c.addData(cmd.Data)
	c.greeted = true
	c.sum.Commands++
	c.sum.LastCommand, c.sum.LastCommandAt = cmd.Name, cmd.Start
	if len(c.pending) >= MaxPending {
		c.pending = append(c.pending[:0], c.pending[1:]...)
		c.sum.Dropped++
	}
	c.pending = append(c.pending, &pendingCmd{seq: cmd.Seq, name: cmd.Name, arg: cmd.Arg, start: cmd.Start})
	c.out.EmitRecord(cmd)
}

func (c *Conn) replyLine(line lines.Line, at app.Pos) {
	text := line.Text
	if r := c.reply; r != nil {
		r.Lines++
		if code, sep, _, ok := parseReplyStart(text); ok && code == r.Code && sep != '-' {
			c.finish(r, at, true)
			return
		}
		if r.Code == 229 {
			// GridFTP's SPAS lists one host-port per continuation line.
			if a, p, ok := findHostPort(text); ok && len(r.Data) < MaxData {
				r.Data = append(r.Data, DataEndpoint{At: r.Start, Passive: true, Command: "SPAS", Addr: a, Port: p})
			}
		}
		switch room := MaxText - len(r.More); {
		case room <= 0:
			r.Truncated = true
		case r.More == "":
			r.More = keep(text, room, &r.Truncated)
		case room > 1:
			r.More += "\n" + keep(text, room-1, &r.Truncated)
		}
		r.Truncated = r.Truncated || line.Truncated
		return
	}
	code, sep, rest, ok := parseReplyStart(text)
	if c.suspect[app.Server] {
		c.suspect[app.Server] = false
		if !ok {
			return
		}
	}
	if !ok {
		if len(bytes.TrimSpace(text)) > 0 {
			c.sum.Malformed++
		}
		return
	}
	r := &Reply{Start: c.lineAt[app.Server], Code: code, Lines: 1, Truncated: line.Truncated, AfterGap: c.afterGap[app.Server]}
	r.Text = keep(rest, MaxValue, &r.Truncated)
	if sep == '-' {
		c.reply = r
		return
	}
	c.finish(r, at, true)
}

// finish pairs a reply with the command it answers and reports it.
func (c *Conn) finish(r *Reply, at app.Pos, complete bool) {
	c.reply = nil
	r.End, r.Complete = at, complete
	r.Preliminary = r.Code < 200
	cmdArg := ""
	switch {
	case !c.greeted && len(c.pending) == 0:
		r.Greeting = true
		if !r.Preliminary {
			c.greeted = true
		}
		c.sum.Greeting, c.sum.GreetingCode, c.sum.GreetingText, c.sum.GreetingAt = true, r.Code, r.Text, r.Start
	case len(c.pending) > 0:
		p := c.pending[0]
		r.Seq, r.Command, r.CommandAt, cmdArg = p.seq, p.name, p.start, p.arg
		if !r.Preliminary {
			c.pending = c.pending[1:]
		}
	default:
		r.Unsolicited = true
	}
	switch {
	case r.Code == 227:
		if a, p, ok := findHostPort([]byte(r.Text)); ok {
			r.Data = []DataEndpoint{{At: r.Start, Passive: true, Command: "PASV", Addr: a, Port: p}}
		}
	case r.Code == 229 && r.Lines == 1:
		if a, p, ok := parseEPSVReply([]byte(r.Text)); ok {
			r.Data = []DataEndpoint{{At: r.Start, Passive: true, Command: "EPSV", Addr: a, Port: p}}
		}
	case r.Code == 421:
		c.sum.IdleTimeout = true
	case r.Code == 234 && c.authTLS && r.Command == "AUTH":
		// The control channel is TLS from here on.
		c.sum.TLS = true
		c.stopped = [2]bool{true, true}
	}
	c.addData(r.Data)
	c.sum.Replies++
	c.sum.LastReplyCode, c.sum.LastReplyAt = r.Code, r.Start
	c.out.EmitRecord(r)
	if r.Preliminary {
		return
	}
	t := app.Transaction{
		Protocol: "ftp", Reply: reply(r), ReplyAt: r.Start, Status: app.StatusOK,
	}
	switch {
	case r.Greeting:
		t.Operation = "greeting"
	case r.Unsolicited:
		t.Operation = "unsolicited"
	default:
		t.Operation, t.RequestAt, t.Latency = r.Command, r.CommandAt, r.Latency()
		t.Request = request(r.Command, cmdArg)
	}
	switch {
	case r.Code >= 400 && r.Code < 600:
		t.Status, t.Error = app.StatusError, strconv.Itoa(r.Code)
	case !complete:
		t.Status = app.StatusIncomplete
	}
	c.out.Emit(t)
}

func (c *Conn) addData(d []DataEndpoint) {
	for _, e := range d {
		if len(c.sum.Data) >= MaxData {
			c.sum.Data = append(c.sum.Data[:0], c.sum.Data[1:]...)
		}
		c.sum.Data = append(c.sum.Data, e)
	}
}

func request(name, arg string) string {
	if arg == "" {
		return name
	}
	if len(arg) > 128 {
		arg = arg[:128]
	}
	return name + " " + arg
}

func reply(r *Reply) string {
	text := r.Text
	if len(text) > 200 {
		text = text[:200]
	}
	return strconv.Itoa(r.Code) + " " + text
}
