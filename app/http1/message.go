package http1

import (
	"time"

	"github.com/wiresleuth/wiresleuth/app"
)

// Version is an HTTP version, e.g. 1.1.
type Version struct{ Major, Minor uint8 }

func (v Version) String() string {
	return "HTTP/" + string(rune('0'+v.Major)) + "." + string(rune('0'+v.Minor))
}

// Delimit says how a message body ends (RFC 9112 section 6.3).
type Delimit uint8

const (
	NoBody   Delimit = iota // HEAD response, 1xx, 204, 304, request without length
	ByLength                // Content-Length
	Chunked                 // Transfer-Encoding: chunked
	ByClose                 // read until the server closes: only its FIN completes the response
	Tunnel                  // CONNECT 2xx or 101 Switching Protocols: other bytes follow
)

func (d Delimit) String() string {
	switch d {
	case NoBody:
		return "none"
	case ByLength:
		return "length"
	case Chunked:
		return "chunked"
	case ByClose:
		return "close"
	case Tunnel:
		return "tunnel"
	}
	return "unknown"
}

// Head is what requests and responses share: the version and the header
// fields that decide framing and connection reuse.
type Head struct {
	Version          Version
	Host             string
	Connection       string // Connection field values joined by ", "
	KeepAlive        string // Keep-Alive field value, e.g. "timeout=5, max=100"
	TransferEncoding string
	Upgrade          string
	ContentLength    int64 // -1 when absent or invalid
	Headers          int   // header fields, trailers excluded
	Truncated        bool  // a line or kept value was cut at MaxLine or MaxValue
	Malformed        string
	connClose        bool // Connection has the token "close"
	connKeepAlive    bool // Connection has the token "keep-alive"
}

// Persistent reports whether the message lets the connection stay open after
// it (RFC 9112 section 9.3): HTTP/1.1 unless "Connection: close", HTTP/1.0
// only with "Connection: keep-alive".
func (h *Head) Persistent() bool {
	if h.connClose {
		return false
	}
	if h.Version.Major == 1 && h.Version.Minor >= 1 || h.Version.Major > 1 {
		return true
	}
	return h.connKeepAlive
}

func (h *Head) fields(yield func(app.Field) bool) bool {
	if h.Connection != "" && !yield(app.String("http.connection", h.Connection)) {
		return false
	}
	if h.ContentLength >= 0 && !yield(app.Uint("http.content_length", uint64(h.ContentLength))) {
		return false
	}
	if h.TransferEncoding != "" && !yield(app.String("http.transfer_encoding", h.TransferEncoding)) {
		return false
	}
	if h.KeepAlive != "" && !yield(app.String("http.keep_alive", h.KeepAlive)) {
		return false
	}
	if h.Upgrade != "" && !yield(app.String("http.upgrade", h.Upgrade)) {
		return false
	}
	return true
}

// Request is one request as the client sent it.
type Request struct {
	Start, End app.Pos // frames of its first and last byte
	Seq        int     // 1 for the connection's first request
	Method     string
	Target     string // cut at MaxValue bytes
	Head
	Delimit  Delimit // NoBody, ByLength or Chunked
	Body     int64   // body bytes, chunk framing excluded, missing ones included
	Complete bool    // the whole message was seen
	BodyGap  bool    // body bytes were missing from the capture
	AfterGap bool    // decoded after the client side lost step (a gap or bad framing)
}

func (r *Request) At() app.Pos   { return r.Start }
func (r *Request) Done() app.Pos { return r.End }

// Fields yields tshark's names: http.request, http.request.method,
// http.request.uri, http.request.version, http.request_number, http.host, then
// the shared header fields.
func (r *Request) Fields(yield func(app.Field) bool) {
	_ = yield(app.Bool("http.request", true)) &&
		yield(app.String("http.request.method", r.Method)) &&
		yield(app.String("http.request.uri", r.Target)) &&
		yield(app.String("http.request.version", r.Version.String())) &&
		yield(app.Uint("http.request_number", uint64(r.Seq))) &&
		(r.Host == "" || yield(app.String("http.host", r.Host))) &&
		r.Head.fields(yield)
}

// Response is one response as the server sent it.
type Response struct {
	Start, End app.Pos // frames of its first byte and of what ended it (last byte, FIN, gap or End)
	LastData   app.Pos // frame of the last byte received: where a client waiting for more starts to idle
	Code       int
	Reason     string
	Head
	Interim  bool    // 1xx other than 101: the final response follows
	Delimit  Delimit // how its body ends
	Body     int64   // body bytes, chunk framing excluded, missing ones included
	Complete bool    // its body ended by its own framing (ByClose: a FIN from the server)
	BodyGap  bool    // body bytes were missing from the capture
	AfterGap bool    // decoded after the server side lost step (a gap or bad framing)

	// The request it answers; Seq is 0 when none was waiting.
	Seq                    int
	Method, Target         string
	RequestAt, RequestDone app.Pos
}

func (r *Response) At() app.Pos   { return r.Start }
func (r *Response) Done() app.Pos { return r.End }

// Latency is from the request's first byte to the response's first byte;
// zero when no request was waiting.
func (r *Response) Latency() time.Duration {
	if r.Seq == 0 {
		return 0
	}
	return r.Start.Time.Sub(r.RequestAt.Time)
}

// Fields yields tshark's names (http.response, http.response.version,
// http.response.code, http.response.phrase, http.request_in, http.time — as
// tshark, between the frames that completed request and response — and the
// shared header fields) and, without tshark equivalents,
// http.response.delimit and http.response.complete.
func (r *Response) Fields(yield func(app.Field) bool) {
	_ = yield(app.Bool("http.response", true)) &&
		yield(app.String("http.response.version", r.Version.String())) &&
		yield(app.Uint("http.response.code", uint64(r.Code))) &&
		yield(app.String("http.response.phrase", r.Reason)) &&
		r.Head.fields(yield) &&
		(r.Seq == 0 || yield(app.Uint("http.request_in", uint64(r.RequestDone.Frame))) &&
			yield(app.Duration("http.time", int64(r.End.Time-r.RequestDone.Time)))) &&
		yield(app.String("http.response.delimit", r.Delimit.String())) &&
		yield(app.Bool("http.response.complete", r.Complete))
}
