package txns

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, c byte) []byte {
	return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
}

// appendCell appends s as a TSV cell: tab, newline, carriage return and
// backslash as \t \n \r \\, other control bytes and invalid UTF-8 as \xNN.
func appendCell(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = appendText(b, s[i:i+1+runeTail(s[i:])])
			i += runeTail(s[i:])
		}
	}
	return b
}

// runeTail is the number of continuation bytes of the valid rune at the
// start of s (0 for ASCII or an invalid byte).
func runeTail(s string) int {
	if s[0] < utf8.RuneSelf {
		return 0
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n <= 1 {
		return 0
	}
	return n - 1
}

// safe returns s fit for a terminal: control bytes, C1 controls and
// invalid UTF-8 as \xNN, the backslash doubled, so nothing from a packet
// can move the cursor or change colours.
func safe(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= utf8.RuneSelf || c == '\\' {
			return string(appendText(nil, s))
		}
	}
	return s
}

func appendText(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			b = append(b, '\\', '\\')
			i++
			continue
		case c < 0x20 || c == 0x7f:
			b = appendHex(b, c)
			i++
			continue
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || r >= 0x80 && r < 0xa0 {
			b = appendHex(b, c)
			i++
			continue
		}
		b = append(b, s[i:i+n]...)
		i += n
	}
	return b
}
