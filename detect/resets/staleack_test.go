package resets_test

import (
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

const (
	oldClientISN = 1_000_000
	oldServerISN = 5_000_000
)

// oldConn is a connection from 10.1.0.1:40000 to 10.2.0.2:80 with a
// request of 100 bytes and a response of 200; close says who closes
// first (0: nobody).
func oldConn(ts bool, close synth.Side) *synth.Conn {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: ep("10.1.0.1:40000"), ISN: oldClientISN, NoTimestamps: !ts, IDMode: synth.IDLinux},
		Server: synth.Endpoint{Addr: ep("10.2.0.2:80"), ISN: oldServerISN, NoTimestamps: !ts, IDMode: synth.IDLinux},
		Start:  t0, RTT: 2 * time.Millisecond, Hops: 1, Seed: 3,
	})
	c.Handshake()
	c.Send(synth.Client, 100)
	c.Send(synth.Server, 200)
	if close != 0 {
		c.Close(close)
		c.Close(close.Other())
	}
	c.Wait(10 * time.Millisecond)
	return c
}

// reuse is a new connection on the same 4-tuple at start with the client
// ISN isn. The server ignores the first SYN and answers it with a bare ACK
// carrying (seq, ack); with assassinate the client answers that with a RST
// (seq = ack), and the server takes the retried SYN.
func reuse(start time.Time, isn uint32, ts bool, seq, ack uint32, assassinate bool) *synth.Conn {
	c := synth.NewConn(synth.Config{
		Client: synth.Endpoint{Addr: ep("10.1.0.1:40000"), ISN: isn, NoTimestamps: !ts, IDMode: synth.IDLinux},
		Server: synth.Endpoint{Addr: ep("10.2.0.2:80"), ISN: 9_000_000, NoTimestamps: !ts, IDMode: synth.IDLinux},
		Start:  start, RTT: 2 * time.Millisecond, Hops: 1, Seed: 4, Retries: 3,
	})
	c.Fault(synth.Match{From: synth.Client, Flags: synth.SYN, Nth: 1}, synth.Fate{Lost: true, At: 1})
	if !assassinate {
		// No RST: every retry meets the same TIME_WAIT.
		for range 7 {
			c.Fault(synth.Match{From: synth.Client, Flags: synth.SYN, Nth: 1}, synth.Fate{Lost: true, At: 1})
		}
	}
	var opts []synth.TCPOption
	if ts {
		opts = []synth.TCPOption{synth.OptNOP(), synth.OptNOP(), synth.OptTimestamps(777, 555)}
	}
	stale := func(at time.Time) {
		c.Inject(synth.Packet{From: synth.Server, Sent: at, Seq: seq, Ack: ack, Flags: synth.ACK, Window: 502, DF: true, Options: opts})
	}
	stale(start.Add(1500 * time.Microsecond))
	if assassinate {
		c.Inject(synth.Packet{From: synth.Client, Sent: start.Add(3 * time.Millisecond), Seq: ack, Flags: synth.RST, DF: true})
		c.Handshake()
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 200)
		c.Close(synth.Client)
		c.Close(synth.Server)
		return c
	}
	for _, gap := range []time.Duration{1, 3, 7} {
		stale(start.Add(gap*time.Second + 1500*time.Microsecond))
	}
	c.Handshake() // retries until it gives up
	c.Inject(synth.Packet{From: synth.Client, Seq: isn + 1, Flags: synth.RST | synth.ACK, DF: true})
	return c
}

// The server closed first and holds TIME_WAIT; the client comes back 2 s
// later with a lower ISN and no timestamps, answers the bare ACK with a
// RST (which ends TIME_WAIT on Linux) and its retried SYN is taken: one
// second late.
func TestStaleACKAssassinated(t *testing.T) {
	old := oldConn(false, synth.Server)
	c := reuse(old.Now().Add(2*time.Second), oldClientISN+102-500_000, false, oldServerISN+202, oldClientISN+102, true)
	rep := run(t, writeOne(t, 0, old, c))
	f := one(t, rep, "handshake.stale-ack")
	if f.Severity.String() != "warning" {
		t.Errorf("severity %s: the connection opened a second late", f.Severity)
	}
	facts(t, f, map[string]string{
		"server_state": "TIME_WAIT", "closed_first_by": "server", "old_numbers": "true", "timestamps": "neither",
		"isn_below_rcv_nxt": "500000", "client_next": "connected late", "stale_acks": "1", "reuses_within_timewait": "1",
	})
	factNear(t, f, "closed_ago_s", 2, 0.02)
	says(t, f, "RFC 793", "tcp_rfc1337", "got a SYN-ACK 1.0 s after its first SYN", "1 of its 2 SYNs was answered")
	none(t, rep, "reset.forged", "reset.idle-timeout", "handshake.spurious-synack")
}

