// Package synth builds packet captures packet by packet, for tests and
// benchmarks that need traffic the kernel cannot produce on demand: clock
// offsets between vantage points, NAT with sequence randomisation, IP ID 0,
// bad checksums, Ethernet padding, tunnels, fragments, odd link types and
// hostile files.
//
// It has three parts:
//
//   - Layers (Ethernet, Dot1Q, SLL, SLL2, Null, IPv4, IPv6, IPv6Ext,
//     IPv6Fragment, TCP, UDP, ICMPv4, ICMPv6, VXLAN, Geneve, GRE, Payload)
//     that Encode into one frame. Lengths, next-protocol fields and checksums
//     are filled in unless set; Checksum chooses correct, fixed, wrong or
//     offload-style values. Fragment splits a packet into IP fragments.
//   - Conn, a small simulation of one TCP connection (handshake, MSS
//     segmentation, delayed and duplicate ACKs, SACK, timestamps, slow start,
//     fast retransmit and RTO, FIN/RST close) with path faults chosen by the
//     test (loss at a point of the path, delay for reordering, duplication)
//     and packets injected from anywhere on the path, rendered as the frames
//     a Vantage point would capture: with its own clock offset and drift,
//     link type, VLAN tags, padding, offload checksums and NAT-like edits.
//   - Writers for pcap (µs/ns, either byte order, snap length) and pcapng
//     (several interfaces, if_tsresol, EPB/SPB/ISB, comments, epb_flags),
//     optionally gzip- or zstd-compressed.
//
// Everything is hand-written rather than built on gopacket (v1.7.7): its
// layers cannot serialise Linux SLL or SLL2 and have no way to write a wrong
// or offload-style checksum on purpose, and serialising through them
// allocates per layer, which the generator cannot afford; its pcap writer
// writes one byte order only, and its pcapng writer writes no simple packet
// blocks, one byte order only, and no unknown blocks for hostile-input tests.
// Every kind of output is checked against tshark in this package's tests.
//
// The generator command in gencap writes a large realistic capture for
// benchmarks. Nothing here reads the wall clock; all times come from the
// caller.
package synth
