package agent

import (
	"io"
	"net"
	"time"
)

// bulkSend sends -size bytes of the pattern on every accepted connection
// and closes: a download with no application protocol on top.
func bulkSend(e *env, args []string) error {
	fs, life := e.flags()
	listen := fs.String("listen", ":5001", "address to listen on")
	size := fs.Int("size", 256<<10, "bytes to send per connection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e.dieAfter(*life)
	ln, err := net.Listen("tcp4", *listen)
	if err != nil {
		return err
	}
	e.say("listening on %s (%d bytes per connection)", ln.Addr(), *size)
	b := body(*size)
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			start := time.Now()
			n, err := c.Write(b)
			if err != nil {
				e.say("%s: sent %d bytes: %v", connName(c), n, unwrap(err))
				return
			}
			e.say("%s: sent %d bytes in %v", connName(c), n, ms(time.Since(start)))
		}()
	}
}

// bulkRecv connects, reads until EOF and checks what arrived.
func bulkRecv(e *env, args []string) error {
	fs, life := e.flags()
	server := fs.String("server", "", "server address host:port")
	sport := fs.Int("sport", 0, "local port (0: any)")
	want := fs.Int("want", 256<<10, "bytes expected")
	timeout := fs.Duration("timeout", 15*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e.dieAfter(*life)
	d := net.Dialer{Timeout: *timeout}
	if *sport != 0 {
		d.LocalAddr = &net.TCPAddr{Port: *sport}
	}
	start := time.Now()
	c, err := d.Dial("tcp4", *server)
	if err != nil {
		e.say("connect %s: %v", *server, unwrap(err))
		return nil
	}
	defer c.Close()
	c.SetReadDeadline(start.Add(*timeout))
	b, err := io.ReadAll(io.LimitReader(c, int64(*want)+1))
	ok := err == nil && len(b) == *want && checkBody(b)
	e.say("%s: received %d of %d bytes in %v (complete and intact: %v, error: %v)",
		connName(c), len(b), *want, ms(time.Since(start)), ok, err)
	return nil
}
