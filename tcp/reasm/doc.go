// Package reasm turns each direction of one TCP connection into an ordered
// byte stream with the missing parts marked, and feeds it to an app.Stream.
//
// A Conn is given every TCP segment of its connection in capture order. It
// delivers in-order bytes as soon as they are contiguous (straight from the
// packet's payload, without copying), buffers out-of-order segments (copied)
// until the hole before them fills, drops retransmissions of bytes already
// delivered, and closes a direction when its FIN comes up in sequence order
// (or at once on RST).
//
// Where bytes overlap — a retransmission of delivered data, or two buffered
// copies of the same range — the first copy wins, as most receiving stacks
// behave, and bytes that differ are counted and reported
// (Stats.Inconsistencies; Zeek calls this rexmit_inconsistency, the mark of
// an injected segment such as Quantum Insert). Delivered bytes are compared
// against a bounded history of what was delivered (Options.History).
//
// Bytes known to be missing are reported with app.Stream.Gap:
//
//   - when the other side acknowledges beyond them: they were sent and
//     received, but the capture did not record them;
//   - when the out-of-order bytes buffered in one direction exceed
//     Options.MaxBuffered, the hole before them is given up;
//   - at RST, at End and on Flush, for every hole still pending (and up to a
//     FIN already seen);
//   - for the part of a segment cut off by the capture's snap length.
//
// Sequence numbers are compared in sequence space (package seqnum), so
// streams that wrap around 2^32 are handled. Keep-alives (one byte or none
// at the last delivered sequence number) are recognised and ignored;
// zero-window probes carry the next real byte of the stream and are
// delivered like any data, their retransmissions being ordinary duplicates.
//
// Memory is bounded per direction by Options.MaxBuffered (out-of-order data)
// and Options.History (delivered bytes kept for the consistency check,
// grown as the stream grows); Flush releases both at once, and End releases
// everything. A connection's owner may keep a global budget with Buffered.
//
// Where the choices differ from Wireshark's "Follow TCP Stream" and from
// Zeek's reassembler is said in the tests that compare them
// (tshark_test.go).
package reasm
