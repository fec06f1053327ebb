// Package app defines how application-protocol decoders are fed by reassembled
// TCP streams and UDP datagrams, and the transaction record they emit.
//
// A decoder sees each direction of a connection as an ordered byte stream with
// gaps marked; it keeps bounded state and reports transactions (a request and
// its reply) through a callback. Decoders live in sub-packages (app/http1,
// app/ftp, app/oncrpc, app/tls, app/dns).
package app

import (
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
)

// Side is one end of a connection or exchange.
type Side uint8

const (
	// Client is the side that opened the connection (sent the SYN) or sent
	// the first datagram.
	Client Side = 0
	// Server is the other side.
	Server Side = 1
)

// Other returns the opposite side.
func (s Side) Other() Side { return 1 - s }

func (s Side) String() string {
	if s == Client {
		return "client"
	}
	return "server"
}

// Pos locates stream bytes in a capture: the frame that carried them.
type Pos struct {
	Frame int64        // frame number in its capture, 1-based
	Time  capture.Time // capture timestamp of that frame
}

// Stream receives one TCP connection's reassembled byte streams. Calls for
// both sides are interleaved in capture order. Byte slices are valid only
// during the call.
type Stream interface {
	// Bytes delivers the next in-order bytes sent by side. at is the frame
	// that carried the first of them.
	Bytes(side Side, b []byte, at Pos)
	// Gap reports that n bytes sent by side were not captured. Decoders
	// resynchronise where the protocol allows it, or stop decoding that
	// side and say so.
	Gap(side Side, n int64, at Pos)
	// Close reports that side ended its stream: FIN (reset false) or RST.
	Close(side Side, reset bool, at Pos)
	// End reports that the connection is finished (closed, timed out or at
	// the end of the capture). No call follows.
	End(at Pos)
}

// Status says how a transaction ended.
type Status uint8

const (
	// StatusOK: a reply that reports success.
	StatusOK Status = iota
	// StatusError: a reply that reports failure (HTTP 5xx/4xx, FTP 4xx/5xx,
	// RPC denied or non-zero op status, DNS rcode != 0, TLS fatal alert).
	StatusError
	// StatusNoReply: the request was never answered in the capture.
	StatusNoReply
	// StatusIncomplete: the reply started but did not complete (cut by a
	// gap, reset or the end of the capture).
	StatusIncomplete
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	case StatusNoReply:
		return "no-reply"
	case StatusIncomplete:
		return "incomplete"
	}
	return "unknown"
}

// Transaction is one request and its reply (or the lack of one), in terms
// every protocol shares. Decoders may keep richer typed records of their own;
// detectors work on this one.
type Transaction struct {
	Protocol  string        // "http", "ftp", "oncrpc", "tls", "dns"
	Operation string        // e.g. "GET", "AUTH", "GlusterFS Handshake DUMP", "A"
	Request   string        // one line summary of the request, e.g. "GET /index.html"
	Reply     string        // one line summary of the reply, e.g. "404 Not Found", "errno 13 EACCES (Permission denied)"
	Status    Status        // how it ended
	Error     string        // stable error name when Status is StatusError, e.g. "404", "421", "EACCES", "NXDOMAIN", "PROG_MISMATCH"
	RequestAt Pos           // frame of the request's first byte
	ReplyAt   Pos           // frame of the reply's first byte; zero if none
	Latency   time.Duration // ReplyAt.Time - RequestAt.Time; zero if no reply
	// Detail is the decoder's typed record behind a transaction that did
	// not end OK, when the decoder provides one (app/oncrpc: the reply, or
	// the call when none came), for detectors that need more than the
	// summary (an RPC program number, the versions a server supports).
	// Nil otherwise.
	Detail Record
}

// Sink receives transactions as decoders complete them.
type Sink func(Transaction)

// Datagrams receives the datagrams of one UDP exchange (one 4-tuple), in
// capture order. Byte slices are valid only during the call.
type Datagrams interface {
	Datagram(side Side, b []byte, at Pos)
	// End reports that no more datagrams follow (idle timeout or end of
	// capture): requests still unanswered are reported as StatusNoReply.
	End(at Pos)
}

// Confidence is how sure a probe is that bytes belong to its protocol.
type Confidence uint8

const (
	No     Confidence = iota // certainly not this protocol
	Maybe                    // could be; only a port hint or a weak pattern
	Likely                   // a strong pattern (e.g. "HTTP/1.1 " or an RPC header with a known program)
)

// Protocol describes one decoder to the dispatcher that chooses, by content
// with the server port only as a hint, which decoder a stream gets.
type Protocol struct {
	Name string // "http", "ftp", "oncrpc", "tls", "dns"
	// Probe looks at the first bytes a side sent (at most 1 KiB, possibly
	// fewer) and says whether they look like this protocol. serverPort is
	// the responder's port, a hint only.
	Probe func(side Side, first []byte, serverPort uint16) Confidence
	// NewStream returns a decoder for one TCP connection, or nil if the
	// protocol does not run over TCP.
	NewStream func(sink Sink) Stream
	// NewDatagrams returns a decoder for one UDP exchange, or nil if the
	// protocol does not run over UDP.
	NewDatagrams func(sink Sink) Datagrams
	// OpenStream and OpenDatagrams are NewStream and NewDatagrams for
	// decoders that also emit typed records (see Record). Optional; callers
	// use Protocol.Stream and Protocol.Datagrams, which pick whichever is set.
	OpenStream    func(out Output) Stream
	OpenDatagrams func(out Output) Datagrams
}
