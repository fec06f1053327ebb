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
//     test (loss at a point of the path, delay for reordering, duplication),
//     rendered as the frames one vantage point would capture.
//   - Writers for pcap (µs/ns, either byte order, snap length) and pcapng
//     (several interfaces, if_tsresol, EPB/SPB/ISB, comments, epb_flags),
//     optionally gzip- or zstd-compressed.
//
// Everything is hand-written rather than built on gopacket: gopacket's
// layers cannot serialise SLL2 or Geneve, cannot write wrong or offload
// checksums on purpose, and allocate per layer; its pcap writer has one byte
// order and its pcapng writer has no SPB, comments or epb_flags. Every kind of
// output is checked against tshark in this package's tests.
//
// The generator command in gencap writes a large realistic capture for
// benchmarks. Nothing here reads the wall clock; all times come from the
// caller.
package synth
