// Package header provides zero-copy views of link, network and transport
// headers: each type is a byte slice over the frame with accessor methods,
// in the style of gVisor's netstack (pkg/tcpip/header). A view is checked
// once, by its Valid method or by the decoder that slices it; accessors then
// read fixed offsets without further checks.
//
// Written by hand rather than taken from gopacket's layers because the
// decoder needs the outer and inner headers of a tunnelled packet at once
// (a DecodingLayerParser keeps one object per layer type, so an inner IPv4
// overwrites the outer one) and because slicing views is cheaper: the whole
// packet decoder takes about half the time of gopacket's DecodingLayerParser
// on the same frames (packet.BenchmarkDecode vs BenchmarkGopacketDLP, 45 vs
// 85 ns per frame, both allocation-free).
package header
