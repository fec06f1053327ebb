package ftp

import "bytes"

// parseReplyStart parses the "ddd" and separator that start a reply line:
// ' ' (or the line's end) for a last line, '-' for a first line of more.
// Codes 100-699 are accepted: RFC 2228 uses 6yz for protected replies.
func parseReplyStart(b []byte) (code int, sep byte, rest []byte, ok bool) {
	if len(b) < 3 {
		return 0, 0, nil, false
	}
	for _, c := range b[:3] {
		if c < '0' || c > '9' {
			return 0, 0, nil, false
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || code > 699 {
		return 0, 0, nil, false
	}
	if len(b) == 3 {
		return code, ' ', nil, true
	}
	if b[3] != ' ' && b[3] != '-' {
		return 0, 0, nil, false
	}
	return code, b[3], b[4:], true
}

// looksLikeCommand reports whether a line starts with a plausible verb:
// 3 to 4 ASCII letters (RFC 959 section 5.3.1) followed by a space or the
// line's end.
func looksLikeCommand(b []byte) bool {
	verb, _, _ := bytes.Cut(b, []byte(" "))
	if len(verb) < 3 || len(verb) > 4 {
		return false
	}
	for _, c := range verb {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// stripTelnet removes Telnet IAC sequences (RFC 854): clients send
// IAC IP IAC DM before ABOR. IAC IAC is a literal 0xff. b is returned as is
// when it holds no IAC.
func stripTelnet(b []byte) []byte {
	if bytes.IndexByte(b, 0xff) < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0xff {
			out = append(out, b[i])
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch c := b[i+1]; {
		case c == 0xff:
			out = append(out, 0xff)
			i++
		case c >= 251 && c <= 254: // WILL, WONT, DO, DONT and an option
			i += 2
		default:
			i++
		}
	}
	return out
}

// keep copies at most max bytes of b into a string.
func keep(b []byte, max int, truncated *bool) string {
	if len(b) > max {
		b = b[:max]
		*truncated = true
	}
	return string(b)
}
