// Package lines assembles text lines from bytes that arrive in pieces of any
// size, for line-oriented decoders (HTTP/1 heads, FTP control). It keeps at
// most a fixed number of bytes of one line, so hostile input that never sends
// a line end costs bounded memory; the rest of an over-long line is dropped
// and the line is flagged as truncated.
package lines

import "bytes"

// Buffer holds the part of a line received so far.
type Buffer struct {
	buf   []byte
	max   int
	long  bool  // the current line exceeded max
	total int64 // bytes of the current line seen so far, dropped ones included
}

// New returns a Buffer that keeps at most max bytes of a line.
func New(max int) Buffer { return Buffer{max: max} }

// Line is one complete line.
type Line struct {
	// Text is the line without its LF and without a CR before it. It is
	// valid until the next call to Next.
	Text []byte
	// Truncated says Text holds only the first bytes of a longer line.
	Truncated bool
	// Len is the line's full length on the wire, line end included.
	Len int64
}

// Next consumes b up to and including the first LF. It returns the line and
// the rest of b when a line ended, or ok false and an empty rest when b ended
// first (the partial line is kept).
func (l *Buffer) Next(b []byte) (line Line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		l.keep(b)
		return Line{}, nil, false
	}
	rest = b[i+1:]
	if len(l.buf) == 0 && !l.long && i <= l.max {
		// The whole line is in b: no copy.
		return Line{Text: trimCR(b[:i]), Len: int64(i + 1)}, rest, true
	}
	l.keep(b[:i])
	line = Line{Text: l.buf, Truncated: l.long, Len: l.total + 1}
	if !l.long {
		line.Text = trimCR(line.Text)
	}
	l.buf, l.long, l.total = l.buf[:0], false, 0
	return line, rest, true
}

// Flush returns the unfinished line, if any, as if its line end had come
// (for a peer that closes without ending its last line) and clears it.
func (l *Buffer) Flush() (Line, bool) {
	if l.total == 0 {
		return Line{}, false
	}
	line := Line{Text: trimCR(l.buf), Truncated: l.long, Len: l.total}
	l.buf, l.long, l.total = l.buf[:0], false, 0
	return line, true
}

// Pending reports how many bytes of an unfinished line are held or were
// dropped.
func (l *Buffer) Pending() int64 { return l.total }

// Reset drops the unfinished line.
func (l *Buffer) Reset() { l.buf, l.long, l.total = l.buf[:0], false, 0 }

func (l *Buffer) keep(b []byte) {
	l.total += int64(len(b))
	room := l.max - len(l.buf)
	if len(b) > room {
		b = b[:room]
		l.long = true
	}
	l.buf = append(l.buf, b...)
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
