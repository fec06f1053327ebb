package agent

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// The replies of the GridFTP story's control channel.
const (
	ftpBanner  = "220 wiresleuth lab GridFTP-like server ready."
	ftpAuthOK  = "334 Using authentication type GSSAPI; ADAT must follow"
	ftpIdle    = "421 Idle Timeout: closing control connection."
	ftpBye     = "221 Goodbye."
	ftpUnknown = "500 Command not understood."
	maxFTPLine = 512
)

// ftpServer is a scripted FTP-like control channel: a 220 banner, a 334
// reply to AUTH GSSAPI, 221 to QUIT, and 421 when no command arrives within
// -idle (the reply globus-url-copy reported in the GridFTP story).
func ftpServer(e *env, args []string) error {
	fs, life := e.flags()
	listen := fs.String("listen", ":2811", "address to listen on")
	idle := fs.Duration("idle", 3*time.Second, "idle timeout before 421")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e.dieAfter(*life)
	ln, err := net.Listen("tcp4", *listen)
	if err != nil {
		return err
	}
	e.say("listening on %s (idle timeout %v)", ln.Addr(), *idle)
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go serveFTP(e, c, *idle)
	}
}

func serveFTP(e *env, c net.Conn, idle time.Duration) {
	defer c.Close()
	name := connName(c)
	reply := func(s string) { fmt.Fprintf(c, "%s\r\n", s) }
	reply(ftpBanner)
	r := bufio.NewReaderSize(c, maxFTPLine)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		line, err := readLine(r)
		if isTimeout(err) {
			reply(ftpIdle)
			e.say("%s: no command for %v: sent 421, closing", name, idle)
			return
		}
		if err != nil {
			e.say("%s: %v", name, unwrap(err))
			return
		}
		e.say("%s: command %q", name, line)
		switch strings.ToUpper(line) {
		case "AUTH GSSAPI":
			reply(ftpAuthOK)
		case "QUIT":
			reply(ftpBye)
			return
		default:
			reply(ftpUnknown)
		}
	}
}

// readLine reads one CRLF-terminated line of at most maxFTPLine bytes.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", fmt.Errorf("line longer than %d bytes", maxFTPLine)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// ftpClient opens -conns control connections -spacing apart (the test
// scripts of the GridFTP story started them "simultaneously (or very nearly
// so)"), reads the banner, sends AUTH GSSAPI and waits for the reply.
func ftpClient(e *env, args []string) error {
	fs, life := e.flags()
	server := fs.String("server", "", "server address host:port")
	sport := fs.Int("sport", 0, "local port of the first connection (0: any); connection i uses sport+i")
	conns := fs.Int("conns", 1, "number of connections")
	spacing := fs.Duration("spacing", 0, "start connections this far apart")
	timeout := fs.Duration("timeout", 10*time.Second, "reply timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e.dieAfter(*life)
	var failed atomic.Int32
	burst(*conns, *spacing, func(i int) {
		d := net.Dialer{Timeout: 30 * time.Second}
		if *sport != 0 {
			d.LocalAddr = &net.TCPAddr{Port: *sport + i}
		}
		if !ftpSession(e, d, *server, *timeout) {
			failed.Add(1)
		}
	})
	e.say("%d of %d sessions failed", failed.Load(), *conns)
	return nil
}

// ftpSession runs one control connection and reports whether it succeeded.
func ftpSession(e *env, d net.Dialer, server string, timeout time.Duration) bool {
	start := time.Now()
	c, err := d.Dial("tcp4", server)
	if err != nil {
		e.say("connect %s: %v", server, unwrap(err))
		return false
	}
	defer c.Close()
	name := connName(c)
	r := bufio.NewReaderSize(c, maxFTPLine)
	expect := func(code string) bool {
		c.SetReadDeadline(time.Now().Add(timeout))
		line, err := readLine(r)
		if err != nil {
			e.say("%s: waiting for %s: %v after %v", name, code, unwrap(err), ms(time.Since(start)))
			return false
		}
		if !strings.HasPrefix(line, code+" ") {
			e.say("%s: error: the server responded with an error: %s (after %v)", name, line, ms(time.Since(start)))
			return false
		}
		return true
	}
	if !expect("220") {
		return false
	}
	fmt.Fprintf(c, "AUTH GSSAPI\r\n")
	if !expect("334") {
		return false
	}
	fmt.Fprintf(c, "QUIT\r\n")
	if !expect("221") {
		return false
	}
	e.say("%s: session ok in %v", name, ms(time.Since(start)))
	return true
}
