package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// Limits on what the HTTP agents accept from the peer; the lab only talks
// to itself, but an agent must not hang or balloon on a broken stream.
const (
	maxHeaderBytes = 16 << 10
	maxBodyBytes   = 64 << 20
)

// Response framings the server can use and the client must follow.
const (
	framingLength  = "length"  // Content-Length
	framingChunked = "chunked" // Transfer-Encoding: chunked
	framingClose   = "close"   // body ends when the server closes
)

// pattern fills a body: readable in a hex dump, easy to compress, and any
// byte's value follows from its offset, so a receiver can check it.
const pattern = "wiresleuth lab payload 0123456789abcdefghijklmnopqrstuvwxyz\n"

func body(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = pattern[i%len(pattern)]
	}
	return b
}

// checkBody reports whether b is the first len(b) bytes of the pattern.
func checkBody(b []byte) bool {
	for i, c := range b {
		if c != pattern[i%len(pattern)] {
			return false
		}
	}
	return true
}

// message is a request or response head.
type message struct {
	first  string // request or status line
	header map[string]string
}

func (m *message) get(k string) string { return m.header[strings.ToLower(k)] }

// readHead reads a start line and headers up to the blank line.
func readHead(r *bufio.Reader) (*message, error) {
	m := &message{header: map[string]string{}}
	n := 0
	for {
		line, err := r.ReadString('\n')
		n += len(line)
		if err != nil {
			if err == io.EOF && n == 0 {
				return nil, io.EOF
			}
			return nil, err
		}
		if n > maxHeaderBytes {
			return nil, errors.New("header too long")
		}
		line = strings.TrimRight(line, "\r\n")
		if m.first == "" {
			if line == "" {
				continue // tolerate stray CRLF between messages
			}
			m.first = line
			continue
		}
		if line == "" {
			return m, nil
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("malformed header line %q", line)
		}
		m.header[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
}

// readBody reads a response body as its head frames it and says whether the
// server will close the connection after it.
func readBody(r *bufio.Reader, m *message) (body []byte, closing bool, err error) {
	closing = strings.EqualFold(m.get("connection"), "close") || strings.HasPrefix(m.first, "HTTP/1.0")
	switch {
	case strings.EqualFold(m.get("transfer-encoding"), "chunked"):
		body, err = readChunked(r)
	case m.get("content-length") != "":
		n, perr := strconv.Atoi(m.get("content-length"))
		if perr != nil || n < 0 || n > maxBodyBytes {
			return nil, closing, fmt.Errorf("bad content-length %q", m.get("content-length"))
		}
		body = make([]byte, n)
		_, err = io.ReadFull(r, body)
	default:
		closing = true
		body, err = io.ReadAll(io.LimitReader(r, maxBodyBytes))
	}
	return body, closing, err
}

func readChunked(r *bufio.Reader) ([]byte, error) {
	var out bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return out.Bytes(), err
		}
		size, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		n, err := strconv.ParseInt(size, 16, 32)
		if err != nil || n < 0 || int(n)+out.Len() > maxBodyBytes {
			return out.Bytes(), fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			// Trailer section ends with a blank line.
			for {
				t, err := r.ReadString('\n')
				if err != nil || strings.TrimRight(t, "\r\n") == "" {
					return out.Bytes(), err
				}
			}
		}
		if _, err := io.CopyN(&out, r, n); err != nil {
			return out.Bytes(), err
		}
		if _, err := r.Discard(2); err != nil { // CRLF after the data
			return out.Bytes(), err
		}
	}
}

// connName is "src:port > dst:port", the form the lab log uses.
func connName(c net.Conn) string {
	return c.LocalAddr().String() + " > " + c.RemoteAddr().String()
}
