package http1

import "bytes"

// isTchar reports whether c may appear in a token (RFC 9110 section 5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTchar(c) {
			return false
		}
	}
	return true
}

// parseVersion parses "HTTP/d.d".
func parseVersion(b []byte) (Version, bool) {
	if len(b) != 8 || string(b[:5]) != "HTTP/" || b[6] != '.' ||
		b[5] < '0' || b[5] > '9' || b[7] < '0' || b[7] > '9' {
		return Version{}, false
	}
	return Version{b[5] - '0', b[7] - '0'}, true
}

// cutSpace splits b at the first run of spaces (RFC 9112 section 3 allows
// recipients to accept several).
func cutSpace(b []byte) (before, after []byte, found bool) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return b, nil, false
	}
	j := i
	for j < len(b) && b[j] == ' ' {
		j++
	}
	return b[:i], b[j:], true
}

// parseRequestLine parses "method SP target SP HTTP/d.d". Only HTTP/1.x is
// accepted: HTTP/0.9 has no version and nothing to decode.
func parseRequestLine(line []byte) (method, target []byte, v Version, ok bool) {
	method, rest, ok1 := cutSpace(line)
	target, ver, ok2 := cutSpace(rest)
	if !ok1 || !ok2 || !isToken(method) || len(target) == 0 {
		return nil, nil, v, false
	}
	for _, c := range target {
		if c < 0x21 || c == 0x7f {
			return nil, nil, v, false
		}
	}
	v, ok = parseVersion(bytes.TrimRight(ver, " "))
	if !ok || v.Major != 1 {
		return nil, nil, v, false
	}
	return method, target, v, true
}

// parseStatusLine parses "HTTP/d.d SP ddd [SP reason]".
func parseStatusLine(line []byte) (v Version, code int, reason []byte, ok bool) {
	ver, rest, found := cutSpace(line)
	if !found {
		return v, 0, nil, false
	}
	v, ok = parseVersion(ver)
	if !ok || v.Major != 1 || len(rest) < 3 {
		return v, 0, nil, false
	}
	for _, c := range rest[:3] {
		if c < '0' || c > '9' {
			return v, 0, nil, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return v, 0, nil, false
	}
	rest = rest[3:]
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return v, 0, nil, false
		}
		reason = rest[1:]
	}
	return v, code, reason, true
}

// parseContentLength accepts decimal digits, or a list of identical values
// ("5, 5", RFC 9110 section 8.6); anything else is invalid (-1).
func parseContentLength(b []byte) int64 {
	n := int64(-1)
	for part := range bytes.SplitSeq(b, []byte(",")) {
		part = bytes.Trim(part, " \t")
		if len(part) == 0 || len(part) > 18 {
			return -1
		}
		var v int64
		for _, c := range part {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int64(c-'0')
		}
		if n >= 0 && v != n {
			return -1
		}
		n = v
	}
	return n
}

// parseChunkSize parses a chunk-size line: hex digits, then optional
// whitespace and extensions after ';'.
func parseChunkSize(b []byte) (int64, bool) {
	if i := bytes.IndexByte(b, ';'); i >= 0 {
		b = b[:i]
	}
	b = bytes.Trim(b, " \t")
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// hasToken reports whether a comma-separated list holds tok, case-insensitively.
func hasToken(list []byte, tok string) bool {
	for part := range bytes.SplitSeq(list, []byte(",")) {
		if bytes.EqualFold(bytes.Trim(part, " \t"), []byte(tok)) {
			return true
		}
	}
	return false
}

// lastToken returns the last element of a comma-separated list.
func lastToken(list []byte) []byte {
	if i := bytes.LastIndexByte(list, ','); i >= 0 {
		list = list[i+1:]
	}
	return bytes.Trim(list, " \t")
}

// keep copies at most MaxValue bytes of b into a string.
func keep(b []byte, truncated *bool) string {
	if len(b) > MaxValue {
		b = b[:MaxValue]
		*truncated = true
	}
	return intern(b)
}

// appendValue adds v to a kept list value, as repeated fields combine
// (RFC 9110 section 5.3).
func appendValue(cur string, v []byte, truncated *bool) string {
	if cur == "" {
		return keep(v, truncated)
	}
	if len(cur)+2+len(v) > MaxValue {
		*truncated = true
		return cur
	}
	return cur + ", " + string(v)
}
