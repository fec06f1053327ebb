package correlate

// LSD radix sorts on 64-bit keys, 8 bits a pass: stable, so entries with
// equal keys keep the order they were appended in (time order within a
// connection, which is what the joins need). They beat comparison sorts
// several times on the million-entry joins.

func radixKents(es []kent) {
	if len(es) < 256 {
		sortKents(es)
		return
	}
	tmp := make([]kent, len(es))
	src, dst := es, tmp
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for i := range src {
			count[byte(src[i].key>>shift)]++
		}
		if count[byte(src[0].key>>shift)] == len(src) {
			continue // every key has the same byte here
		}
		pos := 0
		for b := range count {
			c := count[b]
			count[b] = pos
			pos += c
		}
		for i := range src {
			b := byte(src[i].key >> shift)
			dst[count[b]] = src[i]
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &es[0] {
		copy(es, src)
	}
}

func radixAnchors(as []anchor) {
	if len(as) < 256 {
		sortAnchors(as)
		return
	}
	tmp := make([]anchor, len(as))
	src, dst := as, tmp
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for i := range src {
			count[byte(src[i].key>>shift)]++
		}
		if count[byte(src[0].key>>shift)] == len(src) {
			continue
		}
		pos := 0
		for b := range count {
			c := count[b]
			count[b] = pos
			pos += c
		}
		for i := range src {
			b := byte(src[i].key >> shift)
			dst[count[b]] = src[i]
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &as[0] {
		copy(as, src)
	}
}
