package appfail_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

// Generated captures for what the lab cannot stage on demand: latency
// distributions with a few outliers, servers that time out, retries.

var base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// capture collects frames from several generated connections and writes
// them, in time order, to a pcap in the test's directory.
type capture struct {
	frames []synth.Frame
}

func (c *capture) add(fs []synth.Frame) { c.frames = append(c.frames, fs...) }

func (c *capture) write(t *testing.T, name string) string {
	t.Helper()
	slices.SortStableFunc(c.frames, func(a, b synth.Frame) int { return a.Time.Compare(b.Time) })
	path := filepath.Join(t.TempDir(), name)
	if err := synth.WriteFile(path, synth.LinkEthernet, c.frames); err != nil {
		t.Fatal(err)
	}
	return path
}

// httpExchange is one HTTP request on its own connection.
type httpExchange struct {
	at      time.Duration // when the connection opens, after base
	latency time.Duration // server think time before the response
	status  int           // 0: 200
	method  string        // "": GET
	// noReply: the server never answers; the client closes after wait.
	noReply bool
	wait    time.Duration
	// resetByServer: the server resets the connection after latency
	// instead of answering.
	resetByServer bool
	loseRequest   bool // the request's first two transmissions are lost on the way
	vantage       float64
}

func (e httpExchange) frames(i int) []synth.Frame {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), uint16(40000+i))},
		Server: synth.Endpoint{Addr: netip.MustParseAddrPort("10.2.0.2:80")},
		Start:  base.Add(e.at),
		RTT:    time.Millisecond,
		Seed:   uint64(i + 1),
	})
	if e.loseRequest {
		// The request and its first retransmission, lost beyond the
		// client: 600 ms of retransmission timeouts.
		// (A packet one fault drops does not count for the next.)
		c.Lose(synth.Match{From: synth.Client, Data: 1, Nth: 1})
		c.Lose(synth.Match{From: synth.Client, Data: 1, Nth: 1})
	}
	c.Handshake()
	method := e.method
	if method == "" {
		method = "GET"
	}
	c.SendData(synth.Client, []byte(fmt.Sprintf("%s /item/%d HTTP/1.1\r\nHost: shop.example\r\n\r\n", method, i)))
	switch {
	case e.noReply:
		c.Wait(e.wait)
		c.Close(synth.Client)
		c.Wait(time.Second)
	case e.resetByServer:
		c.Wait(e.latency)
		c.Reset(synth.Server)
	default:
		c.Wait(e.latency)
		status := e.status
		if status == 0 {
			status = 200
		}
		body := "ok"
		c.SendData(synth.Server, []byte(fmt.Sprintf("HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s", status, len(body), body)))
		c.Wait(50 * time.Millisecond)
		c.Close(synth.Client)
		c.Wait(10 * time.Millisecond)
		c.Close(synth.Server)
		c.Wait(time.Second)
	}
	return c.Capture(synth.Vantage{At: e.vantage, Pad: true})
}

// httpCapture writes a capture of the exchanges, one connection each.
func httpCapture(t *testing.T, name string, ex []httpExchange) string {
	t.Helper()
	var c capture
	for i, e := range ex {
		c.add(e.frames(i))
	}
	return c.write(t, name)
}

// steady returns n exchanges a second apart whose latencies spread
// around 20 ms.
func steady(n int) []httpExchange {
	ex := make([]httpExchange, n)
	for i := range ex {
		ex[i] = httpExchange{at: time.Duration(i) * time.Second, latency: time.Duration(15+i%11) * time.Millisecond}
	}
	return ex
}

// dnsQuery is one query over UDP, answered after latency unless lost;
// tries > 1 sends it again every retry interval.
type dnsQuery struct {
	at      time.Duration
	name    string
	latency time.Duration
	rcode   int
	tries   int
	lost    bool // never answered
}

// dnsCapture writes the queries from 10.1.0.1 to the resolver.
func dnsCapture(t *testing.T, name, resolver string, qs []dnsQuery, icmpFrom string) string {
	t.Helper()
	var c capture
	client := netip.MustParseAddr("10.1.0.1")
	server := netip.MustParseAddr(resolver)
	mac := func(a netip.Addr) synth.MAC { v := a.As4(); return synth.MAC{2, 0, v[0], v[1], v[2], v[3]} }
	frame := func(at time.Time, src, dst netip.Addr, sport, dport uint16, payload []byte) {
		data := synth.Encode(nil, &synth.Ethernet{Src: mac(src), Dst: mac(dst), Pad: true}, &synth.IPv4{Src: src, Dst: dst},
			&synth.UDP{SrcPort: sport, DstPort: dport}, synth.Payload(payload))
		c.add([]synth.Frame{{Time: at, Data: data}})
	}
	for i, q := range qs {
		id := uint16(0x1000 + i)
		sport := uint16(50000 + i)
		query := dnsMessage(id, false, q.name, 0)
		tries := max(q.tries, 1)
		at := base.Add(q.at)
		for k := 0; k < tries; k++ {
			frame(at.Add(time.Duration(k)*time.Second), client, server, sport, 53, query)
			if icmpFrom != "" {
				// ICMP port unreachable quoting the query.
				quoted := synth.Encode(nil, &synth.IPv4{Src: client, Dst: server}, &synth.UDP{SrcPort: sport, DstPort: 53}, synth.Payload(query))
				from := netip.MustParseAddr(icmpFrom)
				data := synth.Encode(nil, &synth.Ethernet{Src: mac(from), Dst: mac(client)}, &synth.IPv4{Src: from, Dst: client},
					&synth.ICMPv4{Type: 3, Code: 3}, synth.Payload(quoted))
				c.add([]synth.Frame{{Time: at.Add(time.Duration(k)*time.Second + 100*time.Microsecond), Data: data}})
			}
		}
		if !q.lost {
			frame(at.Add(time.Duration(tries-1)*time.Second+q.latency), server, client, 53, sport, dnsMessage(id, true, q.name, q.rcode))
		}
	}
	return c.write(t, name)
}

// dnsMessage builds a query, or its answer with rcode (one A record when
// rcode is 0).
func dnsMessage(id uint16, response bool, name string, rcode int) []byte {
	var b []byte
	flags := uint16(0x0100)
	an := uint16(0)
	if response {
		flags = 0x8180 | uint16(rcode)
		if rcode == 0 {
			an = 1
		}
	}
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, an)
	b = binary.BigEndian.AppendUint32(b, 0)
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0, 0, 1, 0, 1)
	if an == 1 {
		b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7)
	}
	return b
}
