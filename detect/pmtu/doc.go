// Package pmtu recognises path MTU blackholes (path.pmtu-blackhole):
// full-size TCP segments that are retransmitted and never acknowledged
// while smaller ones get through, because a link on the path has a smaller
// MTU and the ICMP fragmentation-needed (ICMPv6 packet-too-big) that should
// tell the sender is filtered, never sent, or ignored.
//
// The observer Segments follows each TCP connection's data by IP packet
// size: which sizes the receiver acknowledged (cumulatively or by SACK),
// which sequence ranges were sent again and again at one size and never
// acknowledged, which smaller segments beyond them got through, and, seen
// from the receiving side, holes in the data that are never filled. The
// detector judges its candidates with the connection records (MSS on each
// side, ICMP errors quoting the connection) and, with several captures,
// says at which vantage points the full-size packets still appear.
//
// Random loss is not a blackhole: lost full-size segments are delivered by
// a retransmission. A connection that stops for another reason (a peer
// gone, a firewall cutting it) is not one either: nothing smaller gets
// through after it, which the detector requires.
package pmtu
