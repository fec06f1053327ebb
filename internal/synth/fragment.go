package synth

// Fragment splits the packet given by layers at its first IP layer into
// fragments carrying at most size bytes of IP payload each (rounded down to
// a multiple of 8), in order. Layers before the IP header are kept in each
// fragment; checksums inside are those of the whole packet. IPv6 packets get
// a fragment header (with the given id) after any hop-by-hop or routing
// header; IPv4 fragments keep the header's ID. Reorder or drop the result to
// taste.
func Fragment(size int, id uint32, layers ...Layer) [][]Layer {
	size &^= 7
	k := -1
	for i, l := range layers {
		switch l.(type) {
		case *IPv4, *IPv6:
			k = i
		}
		if k >= 0 {
			break
		}
	}
	if k < 0 || size <= 0 {
		return [][]Layer{layers}
	}
	unfrag := k + 1 // index of the first fragmentable layer
	if _, v6 := layers[k].(*IPv6); v6 {
		for unfrag < len(layers) {
			e, ok := layers[unfrag].(*IPv6Ext)
			if !ok || (e.Type != IPv6HopByHop && e.Type != IPv6Routing) {
				break
			}
			unfrag++
		}
	}
	// Encode without link padding so the IP payload is exactly the tail.
	var off int
	for _, l := range layers[:unfrag] {
		off += l.headerLen()
	}
	full := Encode(nil, layers...)
	n := 0
	for _, l := range layers {
		n += l.headerLen()
	}
	body := full[off:n]
	proto := nextProto(layers, unfrag-1)

	var out [][]Layer
	for start := 0; start < len(body); start += size {
		end := min(start+size, len(body))
		more := end < len(body)
		f := append([]Layer(nil), layers[:unfrag]...)
		switch ip := layers[k].(type) {
		case *IPv4:
			c := *ip
			c.Protocol, c.MF, c.FragOffset, c.Length = proto, more, start, 0
			c.DF = false
			f[k] = &c
			f = append(f, Payload(body[start:end]))
		case *IPv6:
			c := *ip
			c.Length = 0
			f[k] = &c
			f = append(f, &IPv6Fragment{NextHeader: proto, Offset: start, More: more, ID: id}, Payload(body[start:end]))
		}
		out = append(out, f)
	}
	return out
}
