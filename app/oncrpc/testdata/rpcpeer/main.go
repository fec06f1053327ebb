// Command rpcpeer makes ONC RPC traffic that rpcinfo cannot: calls that a
// real rpcbind answers with every accept and reject status, a call split
// into several record fragments, pipelined calls, a retransmitted UDP call,
// and calls to a server that never answers. testdata/capture.sh runs it
// inside a network namespace while tcpdump records; it only talks to
// 127.0.0.1.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"
)

const (
	portmap = 100000
	nfs     = 100003
)

var xid uint32 = 0x5ee10000

type call struct {
	rpcvers, prog, vers, proc uint32
	cred                      uint32 // flavor; AUTH_SYS gets a body
	args                      []uint32
}

func (c call) bytes(x uint32) []byte {
	w := func(b []byte, v ...uint32) []byte {
		for _, u := range v {
			b = binary.BigEndian.AppendUint32(b, u)
		}
		return b
	}
	rv := c.rpcvers
	if rv == 0 {
		rv = 2
	}
	b := w(nil, x, 0, rv, c.prog, c.vers, c.proc)
	switch c.cred {
	case 1: // AUTH_SYS: stamp, machinename "peer", uid 0, gid 0, no gids
		b = w(b, 1, 24, 0x12345678, 4)
		b = append(b, "peer"...)
		b = w(b, 0, 0, 0)
	default:
		b = w(b, c.cred, 0)
	}
	b = w(b, 0, 0) // verifier AUTH_NONE
	return w(b, c.args...)
}

func next() uint32 { xid++; return xid }

func mark(n int, last bool) []byte {
	v := uint32(n)
	if last {
		v |= 1 << 31
	}
	return binary.BigEndian.AppendUint32(nil, v)
}

// tcpCalls sends the calls on one connection, pipelined in one write, and
// reads replies until expect replies came or the timeout.
func tcpCalls(addr string, expect int, calls ...call) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var out []byte
	for _, cl := range calls {
		b := cl.bytes(next())
		out = append(out, mark(len(b), true)...)
		out = append(out, b...)
	}
	if _, err := c.Write(out); err != nil {
		log.Fatal(err)
	}
	readReplies(c, expect)
}

func readReplies(c net.Conn, expect int) {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for i := 0; i < expect; i++ {
		var m [4]byte
		if _, err := io.ReadFull(c, m[:]); err != nil {
			fmt.Fprintln(os.Stderr, "reply:", err)
			return
		}
		n := binary.BigEndian.Uint32(m[:]) & 0x7fffffff
		if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
			fmt.Fprintln(os.Stderr, "reply:", err)
			return
		}
		if binary.BigEndian.Uint32(m[:])>>31 == 0 {
			i-- // more fragments of the same record
		}
	}
}

// fragmented sends one call as three record fragments in one segment.
// (rpcbind, libtirpc 1.3, drops a connection whose first fragment comes
// alone in a segment: its non-blocking record reader wants whole records.)
func fragmented(addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	b := call{prog: portmap, vers: 2, proc: 3, cred: 1, args: []uint32{portmap, 2, 6, 0}}.bytes(next())
	parts := [][]byte{b[:20], b[20:44], b[44:]}
	var out []byte
	for i, p := range parts {
		out = append(out, mark(len(p), i == len(parts)-1)...)
		out = append(out, p...)
	}
	if _, err := c.Write(out); err != nil {
		fmt.Fprintln(os.Stderr, "fragmented:", err)
		return
	}
	readReplies(c, 1)
}

func udpCalls(addr string, calls ...[]byte) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, b := range calls {
		if _, err := c.Write(b); err != nil {
			log.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	buf := make([]byte, 65536)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// silent listens on addr (TCP and UDP) and never answers.
func silent(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := u.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
}

func register(addr string, n int) {
	var calls [][]byte
	for i := 0; i < n; i++ {
		calls = append(calls, call{prog: 0x20000000 + uint32(i), vers: 1, proc: 1, cred: 1,
			args: []uint32{0x20000000 + uint32(i), 1, 6, 40000 + uint32(i)}}.bytes(next()))
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1500)
	for _, b := range calls {
		binary.BigEndian.PutUint32(b[12:], portmap) // program portmap, version 2, proc SET
		binary.BigEndian.PutUint32(b[16:], 2)
		c.Write(b)
		c.SetReadDeadline(time.Now().Add(time.Second))
		c.Read(buf)
	}
}

func main() {
	mode := flag.String("mode", "status", "register | status")
	flag.Parse()
	rpcbind := "127.0.0.1:111"
	switch *mode {
	case "register":
		register(rpcbind, 200)
	case "status":
		// Pipelined: NULL, GETPORT of a registered and an unregistered program.
		tcpCalls(rpcbind, 3,
			call{prog: portmap, vers: 2, proc: 0},
			call{prog: portmap, vers: 2, proc: 3, cred: 1, args: []uint32{portmap, 2, 6, 0}},
			call{prog: portmap, vers: 2, proc: 3, cred: 1, args: []uint32{nfs, 3, 6, 0}})
		tcpCalls(rpcbind, 1, call{prog: nfs, vers: 3, proc: 0})                              // PROG_UNAVAIL
		tcpCalls(rpcbind, 1, call{prog: portmap, vers: 2, proc: 42})                         // PROC_UNAVAIL
		tcpCalls(rpcbind, 1, call{prog: portmap, vers: 2, proc: 3, args: []uint32{portmap}}) // GARBAGE_ARGS
		tcpCalls(rpcbind, 1, call{rpcvers: 3, prog: portmap, vers: 2, proc: 0})              // RPC_MISMATCH
		tcpCalls(rpcbind, 1, call{prog: portmap, vers: 2, proc: 0, cred: 12345})             // AUTH_ERROR
		fragmented(rpcbind)
		tcpCalls(rpcbind, 1, call{prog: portmap, vers: 4, proc: 4}) // DUMP: a reply of many segments
		// UDP: PROG_UNAVAIL, PROC_UNAVAIL, and a call sent twice.
		dup := call{prog: portmap, vers: 2, proc: 3, args: []uint32{portmap, 2, 17, 0}}.bytes(next())
		udpCalls(rpcbind,
			call{prog: nfs, vers: 3, proc: 0}.bytes(next()),
			call{prog: portmap, vers: 3, proc: 99}.bytes(next()),
			dup, dup)
		// A server that never answers, over TCP and UDP.
		silent("127.0.0.1:2049")
		tcpCalls("127.0.0.1:2049", 1, call{prog: nfs, vers: 3, proc: 0, cred: 1})
		time.Sleep(300 * time.Millisecond)
		udpCalls("127.0.0.1:2049", call{prog: nfs, vers: 3, proc: 1, cred: 1, args: []uint32{8, 1, 2}}.bytes(next()))
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}
