// Package http1 decodes HTTP/1.0 and HTTP/1.1 from the two reassembled byte
// streams of a TCP connection. It pairs requests with responses (pipelined
// ones too), keeps the headers that decide framing and connection reuse
// (Host, Connection, Content-Length, Transfer-Encoding, Keep-Alive, Upgrade),
// says how each response body is delimited (no body, length, chunked, or the
// server's close — then a missing FIN leaves the client waiting), and sums up
// the connection: requests carried, who asked for keep-alive, whether it was
// honoured and who closed first.
//
// Output, through app.Output: an app.Transaction per request, and the typed
// records *Request, *Response (interim 1xx responses included) and, at End,
// *ConnSummary, each with the frames of its first and last byte and
// display-filter fields named as tshark names them.
//
// Bounded memory per connection: a header, chunk-size or trailer line keeps at
// most MaxLine bytes (the rest is dropped and the message flagged Truncated,
// decoding stays in step; a start line that long cannot be parsed and its side
// resynchronises as after a gap); a message may have at most MaxHeaders header
// fields (more and the side is treated as out of step); kept header values are
// cut at MaxValue bytes; at most MaxPending requests wait for responses
// (beyond that the oldest is forgotten and counted in ConnSummary.Dropped);
// bodies are counted, never stored.
//
// Gaps (bytes missing from the capture): inside a body of known length —
// Content-Length or the current chunk — the gap is skipped and decoding stays
// in step; inside a close-delimited body the response is marked BodyGap;
// anywhere else the message is cut (Complete false) and that side resumes at
// the next line that parses as a request line (client) or status line
// (server). Messages after such a resynchronisation carry AfterGap: requests
// or responses lost in the gap may shift the pairing.
//
// Bytes from the wire are kept as they are (strings may hold invalid UTF-8
// or control bytes); escaping is the renderers' job.
package http1
