package resets_test

import (
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/internal/synth"
)

func healthy(n, port0 int) []*synth.Conn {
	var out []*synth.Conn
	for i := range n {
		out = append(out, simple(port0+i, t0.Add(time.Duration(i)*100*time.Millisecond), 2, synth.Endpoint{}, closeNormally))
	}
	return out
}

// Resets in 2 of 102 connections: the summary counts them by sender and
// context, as context (info).
func TestSummaryCounts(t *testing.T) {
	conns := healthy(100, 41000)
	for i := range 2 {
		conns = append(conns, simple(40001+i, t0.Add(time.Duration(i)*time.Second), 2, synth.Endpoint{}, func(c *synth.Conn) {
			c.Reset(synth.Server)
		}))
	}
	conns = append(conns, simple(40010, t0, 2, synth.Endpoint{}, func(c *synth.Conn) {
		c.Reset(synth.Client) // a client done with the exchange
	}))
	rep := run(t, writeOne(t, 0, conns...))
	f := one(t, rep, "resets.summary")
	if f.Severity.String() != "info" {
		t.Errorf("severity %s", f.Severity)
	}
	facts(t, f, map[string]string{"tcp_conns": "103", "reset_conns": "3", "reset_share": "2.9%", "rst_segments": "3",
		"from_server_side": "2", "from_client_side": "1", "after_a_complete_exchange": "3"})
	says(t, f, "10.2.0.2 port 80 (server side) → 10.1.0.1: 2 connections", "10.1.0.1 (client side) → 10.2.0.2: 1 connection")
	quiet(t, rep)
}

// One reset in 201 connections is below the summary's threshold.
func TestSummaryQuiet(t *testing.T) {
	conns := append(healthy(200, 41000), simple(40001, t0, 2, synth.Endpoint{}, func(c *synth.Conn) { c.Reset(synth.Client) }))
	rep := run(t, writeOne(t, 0, conns...))
	none(t, rep, "resets.summary")
	rep = run(t, writeOne(t, 0, healthy(10, 41000)...))
	if len(rep.Findings) != 0 {
		t.Errorf("findings on healthy traffic: %v", rep.Findings[0].Title)
	}
}
