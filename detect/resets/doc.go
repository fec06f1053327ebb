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
// What conn.Record does not keep (every RST's TTL, IP ID and window; the
// raw sequence numbers of a bare ACK answering a SYN; the order of SYNs,
// SYN-ACKs and the handshake ACK) is gathered by one packet Observer.
package resets
