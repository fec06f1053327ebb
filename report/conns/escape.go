package conns

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, c byte) []byte {
	return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
}

// appendZeek appends s as Zeek's ASCII writer writes a string field:
// non-printable bytes, the backslash, the separator (tab) and, inside a
// set, the set separator (comma) as \xNN; a value that reads as the unset
// or empty marker has its first byte escaped.
func appendZeek(b []byte, s string, inSet bool) []byte {
	if s == "-" || s == "(empty)" {
		b = appendHex(b, s[0])
		return append(b, s[1:]...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c < 0x20 || c >= 0x7f || inSet && c == ',':
			b = appendHex(b, c)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendCell appends s as a TSV cell: tab, newline, carriage return and
// backslash as \t \n \r \\, other control bytes and invalid UTF-8 as \xNN.
func appendCell(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\\':
			b = append(b, '\\', '\\')
		default:
			if c < 0x20 || c == 0x7f {
				b = appendHex(b, c)
				break
			}
			if c < utf8.RuneSelf {
				b = append(b, c)
				break
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				b = appendHex(b, c)
				break
			}
			b = append(b, s[i:i+n]...)
			i += n
			continue
		}
		i++
	}
	return b
}

// safe returns s fit for a terminal: control bytes and invalid UTF-8 as
// \xNN, so nothing from a packet can move the cursor or change colours.
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
		if c == '\\' {
			b = append(b, '\\', '\\')
			i++
			continue
		}
		if c < 0x20 || c == 0x7f {
			b = appendHex(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
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

// appendMicros appends nanoseconds ns as seconds with six decimals, cut
// to the microsecond as Zeek's pcap timestamps are.
func appendMicros(b []byte, ns int64) []byte {
	us := ns / 1000
	if ns < 0 && ns%1000 != 0 {
		us--
	}
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := us % 1e6
	for d := int64(1e5); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}
