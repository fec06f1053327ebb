package agent

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// TCP flag bits.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// rawSYN recreates the F5 story: an HTTP request on a normal connection from
// a fixed port, which the server closes first and therefore holds in
// TIME_WAIT; then, from the same port, SYNs built by hand with an ISN below
// the server's old RCV.NXT and no timestamps. Linux answers such a SYN in
// TIME_WAIT with a bare ACK carrying the old connection's numbers. After
// -syns SYNs the client gives up with a RST, as the F5 did.
//
// The client kernel has no socket for the port during the raw phase and
// would reset the server's ACKs; the lab drops those resets with an
// iptables rule in the client namespace that spares packets carrying -mark.
func rawSYN(e *env, args []string) error {
	fs, life := e.flags()
	server := fs.String("server", "", "server address ip:port")
	sport := fs.Int("sport", 40001, "client port used by both connections")
	target := fs.String("get", "/bytes/200", "request target of the first connection")
	syns := fs.Int("syns", 3, "SYNs to send on the reused 4-tuple")
	interval := fs.Duration("interval", time.Second, "time between SYNs")
	below := fs.Uint("below", 1000000, "new ISN = old RCV.NXT of the server minus this")
	pause := fs.Duration("pause", 500*time.Millisecond, "wait between the close and the first SYN")
	mark := fs.Int("mark", 0x5157, "SO_MARK of the raw socket")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e.dieAfter(*life)
	dst, err := netip.ParseAddrPort(*server)
	if err != nil || !dst.Addr().Is4() {
		return fmt.Errorf("-server %q: want an IPv4 address and port", *server)
	}
	rs, err := openRaw(*mark)
	if err != nil {
		return err
	}
	defer rs.close()
	go rs.read(dst, uint16(*sport))

	// Phase 1: a normal connection that the server closes first.
	src, err := firstConnection(e, dst, *sport, *target)
	if err != nil {
		return err
	}
	time.Sleep(*pause)
	isn0, rcvNxt, ok := rs.oldNumbers()
	if !ok {
		return errors.New("did not see the server's segments of the first connection on the raw socket")
	}
	isn := rcvNxt - uint32(*below)
	e.say("first connection: client ISN %d, server's RCV.NXT now %d; new ISN %d (%d below)", isn0, rcvNxt, isn, *below)

	// Phase 2: hand-made SYNs on the same 4-tuple.
	var lastSeq uint32
	answered := 0
	for i := 0; i < *syns; i++ {
		rs.drain()
		syn := tcpSegment(src, dst.Addr(), uint16(*sport), dst.Port(), isn, 0, tcpSYN, 64240, mssOption(1460))
		if err := rs.send(dst.Addr(), syn); err != nil {
			return err
		}
		e.say("SYN %d: seq %d, MSS 1460, no timestamps", i+1, isn)
		deadline := time.Now().Add(*interval)
		for seg := range rs.until(deadline) {
			e.say("  answer: flags %s seq %d ack %d%s", flagString(seg.flags), seg.seq, seg.ack, oldHint(seg, rcvNxt))
			if seg.flags&tcpSYN == 0 && seg.flags&tcpACK != 0 {
				answered++
				lastSeq = seg.seq
			}
		}
	}
	rst := tcpSegment(src, dst.Addr(), uint16(*sport), dst.Port(), isn+1, lastSeq, tcpRST|tcpACK, 0, nil)
	if err := rs.send(dst.Addr(), rst); err != nil {
		return err
	}
	e.say("gave up after %d SYNs (%d answered by a bare ACK): sent RST", *syns, answered)
	return nil
}

func oldHint(s segment, rcvNxt uint32) string {
	if s.flags&tcpSYN == 0 && s.ack == rcvNxt {
		return " (the old connection's RCV.NXT)"
	}
	return ""
}

// firstConnection fetches target over a normal socket bound to sport, waits
// for the server's FIN, closes, and returns the local address.
func firstConnection(e *env, dst netip.AddrPort, sport int, target string) (netip.Addr, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{Port: sport}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp4", dst.String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("first connection: %w", err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: wiresleuth-lab\r\n\r\n", target, dst.Addr())
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	head, err := readHead(r)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("first connection: %w", err)
	}
	b, closing, err := readBody(r, head)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("first connection: %w", err)
	}
	if !closing {
		return netip.Addr{}, errors.New("first connection: the server did not announce its close; run it with -keepalive=false")
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return netip.Addr{}, fmt.Errorf("first connection: waiting for EOF: %w", err)
	}
	e.say("%s: GET %s: %q, %d bytes; the server closed first", connName(c), target, head.first, len(b))
	return c.LocalAddr().(*net.TCPAddr).AddrPort().Addr().Unmap(), nil
}

