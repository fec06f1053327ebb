package ftp

import (
	"bytes"

	"github.com/wiresleuth/wiresleuth/app"
)

// Protocol describes the decoder to the dispatcher.
var Protocol = app.Protocol{
	Name:       "ftp",
	Probe:      Probe,
	NewStream:  func(sink app.Sink) app.Stream { return New(app.Output{Sink: sink}) },
	OpenStream: func(out app.Output) app.Stream { return New(out) },
}

// clientFirst are commands a client may send first (RFC 959, 2228, 2389).
var clientFirst = []string{"USER", "AUTH", "FEAT", "SYST", "OPTS", "HOST", "PASS", "ACCT", "QUIT"}

// Probe recognises an FTP greeting (server) or a first command (client).
// The server speaks first, so the greeting decides: a reply line that
// mentions FTP, or any reply line on port 21 or 2811 (GridFTP), is Likely;
// one naming SMTP is not FTP; other reply lines are Maybe.
func Probe(side app.Side, first []byte, serverPort uint16) app.Confidence {
	hint := serverPort == 21 || serverPort == 2811
	line := first
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		line = first[:i]
	}
	if side == app.Server {
		if len(line) < 4 {
			for _, c := range line {
				if c < '0' || c > '9' {
					return app.No
				}
			}
			if hint && len(line) > 0 {
				return app.Maybe
			}
			return app.No
		}
		code, _, text, ok := parseReplyStart(line)
		if !ok || code >= 600 {
			return app.No
		}
		lower := bytes.ToLower(text)
		switch {
		case bytes.Contains(lower, []byte("smtp")):
			return app.No
		case bytes.Contains(lower, []byte("ftp")), hint:
			return app.Likely
		}
		return app.Maybe
	}
	verb, _, _ := bytes.Cut(line, []byte(" "))
	verb = bytes.TrimRight(verb, "\r")
	for _, c := range clientFirst {
		if bytes.EqualFold(verb, []byte(c)) {
			if hint {
				return app.Likely
			}
			return app.Maybe
		}
	}
	return app.No
}
