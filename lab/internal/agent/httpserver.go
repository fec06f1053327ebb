package agent

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// httpServer answers GET /bytes/N[?framing=length|chunked|close] with N
// bytes of the pattern. With -keepalive=false it answers every request with
// Connection: close and closes first, as the server in the F5 story did.
// It writes the head and the body separately so that a small segment
// precedes the full-size ones (the PMTU scenario relies on that).
func httpServer(e *env, args []string) error {
	fs, life := e.flags()
	listen := fs.String("listen", ":80", "address to listen on")
	keep := fs.Bool("keepalive", true, "honour keep-alive")
	idle := fs.Duration("idle", 30*time.Second, "close a keep-alive connection idle this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e.dieAfter(*life)
	ln, err := net.Listen("tcp4", *listen)
	if err != nil {
		return err
	}
	e.say("listening on %s (keep-alive %v)", ln.Addr(), *keep)
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go serveHTTP(e, c, *keep, *idle)
	}
}

func serveHTTP(e *env, c net.Conn, keepAllowed bool, idle time.Duration) {
	defer c.Close()
	name := connName(c)
	r := bufio.NewReader(c)
	for n := 1; ; n++ {
		c.SetReadDeadline(time.Now().Add(idle))
		req, err := readHead(r)
		if err != nil {
			e.say("%s: after %d requests: %v", name, n-1, err)
			return
		}
		method, target, proto := splitRequestLine(req.first)
		size, framing, perr := parseTarget(target)
		keep := keepAllowed && proto == "HTTP/1.1" && !strings.EqualFold(req.get("connection"), "close")
		if method != "GET" || perr != nil {
			fmt.Fprintf(c, "%s 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", proto)
			e.say("%s: bad request %q", name, req.first)
			return
		}
		if framing == framingChunked && proto != "HTTP/1.1" {
			framing = framingLength
		}
		if framing == framingClose {
			keep = false
		}
		head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		switch framing {
		case framingLength:
			head += "Content-Length: " + strconv.Itoa(size) + "\r\n"
		case framingChunked:
			head += "Transfer-Encoding: chunked\r\n"
		}
		if !keep {
			head += "Connection: close\r\n"
		}
		head += "\r\n"
		if _, err := c.Write([]byte(head)); err != nil {
			e.say("%s: write: %v", name, err)
			return
		}
		if err := writeBody(c, size, framing); err != nil {
			e.say("%s: write: %v", name, err)
			return
		}
		e.say("%s: request %d %q: %d bytes %s, keep-alive %v", name, n, target, size, framing, keep)
		if !keep {
			return // the server closes first
		}
	}
}

func writeBody(c net.Conn, size int, framing string) error {
	b := body(size)
	if framing != framingChunked {
		_, err := c.Write(b)
		return err
	}
	const chunk = 4096
	var out []byte
	for len(b) > 0 {
		n := min(chunk, len(b))
		out = fmt.Appendf(out, "%x\r\n", n)
		out = append(out, b[:n]...)
		out = append(out, "\r\n"...)
		b = b[n:]
	}
	out = append(out, "0\r\n\r\n"...)
	_, err := c.Write(out)
	return err
}

func splitRequestLine(line string) (method, target, proto string) {
	f := strings.Fields(line)
	for len(f) < 3 {
		f = append(f, "")
	}
	return f[0], f[1], f[2]
}

// parseTarget reads /bytes/N?framing=F.
func parseTarget(target string) (size int, framing string, err error) {
	u, err := url.Parse(target)
	if err != nil {
		return 0, "", err
	}
	n, ok := strings.CutPrefix(u.Path, "/bytes/")
	if !ok {
		return 0, "", fmt.Errorf("unknown path %q", u.Path)
	}
	size, err = strconv.Atoi(n)
	if err != nil || size < 0 || size > maxBodyBytes {
		return 0, "", fmt.Errorf("bad size %q", n)
	}
	framing = u.Query().Get("framing")
	switch framing {
	case "":
		framing = framingLength
	case framingLength, framingChunked, framingClose:
	default:
		return 0, "", fmt.Errorf("unknown framing %q", framing)
	}
	return size, framing, nil
}
