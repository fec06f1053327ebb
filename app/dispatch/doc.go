// Package dispatch chooses, for each TCP connection and UDP exchange, the
// decoder that gets it: by content, each protocol's app.Protocol.Probe
// judging the first bytes each side sent, with the server port passed to
// the probes only as a hint (HTTP runs anywhere, GridFTP on 2811, Gluster
// bricks on 49152 and up). Protocols come from an explicit list given to New
// (Standard has this module's; app/oncrpc and others are appended by the
// caller), never from init-time registration.
//
// A stream is held back until a probe says Likely, until both sides have
// spoken, until a side has sent MaxProbe bytes, or until a gap, both
// sides' close, or End; then the best protocol (Likely over Maybe, ties to the earlier in the
// list) gets a decoder and every call held back is replayed to it in its
// original order, positions included. A protocol is Likely when a probe
// says so for either side, and Maybe only when no side that spoke got a No.
// When every probe says No the stream is not decoded (Protocol reports "").
//
// Bounded memory: at most MaxProbe bytes per side are held for a TCP
// stream, and at most MaxDatagrams datagrams (each cut at 64 KiB, the UDP
// maximum) for a UDP exchange.
package dispatch
