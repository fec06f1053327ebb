package agent

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startAgent runs a server agent in the background on a loopback port and
// returns its address.
func startAgent(t *testing.T, kind string, args ...string) string {
	t.Helper()
	pr, pw := io.Pipe()
	go Main(append([]string{kind, "-lifetime", "1h", "-listen", "127.0.0.1:0"}, args...), pw, io.Discard)
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("agent said %q", line)
	}
	return m[1]
}

// runAgent runs a client agent to completion and returns its output.
func runAgent(t *testing.T, args ...string) string {
	t.Helper()
	var out strings.Builder
	if code := Main(append(args, "-lifetime", "1h"), &out, &out); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, out.String())
	}
	return out.String()
}

func TestHTTPFramings(t *testing.T) {
	for _, keep := range []bool{true, false} {
		addr := startAgent(t, "http-server", fmt.Sprintf("-keepalive=%v", keep))
		out := runAgent(t, "http-client", "-server", addr, "-get", "0,100,5000:chunked,9000:close,300:length")
		if n := strings.Count(out, "(pattern ok true)"); n != 5 {
			t.Errorf("keep-alive %v: %d good responses:\n%s", keep, n, out)
		}
		// Without keep-alive every response ends its connection, and with
		// it only the close-framed one does.
		wantEOF := map[bool]int{true: 1, false: 5}[keep]
		if n := strings.Count(out, "EOF from server"); n != wantEOF {
			t.Errorf("keep-alive %v: %d closes by the server, want %d:\n%s", keep, n, wantEOF, out)
		}
	}
}

func TestHTTP10WaitsForEOF(t *testing.T) {
	// A server that sends a complete response and never closes: the
	// PHP-like client must give up after its timeout.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		bufio.NewReader(c).ReadString('\n')
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nwires")
		time.Sleep(2 * time.Second)
	}()
	start := time.Now()
	out := runAgent(t, "http-client", "-server", ln.Addr().String(), "-get", "5", "-http10", "-timeout", "300ms", "-reset-on-timeout")
	if !strings.Contains(out, "response complete but no EOF") || !strings.Contains(out, "resetting") {
		t.Errorf("output:\n%s", out)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("gave up after %v", d)
	}
}

func TestFTP(t *testing.T) {
	addr := startAgent(t, "ftp-server", "-idle", "300ms")
	out := runAgent(t, "ftp-client", "-server", addr, "-conns", "2", "-spacing", "10ms")
	if !strings.Contains(out, "0 of 2 sessions failed") {
		t.Errorf("output:\n%s", out)
	}
	// A client that sends nothing gets the 421 after the idle timeout.
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	banner, _ := r.ReadString('\n')
	start := time.Now()
	bye, _ := r.ReadString('\n')
	if !strings.HasPrefix(banner, "220 ") || strings.TrimSpace(bye) != ftpIdle {
		t.Errorf("got %q then %q", banner, bye)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("421 after %v, before the idle timeout", d)
	}
}

func TestBulk(t *testing.T) {
	addr := startAgent(t, "bulk-send", "-size", "100000")
	out := runAgent(t, "bulk-recv", "-server", addr, "-want", "100000")
	if !strings.Contains(out, "received 100000 of 100000 bytes") || !strings.Contains(out, "intact: true") {
		t.Errorf("output:\n%s", out)
	}
}

func TestTCPSegmentChecksum(t *testing.T) {
	src, dst := netip.MustParseAddr("10.99.0.2"), netip.MustParseAddr("10.99.1.2")
	seg := tcpSegment(src, dst, 40001, 80, 1563951501, 0, tcpSYN, 64240, mssOption(1460))
	if len(seg) != 24 || seg[12]>>4 != 6 || seg[13] != tcpSYN {
		t.Fatalf("header % x", seg)
	}
	if binary.BigEndian.Uint32(seg[4:]) != 1563951501 || binary.BigEndian.Uint16(seg[22:]) != 1460 {
		t.Errorf("fields % x", seg)
	}
	// The one's-complement sum over pseudo-header and segment, checksum
	// included, is 0xffff when the checksum is right.
	s, d := src.As4(), dst.As4()
	pseudo := append(append(s[:], d[:]...), 0, 6, 0, byte(len(seg)))
	sum := uint32(0)
	for _, b := range [][]byte{pseudo, seg} {
		for i := 0; i < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	if sum != 0xffff {
		t.Errorf("checksum does not verify: sum %#x", sum)
	}
}

func TestBodyPattern(t *testing.T) {
	b := body(1000)
	if !checkBody(b) || !checkBody(b[:10]) {
		t.Error("the pattern does not check")
	}
	b[500] ^= 1
	if checkBody(b) {
		t.Error("a corrupted body checks")
	}
}
