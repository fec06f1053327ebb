// Package duplicate recognises the same IP packet arriving more than once
// at a capture point from different link-layer sources or with different
// TTLs: two devices forwarding the same traffic (tcp.duplicate-forwarding),
// the pfsync story where a backup firewall forwarded copies the switch
// flooded to it.
//
// The observer Copies keeps a bounded window of recent packet signatures
// (the IP header without TTL, checksum and traffic class, and the first
// bytes of the transport header and payload) and classifies every repeat by
// what differs between the two copies: two devices delivering to the same
// next hop (the fault), one device sending to two next hops, one packet seen
// before and after a hop (a router's only interface, or a capture on both
// sides of it: not a fault), and byte-identical copies (a SPAN session or a
// capture on several ports: an artefact of the capture, not the network).
// TCP retransmissions are not repeats: they carry a new IP ID (and usually
// a new timestamp), so their signatures differ.
package duplicate
