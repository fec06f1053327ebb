// Package resets recognises how TCP connections are torn down or refused
// in ways the endpoints did not mean, and the handshake anomalies that go
// with reused 4-tuples:
//
//   - handshake.stale-ack: a SYN answered by a bare ACK carrying an older
//     connection's numbers — the server still holds that connection
//     (TIME_WAIT after it closed first, or a half-open one);
//   - handshake.spurious-synack: a SYN-ACK repeated after the client had
//     acknowledged the first one, with where along the path the repeat was
//     seen and where not;
//   - reset.forged: a RST claiming to come from an endpoint whose TTL does
//     not fit that endpoint's other packets: made by a device on the path;
//   - reset.idle-timeout: connections reset after a consistent idle period
//     (a connection-tracking firewall, NAT or proxy timeout), estimated
//     between the longest idle that survived and the shortest that did not;
//   - resets.summary: who sends resets to whom and after what, as counts
//     and a share of all connections (the flag-ratio view engineers build
//     with ngrep), as context.
//
// Precision comes first. A bare ACK off by one from the SYN's number is a
// broken stack, not an older connection; a SYN-ACK that has a SYN of its
// own to answer (a retransmitted or duplicated one, at this vantage point
// or another), or that follows the first within 200 ms, is not spurious.
// A reset fits its claimed sender when any of the sender's packets — in
// the connection, or in its other established connections (several TTLs
// behind a load balancer) — came with its TTL; one that travelled farther
// than the sender's packets is taken for a route change unless the
// sender's next packet still has its usual TTL or its IP ID breaks the
// sender's counter. Resets of connections already closing are reported as
// warnings, not errors. An idle timeout needs resets in the server's name
// (or forged) after silences no surviving connection matched, two or more
// of them (one if forged), and a server that does not also reset busy
// connections; a client's own resets (pools closing idle connections,
// applications giving up) never count.
//
// What conn.Record does not keep (every RST's TTL, IP ID and window; the
// raw sequence numbers of a bare ACK answering a SYN; the order of SYNs,
// SYN-ACKs and the handshake ACK) is gathered by one packet Observer.
package resets
