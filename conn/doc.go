// Package conn turns a capture's packets into connection records: one per
// connection as Zeek's conn.log has it (originator and responder, conn_state,
// history, duration, bytes, packets, missed bytes, tunnel parents), with
// Zeek's rules for every field, followed by what troubleshooting needs
// (handshake RTT, TCP options on each side, TTL and IP ID behaviour, who
// closed and how, the longest idle gap, ICMP errors about the connection,
// checksum offload told from corruption, per-segment analysis counters and
// evidence frames).
//
// A Tracker is fed every decoded packet in capture order and hands each
// record to a callback once it is final, so memory is bounded by the live
// connections, not by the capture. The rules follow Zeek at the commit of
// the peer baselines; docs/zeek-conn-rules.md states them with the Zeek
// functions they come from, and the comments here cite those functions.
package conn
