// Package packet decodes a captured frame into a Packet: link layer (with
// VLAN tags, Linux cooked headers, MPLS, PPPoE), tunnels (VXLAN, Geneve,
// GRE, IP-in-IP, Teredo, GTP-U), IPv4/IPv6 (options, extension headers,
// fragments reassembled), TCP, UDP and ICMP (with the header an ICMP error
// quotes). The innermost IP flow is the packet's identity; outer tunnel
// endpoints are kept as context.
//
// Decoding reuses the caller's Packet and allocates nothing for an
// unfragmented packet: header views point into the frame's bytes and are
// valid only as long as they are. Problems (unknown link type, truncated or
// malformed headers) are recorded in Packet.Problem, never returned as
// errors: a bad packet is data.
package packet
