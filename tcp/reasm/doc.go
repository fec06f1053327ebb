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
// everything. A connection's owner may keep a global budget with Memory.
//
// The streams are compared with Wireshark's "Follow TCP Stream" (tshark -z
// follow,tcp) on every capture of the test corpus, and the bytes declared
// missing with Zeek's missed_bytes. Where they differ, by choice:
//
//   - tshark marks a hole only once data captured beyond it is
//     acknowledged, and never shows out-of-order data still waiting at the
//     end of the capture; a hole that the other side acknowledges, or that
//     a FIN, RST or End bounds, is a gap here (as Zeek counts it);
//   - tshark silently skips bytes cut by the snap length; they are a gap
//     here (Zeek counts them missed too);
//   - among overlapping copies that differ, the first captured wins here;
//     tshark keeps whichever starts exactly at the next expected byte;
//   - data a sender sends after its own RST, and a RST's payload, are not
//     stream data here; tshark's follow ignores flags.
//
// tshark_test.go states these as rules that must explain every difference.
package reasm
