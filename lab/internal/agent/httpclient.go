package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// httpClient sends a list of GET requests, reusing the connection while the
// server allows it. -http10 makes it behave like PHP's file_get_contents in
// the OpenStack story: an HTTP/1.0 request, then read until EOF; when the
// EOF does not come within -timeout, close (with -reset-on-timeout: reset).
func httpClient(e *env, args []string) error {
	fs, life := e.flags()
	server := fs.String("server", "", "server address host:port")
	sport := fs.Int("sport", 0, "first local port (0: any); connection k of worker i uses sport+i*len(get)+k")
	gets := fs.String("get", "100", "comma-separated requests N[:length|chunked|close]: N bytes with that framing")
	http10 := fs.Bool("http10", false, "send HTTP/1.0 requests and read until EOF")
	closeReq := fs.Bool("close", false, "ask for Connection: close")
	idle := fs.Duration("idle", 0, "pause between requests on a connection")
	timeout := fs.Duration("timeout", 5*time.Second, "read timeout for a response or the server's EOF")
	reset := fs.Bool("reset-on-timeout", false, "on a read timeout, close with SO_LINGER 0 (send RST)")
	conns := fs.Int("conns", 1, "number of parallel workers, each sending the whole list")
	spacing := fs.Duration("spacing", 0, "start workers this far apart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e.dieAfter(*life)
	reqs, err := parseGets(*gets)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*server)
	if err != nil {
		return fmt.Errorf("-server: %w", err)
	}
	proto := "HTTP/1.1"
	if *http10 {
		proto = "HTTP/1.0"
	}
	var failed atomic.Bool
	burst(*conns, *spacing, func(i int) {
		w := &httpWorker{e: e, server: *server, host: host, proto: proto, closeReq: *closeReq,
			timeout: *timeout, reset: *reset}
		if *sport != 0 {
			w.port = *sport + i*len(reqs)
		}
		if !w.run(reqs, *idle) {
			failed.Store(true)
		}
	})
	if failed.Load() {
		e.say("some requests failed")
	}
	return nil
}

type httpWorker struct {
	e        *env
	server   string
	host     string
	proto    string
	closeReq bool
	timeout  time.Duration
	reset    bool
	port     int // next local port, 0 for any

	c net.Conn
	r *bufio.Reader
}

// run sends the requests; it reports whether all got complete responses.
func (w *httpWorker) run(reqs []string, idle time.Duration) bool {
	defer w.hangUp(false)
	for j, target := range reqs {
		if w.c == nil {
			if err := w.dial(); err != nil {
				return false
			}
		} else if j > 0 && idle > 0 {
			time.Sleep(idle)
		}
		if !w.do(target) {
			return false
		}
	}
	return true
}

func (w *httpWorker) dial() error {
	d := net.Dialer{Timeout: 30 * time.Second}
	from := "any port"
	if w.port != 0 {
		d.LocalAddr = &net.TCPAddr{Port: w.port}
		from = "port " + strconv.Itoa(w.port)
		w.port++
	}
	start := time.Now()
	c, err := d.Dial("tcp4", w.server)
	if err != nil {
		w.e.say("connect %s from %s: %v after %v", w.server, from, unwrap(err), ms(time.Since(start)))
		return err
	}
	w.c, w.r = c, bufio.NewReader(c)
	return nil
}

// do sends one request and reads its response; it reports success.
func (w *httpWorker) do(target string) bool {
	name := connName(w.c)
	req := fmt.Sprintf("GET %s %s\r\nHost: %s\r\nUser-Agent: wiresleuth-lab\r\n", target, w.proto, w.host)
	if w.closeReq {
		req += "Connection: close\r\n"
	}
	req += "\r\n"
	start := time.Now()
	if _, err := w.c.Write([]byte(req)); err != nil {
		w.e.say("%s: GET %s: write: %v", name, target, unwrap(err))
		w.hangUp(false)
		return false
	}
	w.c.SetReadDeadline(time.Now().Add(w.timeout))
	head, err := readHead(w.r)
	if err != nil {
		return w.fail(name, target, start, err)
	}
	b, closing, err := readBody(w.r, head)
	if err != nil {
		return w.fail(name, target, start, err)
	}
	ok := checkBody(b)
	w.e.say("%s: GET %s: %q, %d bytes (pattern ok %v) in %v", name, target, head.first, len(b), ok, ms(time.Since(start)))
	if closing {
		// The server will close: wait for its FIN before closing our side.
		w.c.SetReadDeadline(time.Now().Add(w.timeout))
		n, err := io.Copy(io.Discard, w.r)
		if err != nil {
			w.e.say("%s: response complete but no EOF (%d more bytes): %v", name, n, unwrap(err))
			w.hangUp(isTimeout(err) && w.reset)
			return false
		}
		w.e.say("%s: EOF from server after %v", name, ms(time.Since(start)))
		w.hangUp(false)
	}
	return ok
}

func (w *httpWorker) fail(name, target string, start time.Time, err error) bool {
	w.e.say("%s: GET %s: %v after %v", name, target, unwrap(err), ms(time.Since(start)))
	w.hangUp(isTimeout(err) && w.reset)
	return false
}

// hangUp closes the connection, with a reset if asked.
func (w *httpWorker) hangUp(reset bool) {
	if w.c == nil {
		return
	}
	if reset {
		w.c.(*net.TCPConn).SetLinger(0)
		w.e.say("%s: resetting (SO_LINGER 0)", connName(w.c))
	}
	w.c.Close()
	w.c, w.r = nil, nil
}

// parseGets turns "100,8000:chunked" into request targets.
func parseGets(s string) ([]string, error) {
	var out []string
	for _, g := range strings.Split(s, ",") {
		n, framing, _ := strings.Cut(strings.TrimSpace(g), ":")
		if _, err := strconv.Atoi(n); err != nil {
			return nil, fmt.Errorf("-get %q: bad size", g)
		}
		t := "/bytes/" + n
		if framing != "" {
			t += "?framing=" + framing
		}
		out = append(out, t)
	}
	return out, nil
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// unwrap drops the net.OpError wrapping, which repeats the addresses the
// log line already names.
func unwrap(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		if op.Err != nil {
			return fmt.Errorf("%s: %w", op.Op, op.Err)
		}
	}
	return err
}

// ms rounds a duration for the log.
func ms(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