// Timestamps on both sides: the explanation is PAWS, not the ISN.
func TestStaleACKWithTimestamps(t *testing.T) {
	old := oldConn(true, synth.Server)
	c := reuse(old.Now().Add(3*time.Second), oldClientISN+102+500_000, true, oldServerISN+202, oldClientISN+102, false)
	rep := run(t, writeOne(t, 1, old, c))
	f := one(t, rep, "handshake.stale-ack")
	facts(t, f, map[string]string{"timestamps": "both", "server_state": "TIME_WAIT", "client_next": "gave up with a RST", "syns": "4"})
	says(t, f, "RFC 6191", "TSval", "each of its 4 SYNs was answered")
	factNear(t, f, "closed_ago_s", 3, 0.02)
	none(t, rep, "handshake.unanswered")
	if f.Severity.String() != "error" {
		t.Errorf("severity %s: the client never connected", f.Severity)
	}
}

// The old connection was never closed: the server still has it
// established and answers with a challenge ACK.
func TestStaleACKHalfOpen(t *testing.T) {
	old := oldConn(false, 0)
	c := reuse(old.Now().Add(10*time.Second), 7_777_777, false, oldServerISN+201, oldClientISN+101, true)
	rep := run(t, writeOne(t, 0, old, c))
	f := one(t, rep, "handshake.stale-ack")
	facts(t, f, map[string]string{"server_state": "ESTABLISHED", "old_numbers": "true"})
	says(t, f, "RFC 5961", "ss -tan state established", "resets the connection the server still held")
	facts(t, f, map[string]string{"closed_first_by": "none"})
}

// The older connection is not in the capture: only the numbers tell.
func TestStaleACKOldUnseen(t *testing.T) {
	c := reuse(t0, 123_456, false, oldServerISN+202, oldClientISN+102, false)
	rep := run(t, writeOne(t, 0, c))
	f := one(t, rep, "handshake.stale-ack")
	facts(t, f, map[string]string{"server_state": "an older connection", "old_numbers": "false"})
}

// Look-alikes: a reused 4-tuple the server accepts, and a SYN repeated
// inside an established connection.
func TestStaleACKLookAlikes(t *testing.T) {
	t.Run("reuse accepted", func(t *testing.T) {
		old := oldConn(false, synth.Server)
		c := synth.NewConn(synth.Config{
			Client: synth.Endpoint{Addr: ep("10.1.0.1:40000"), ISN: oldClientISN + 1_000_000, NoTimestamps: true},
			Server: synth.Endpoint{Addr: ep("10.2.0.2:80"), NoTimestamps: true},
			Start:  old.Now().Add(time.Second), RTT: 2 * time.Millisecond, Hops: 1, Seed: 5,
		})
		c.Handshake()
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 100)
		c.Close(synth.Server)
		c.Close(synth.Client)
		rep := run(t, writeOne(t, 0, old, c))
		quiet(t, rep)
		none(t, rep, "handshake.stale-ack")
	})
	t.Run("SYN repeated in an established connection", func(t *testing.T) {
		c := synth.NewConn(synth.Config{
			Client: synth.Endpoint{Addr: ep("10.1.0.1:40000"), ISN: oldClientISN},
			Server: synth.Endpoint{Addr: ep("10.2.0.2:80"), ISN: oldServerISN},
			Start:  t0, RTT: 2 * time.Millisecond, Hops: 1,
		})
		c.Handshake()
		c.Inject(synth.Packet{From: synth.Client, Seq: oldClientISN, Flags: synth.SYN, DF: true, Window: 64240})
		c.Inject(synth.Packet{From: synth.Server, Sent: c.Now().Add(time.Millisecond), Seq: oldServerISN + 1, Ack: oldClientISN + 1, Flags: synth.ACK, DF: true, Window: 502})
		c.Wait(5 * time.Millisecond)
		c.Send(synth.Client, 100)
		c.Send(synth.Server, 100)
		c.Close(synth.Client)
		c.Close(synth.Server)
		rep := run(t, writeOne(t, 0, c))
		quiet(t, rep)
		none(t, rep, "handshake.stale-ack")
	})
}
