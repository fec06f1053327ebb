package resets_test

import (
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

func gridConn(hops int) *synth.Conn {
	return synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: ep("10.1.0.1:40000"), IDMode: synth.IDLinux},
		Server: synth.Endpoint{Addr: ep("10.2.0.2:2811"), IDMode: synth.IDLinux},
		Start:  t0, RTT: 20 * time.Millisecond, Hops: hops, Seed: 7,
	})
}

func threePoints(conns ...*synth.Conn) map[string]*capture {
	caps := map[string]*capture{
		"client": {v: synth.Vantage{At: 0}},
		"fw":     {v: synth.Vantage{At: 0.5}},
		"server": {v: synth.Vantage{At: 1}},
	}
	for _, c := range caps {
		c.add(conns...)
	}
	return caps
}

// The client's ACK is lost between the firewall and the server: the
// server, still in SYN-RECEIVED, repeats its SYN-ACK a second later.
func TestSpuriousSYNACKAckLost(t *testing.T) {
	c := gridConn(2)
	c.Fault(synth.Match{From: synth.Client, Flags: synth.ACK, NoFlags: synth.SYN | synth.FIN | synth.RST, Data: -1, Nth: 1}, synth.Fate{Lost: true, At: 0.75})
	c.Handshake()
	c.Wait(3 * time.Second)
	c.Send(synth.Client, 100)
	c.Send(synth.Server, 300)
	c.Close(synth.Client)
	c.Close(synth.Server)
	rep := run(t, write(t, threePoints(c), "client", "fw", "server"))
	f := one(t, rep, "handshake.spurious-synack")
	facts(t, f, map[string]string{"server": "10.2.0.2:2811", "client": "10.1.0.1:40000", "cause": "ack lost", "repeats": "1"})
	factNear(t, f, "repeat_after_s", 1, 0.05)
	says(t, f, "lost between fw and server", "the client's ACK shows at client and fw, not at server")
	if f.Connections[0].Capture != "client" {
		t.Errorf("reported at %s, want the most upstream capture", f.Connections[0].Capture)
	}
}

// The GridFTP story: the server's capture shows the client's ACK, yet the
// server repeats its SYN-ACK (its accept queue is full: Linux drops the
// ACK), and the repeat is dropped by a firewall before the client, whose
// first request then stalls.
func TestSpuriousSYNACKIgnoredAndDropped(t *testing.T) {
	c := gridConn(2)
	c.Fault(synth.Match{From: synth.Client, Flags: synth.ACK, NoFlags: synth.SYN | synth.FIN | synth.RST, Data: -1, Nth: 1}, synth.Fate{Lost: true, At: 1})
	c.Fault(synth.Match{From: synth.Server, Flags: synth.SYN | synth.ACK, Nth: 2}, synth.Fate{Lost: true, At: 0.4})
	for range 3 { // the request, retransmitted, until the server takes the connection
		c.Fault(synth.Match{From: synth.Client, Data: 1, Nth: 1}, synth.Fate{Lost: true, At: 1})
	}
	c.Handshake()
	c.Send(synth.Client, 20) // AUTH GSSAPI
	c.Send(synth.Server, 60)
	c.Close(synth.Client)
	c.Close(synth.Server)
	caps := threePoints(c)

	rep := run(t, write(t, caps, "client", "fw", "server"))
	f := one(t, rep, "handshake.spurious-synack")
	facts(t, f, map[string]string{"cause": "ack ignored", "repeat_seen_at": "fw,server", "repeat_missing_at": "client", "repeat_lost": "between client and fw"})
	says(t, f, "never at client", "accept queue", "TcpExtListenOverflows", "net.core.somaxconn")
	if f.Severity.String() != "error" {
		t.Errorf("severity %s: the client's request was retransmitted", f.Severity)
	}

	// The server's capture alone: its packets leave with TTL 64, so the
	// capture is on the server and the ACK reached it.
	rep = run(t, write(t, map[string]*capture{"server": caps["server"]}, "server"))
	f = one(t, rep, "handshake.spurious-synack")
	facts(t, f, map[string]string{"cause": "ack ignored"})
	says(t, f, "taken on the server")

	// The client's capture alone shows nothing wrong with the handshake.
	rep = run(t, write(t, map[string]*capture{"client": caps["client"]}, "client"))
	none(t, rep, "handshake.spurious-synack")
}

// Look-alikes: SYN-ACKs that answer SYNs.
func TestSpuriousSYNACKLookAlikes(t *testing.T) {
	t.Run("synack lost, SYN retried", func(t *testing.T) {
		c := gridConn(1)
		c.Lose(synth.Match{From: synth.Server, Flags: synth.SYN | synth.ACK, Nth: 1})
		c.Handshake()
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 100)
		c.Close(synth.Client)
		c.Close(synth.Server)
		rep := run(t, write(t, threePoints(c), "client", "fw", "server"))
		none(t, rep, "handshake.spurious-synack")
		quiet(t, rep)
	})
	t.Run("SYN duplicated on the way", func(t *testing.T) {
		c := gridConn(1)
		c.Fault(synth.Match{From: synth.Client, Flags: synth.SYN}, synth.Fate{Duplicate: true, Delay: 5 * time.Millisecond, At: 0.75})
		c.Handshake()
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 100)
		c.Close(synth.Client)
		c.Close(synth.Server)
		caps := threePoints(c)
		rep := run(t, write(t, caps, "client", "fw", "server"))
		none(t, rep, "handshake.spurious-synack")
		rep = run(t, write(t, map[string]*capture{"client": caps["client"]}, "client"))
		none(t, rep, "handshake.spurious-synack")
	})
	t.Run("SYN duplicated late", func(t *testing.T) {
		// The ACK is lost and a copy of the SYN reaches the server 300 ms
		// late, while it still waits for the ACK: it answers the copy.
		// The client cannot tell the repeat from a timer's; the server's
		// capture shows the SYN it answers.
		c := gridConn(1)
		c.Fault(synth.Match{From: synth.Client, Flags: synth.SYN}, synth.Fate{Duplicate: true, Delay: 300 * time.Millisecond, At: 0.75})
		c.Fault(synth.Match{From: synth.Client, Flags: synth.ACK, NoFlags: synth.SYN | synth.FIN | synth.RST, Data: -1, Nth: 1}, synth.Fate{Lost: true, At: 0.75})
		c.Handshake()
		c.Wait(2 * time.Second)
		c.Close(synth.Client)
		c.Close(synth.Server)
		rep := run(t, write(t, threePoints(c), "client", "fw", "server"))
		none(t, rep, "handshake.spurious-synack")
	})
}
