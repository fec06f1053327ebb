package http1

import (
	"bytes"

	"github.com/wiresleuth/wiresleuth/app"
)

// Protocol describes the decoder to the dispatcher.
var Protocol = app.Protocol{
	Name:       "http",
	Probe:      Probe,
	NewStream:  func(sink app.Sink) app.Stream { return New(app.Output{Sink: sink}) },
	OpenStream: func(out app.Output) app.Stream { return New(out) },
}

// methods are the request methods Probe recognises before a whole request
// line has arrived (RFC 9110 and WebDAV).
var methods = []string{
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH",
}

// Probe recognises a request line (client) or a status line (server) by
// content on any port: HTTP runs anywhere. A complete line that parses, or a
// known method followed by a space, is Likely; a prefix of either, or a
// start line after the first line (a capture that began inside a message),
// is Maybe.
func Probe(side app.Side, first []byte, serverPort uint16) app.Confidence {
	if len(first) == 0 {
		return app.No
	}
	line := first
	complete := false
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		line, complete = bytes.TrimSuffix(first[:i], []byte("\r")), true
	}
	if side == app.Server {
		const prefix = "HTTP/1."
		switch {
		case complete:
			if _, _, _, ok := parseStatusLine(line); ok {
				return app.Likely
			}
			return midStream(first, true)
		case len(line) >= len(prefix):
			if bytes.HasPrefix(line, []byte(prefix)) {
				return app.Likely
			}
			return app.No
		case bytes.HasPrefix([]byte(prefix), line):
			return app.Maybe
		}
		return app.No
	}
	if complete {
		if _, _, _, ok := parseRequestLine(line); ok {
			return app.Likely
		}
		return midStream(first, false)
	}
	for _, m := range methods {
		switch {
		case len(line) > len(m) && bytes.HasPrefix(line, []byte(m)) && line[len(m)] == ' ':
			return app.Likely
		case len(line) <= len(m) && bytes.HasPrefix([]byte(m), line):
			return app.Maybe
		}
	}
	return app.No
}

// midStream looks past the first line for a start line, as when a capture
// begins inside a message: Maybe if one is found.
func midStream(first []byte, server bool) app.Confidence {
	for rest := first; ; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return app.No
		}
		rest = rest[i+1:]
		line := rest
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			line = bytes.TrimSuffix(rest[:j], []byte("\r"))
		} else {
			return app.No
		}
		var ok bool
		if server {
			_, _, _, ok = parseStatusLine(line)
		} else {
			_, _, _, ok = parseRequestLine(line)
		}
		if ok {
			return app.Maybe
		}
	}
}
