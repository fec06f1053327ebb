package http1

import "bytes"

// headAcc accumulates one message's header section.
type headAcc struct {
	h          *Head
	teSeen     bool
	teChunked  bool // the last transfer coding is chunked
	clSeen     bool
	clBad      bool
	lastWasHdr bool // a field line was seen: obs-fold continues it
}

func (a *headAcc) reset(h *Head) {
	*a = headAcc{h: h}
	h.ContentLength = -1
}

// field records one header field line. It returns false when the message
// has too many fields to still be trusted as HTTP.
func (a *headAcc) field(line []byte, truncated bool) bool {
	h := a.h
	if truncated {
		h.Truncated = true
	}
	if line[0] == ' ' || line[0] == '\t' {
		// obs-fold (RFC 9112 section 5.2): a continuation of the previous
		// field's value. The kept fields are short lists, so the
		// continuation is not merged; it is counted as malformed.
		if !a.lastWasHdr && h.Malformed == "" {
			h.Malformed = "continuation line without a field"
		}
		return true
	}
	h.Headers++
	if h.Headers > MaxHeaders {
		return false
	}
	a.lastWasHdr = true
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		if h.Malformed == "" {
			h.Malformed = "header line without a colon"
		}
		return true
	}
	name := bytes.TrimRight(line[:colon], " \t")
	value := bytes.Trim(line[colon+1:], " \t")
	switch {
	case bytes.EqualFold(name, []byte("Host")):
		h.Host = appendValue(h.Host, value, &h.Truncated)
	case bytes.EqualFold(name, []byte("Connection")):
		h.Connection = appendValue(h.Connection, value, &h.Truncated)
		h.connClose = h.connClose || hasToken(value, "close")
		h.connKeepAlive = h.connKeepAlive || hasToken(value, "keep-alive")
	case bytes.EqualFold(name, []byte("Keep-Alive")):
		h.KeepAlive = appendValue(h.KeepAlive, value, &h.Truncated)
	case bytes.EqualFold(name, []byte("Upgrade")):
		h.Upgrade = appendValue(h.Upgrade, value, &h.Truncated)
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		h.TransferEncoding = appendValue(h.TransferEncoding, value, &h.Truncated)
		if last := lastToken(value); len(last) > 0 {
			a.teSeen = true
			a.teChunked = bytes.EqualFold(last, []byte("chunked"))
		}
	case bytes.EqualFold(name, []byte("Content-Length")):
		n := parseContentLength(value)
		switch {
		case n < 0 || a.clSeen && n != h.ContentLength:
			a.clBad = true
			h.ContentLength = -1
			if h.Malformed == "" {
				h.Malformed = "invalid Content-Length"
			}
		case !a.clBad:
			h.ContentLength = n
		}
		a.clSeen = true
	}
	return true
}
