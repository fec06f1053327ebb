// Package correlate follows packets across captures taken at several points
// of one network path: it matches each packet to its copies at the other
// vantage points, estimates the clock offset (and drift) between captures
// from the matched packets, and gives every packet a fate — delivered to the
// next point, lost between two points, injected between two points, changed
// on the way, or outside the time both captures cover.
//
// # Gathering
//
// A Recorder sees every packet of one capture during the single pass that
// builds its dataset and keeps a compact signature of each IP packet (about
// 56 bytes: time, frame, IP ID, TTL, DSCP/ECN, lengths, TCP sequence and
// acknowledgment numbers, flags, window, the option set with MSS, window
// scale and TSval, Ethernet padding, and two hashes of the payload's first
// 16 and 64 bytes) plus one record per connection. Nothing is read twice.
// Finish returns the Capture.
//
// # Matching
//
// Correlate takes the captures in path order (client side first). It first
// matches connections between every two captures, then packets within
// matched connections, so that addresses and ports rewritten on the way
// (NAT, PAT) do not matter:
//
//   - Connections are matched by anchors, identities of single packets that
//     survive translation: the sequence and acknowledgment numbers with the
//     flags and length; the TCP timestamp value; the length and a hash of
//     the payload's first bytes; the IP ID. Anchors of both captures are
//     joined by sorting (no per-packet maps), each connection pair collects
//     votes, and connections are paired greedily by votes, the same
//     endpoints counting as extra evidence. The anchors that hit also give
//     each direction's sequence-number offset, so a middlebox that
//     randomises initial sequence numbers is undone.
//   - Packets of matched connections are keyed by direction, flags (less
//     ECE/CWR), sequence and acknowledgment numbers translated into the
//     other capture's numbering, and length (for UDP and ICMP by the payload
//     hash and ICMP fields), and joined by sorting. Unique keys match at
//     once; keys shared by several packets (retransmissions, duplicate ACKs,
//     identical datagrams) are first split by IP ID or TSval where the path
//     preserves them, then assigned by time once the clock offset is known,
//     best fit first. IP ID, TTL, checksums, options, window, padding, VLAN
//     tags and tunnel headers are not part of the key: the innermost IP
//     packet is compared, and what changed is reported, not used to match.
//     Different snap lengths only limit which payload hashes are compared.
//
// # Clocks
//
// For two captures A (upstream) and B, a packet travelling downstream gives
// tB−tA = θ+d and one travelling upstream tB−tA = θ−d, with θ the offset
// and d ≥ 0 the one-way delay. The smallest downstream difference and the
// largest upstream one bracket θ; the middle of the bracket is the
// estimate and half its width the uncertainty (the classic NTP bound).
// Over long captures the bracket is computed in time bins and a line is
// fitted through their middles: the slope is the drift. With traffic in
// one direction only, θ is bounded on one side and the delay cannot be
// told apart from the offset. The matching itself does not need the offset,
// so offsets of minutes or hours are handled as well as microseconds.
//
// # Fates
//
// The direction a packet travels along the path comes from TTLs (they
// only decrease), from other connections of the same host, and otherwise
// from who opened the connection (the client side is first in path order).
// A packet seen at one point and not at the next point in its direction
// of travel is lost in that segment; one seen at a point and not at the
// previous one was injected in between. Both are judged only where the two
// captures overlap in time (allowing for the offset, its uncertainty and
// the observed delay). A connection that a point never sees at all counts
// as lost there only if that point carries other traffic between the same
// hosts; a point that sees none of a connection while a point further on
// does is off that connection's path (a branch or a capture filter) and is
// skipped.
//
// Memory is bounded by Options.MaxPackets per capture; the cost of
// Correlate is dominated by sorting, O(n log n) with small constants.
package correlate