// segment is what the raw reader keeps of an incoming TCP segment.
type segment struct {
	flags    uint8
	seq, ack uint32
}

type rawSock struct {
	fd int

	mu     sync.Mutex
	segs   chan segment
	isn    uint32 // client ISN, from the server's SYN-ACK
	rcvNxt uint32 // the highest ACK the server sent: its RCV.NXT
	seen   bool
}

func openRaw(mark int) (*rawSock, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_TCP)
	if err != nil {
		return nil, fmt.Errorf("raw socket: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_MARK, mark); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("SO_MARK: %w", err)
	}
	// A receive timeout lets the reader loop notice close.
	tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("SO_RCVTIMEO: %w", err)
	}
	return &rawSock{fd: fd, segs: make(chan segment, 64)}, nil
}

func (r *rawSock) close() { syscall.Close(r.fd) }

func (r *rawSock) send(dst netip.Addr, b []byte) error {
	if err := syscall.Sendto(r.fd, b, 0, &syscall.SockaddrInet4{Addr: dst.As4()}); err != nil {
		return fmt.Errorf("raw send: %w", err)
	}
	return nil
}

// read parses every incoming segment from dst to our port until the socket
// is closed, remembering the first connection's numbers.
func (r *rawSock) read(dst netip.AddrPort, sport uint16) {
	buf := make([]byte, 65536)
	for {
		n, _, err := syscall.Recvfrom(r.fd, buf, 0)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			continue
		}
		if err != nil {
			close(r.segs)
			return
		}
		p := buf[:n]
		if len(p) < 20 || p[0]>>4 != 4 {
			continue
		}
		ihl := int(p[0]&0x0f) * 4
		if ihl < 20 || len(p) < ihl+20 || netip.AddrFrom4([4]byte(p[12:16])) != dst.Addr() {
			continue
		}
		t := p[ihl:]
		if binary.BigEndian.Uint16(t[0:2]) != dst.Port() || binary.BigEndian.Uint16(t[2:4]) != sport {
			continue
		}
		s := segment{flags: t[13], seq: binary.BigEndian.Uint32(t[4:8]), ack: binary.BigEndian.Uint32(t[8:12])}
		r.mu.Lock()
		if s.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK && !r.seen {
			r.isn, r.rcvNxt, r.seen = s.ack-1, s.ack, true
		} else if r.seen && s.flags&tcpACK != 0 && int32(s.ack-r.rcvNxt) > 0 {
			r.rcvNxt = s.ack
		}
		r.mu.Unlock()
		select {
		case r.segs <- s:
		default: // nobody listening during the first connection
		}
	}
}

func (r *rawSock) oldNumbers() (isn, rcvNxt uint32, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.isn, r.rcvNxt, r.seen
}

// drain discards segments queued before a new SYN.
func (r *rawSock) drain() {
	for {
		select {
		case <-r.segs:
		default:
			return
		}
	}
}

// until yields the segments that arrive before deadline.
func (r *rawSock) until(deadline time.Time) func(func(segment) bool) {
	return func(yield func(segment) bool) {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		for {
			select {
			case s, ok := <-r.segs:
				if !ok || !yield(s) {
					return
				}
			case <-t.C:
				return
			}
		}
	}
}

func mssOption(mss uint16) []byte { return []byte{2, 4, byte(mss >> 8), byte(mss)} }

// tcpSegment builds a TCP header (with opts, padded to 32 bits) and its
// checksum over the IPv4 pseudo-header; the kernel adds the IP header.
func tcpSegment(src, dst netip.Addr, sport, dport uint16, seq, ack uint32, flags uint8, win uint16, opts []byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	h := make([]byte, 20+len(opts))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	binary.BigEndian.PutUint32(h[8:], ack)
	h[12] = byte(len(h)/4) << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], win)
	copy(h[20:], opts)
	s, d := src.As4(), dst.As4()
	sum := uint32(syscall.IPPROTO_TCP) + uint32(len(h))
	for _, b := range [][]byte{s[:], d[:], h} {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(h[16:], ^uint16(sum))
	return h
}

func flagString(f uint8) string {
	s := ""
	for _, x := range []struct {
		bit  uint8
		name string
	}{{tcpSYN, "S"}, {tcpFIN, "F"}, {tcpRST, "R"}, {0x08, "P"}, {tcpACK, "."}} {
		if f&x.bit != 0 {
			s += x.name
		}
	}
	return "[" + s + "]"
}
