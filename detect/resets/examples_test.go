package resets_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/diagnose"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// The lab scenarios (real Linux stack, four capture points) that show the
// faults, with the numbers their truth.json states.

func TestExampleTimewaitReuse(t *testing.T) {
	rep := run(t, example(t, "timewait-reuse"))
	f := one(t, rep, "handshake.stale-ack")
	if f.Severity.String() != "error" {
		t.Errorf("severity %s, want error: the client never connected", f.Severity)
	}
	facts(t, f, map[string]string{
		"server":            "10.99.1.2:80",
		"client":            "10.99.0.2:40001",
		"server_state":      "TIME_WAIT",
		"closed_first_by":   "server",
		"old_numbers":       "true",
		"syns":              "3",
		"stale_acks":        "3",
		"isn_below_rcv_nxt": "1000000",
		"timestamps":        "neither",
		"client_next":       "gave up with a RST",
	})
	factNear(t, f, "closed_ago_s", 0.5, 0.1)
	says(t, f, "TIME_WAIT", "no TCP timestamps", "1000000 below", "net.ipv4.tcp_tw_reuse", "client side only", "tcp_tw_recycle", "SNAT pool", "1.2 s, 1.0 s apart")
	if f.Evidence[0].Capture != "client" || len(f.Evidence) < 5 {
		t.Errorf("evidence %+v", f.Evidence)
	}
	if len(f.Vantages) == 0 {
		t.Error("no vantage line: the same finding shows at all four capture points")
	}
	none(t, rep, "reset.forged", "reset.idle-timeout", "handshake.spurious-synack")
}

func TestExampleRejectTCPReset(t *testing.T) {
	rep := run(t, example(t, "reject-tcp-reset"))
	f := one(t, rep, "reset.forged")
	facts(t, f, map[string]string{
		"claimed_sender": "10.99.1.2",
		"rst_ttl":        "64",
		"sender_ttl":     "63",
		"hops_closer":    "1",
		"answers_syn":    "1",
		"made":           "between router-in and router-out",
	})
	says(t, f, "10.99.0.2:40002 → 10.99.1.2:8080", "REJECT --reject-with tcp-reset", "may well be listening")
	if len(only(rep, "handshake.refused")) != 0 {
		t.Error("handshake.refused for a reset the router forged")
	}
}

func TestExampleConntrackIdleReset(t *testing.T) {
	rep := run(t, example(t, "conntrack-idle-reset"))
	f := one(t, rep, "reset.idle-timeout")
	facts(t, f, map[string]string{
		"server":             "10.99.1.2",
		"reset_after_idle_s": "3.501,4.522",
		"forged":             "true",
		"rst_ttl":            "64",
		"sender_ttl":         "63",
	})
	factNear(t, f, "idle_timeout_min_s", 0.6, 0.01)
	factNear(t, f, "idle_timeout_max_s", 3.5, 0.01)
	says(t, f, "40003, 40004", "between 601 ms and 3.5 s", "nf_conntrack_tcp_timeout_established", "keep-alive",
		"made between router-in and router-out", "Router-out and server saw 5 of the 6 packets")
	// The forged resets are the idle timeout's: not reported twice.
	none(t, rep, "reset.forged", "handshake.stale-ack")
}

func TestExampleClosedPort(t *testing.T) {
	rep := run(t, example(t, "closed-port"))
	one(t, rep, "handshake.refused")
	if fs := only(rep, "reset.forged"); len(fs) != 0 {
		t.Errorf("a genuine reset from the server called forged: %s", fs[0].Explanation)
	}
	s := one(t, rep, "resets.summary")
	facts(t, s, map[string]string{"reset_conns": "1", "tcp_conns": "2", "answering_a_SYN": "1", "from_server_side": "1"})
}

// TestExamplesPrecision: on every lab scenario, this package reports
// nothing above info that the scenario's truth does not expect or allow.
func TestExamplesPrecision(t *testing.T) {
	root := corpus.Path(t, "examples")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	mine := map[string]bool{"handshake.stale-ack": true, "handshake.spurious-synack": true, "reset.forged": true, "reset.idle-timeout": true}
	want := map[string][]string{
		"timewait-reuse":       {"handshake.stale-ack"},
		"reject-tcp-reset":     {"reset.forged"},
		"conntrack-idle-reset": {"reset.idle-timeout"},
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			rep := run(t, example(t, e.Name()))
			got := map[string]bool{}
			for _, f := range rep.Findings {
				if mine[f.ID] {
					got[f.ID] = true
				}
			}
			for _, id := range want[e.Name()] {
				if !got[id] {
					t.Errorf("missing %s", id)
				}
				delete(got, id)
			}
			for id := range got {
				t.Errorf("unexpected %s", id)
			}
		})
	}
}

// Real-stack captures made by testdata/make-captures.sh.

// The GridFTP story on the real stack: a full accept queue drops the
// final ACKs, the server repeats its SYN-ACKs, a stateful firewall drops
// the repeats.
func TestListenOverflow(t *testing.T) {
	rep := run(t, "testdata/listen-overflow")
	f := one(t, rep, "handshake.spurious-synack")
	facts(t, f, map[string]string{
		"server": "10.99.1.2:2811", "cause": "ack ignored", "repeat_seen_at": "router-out,server",
		"repeat_missing_at": "client,router-in", "repeat_lost": "between router-in and router-out",
	})
	factNear(t, f, "repeat_after_s", 1, 0.05)
	if f.Affected != 2 || f.OutOf != 7 {
		t.Errorf("affects %d of %d, want 2 of 7", f.Affected, f.OutOf)
	}
	says(t, f, "accept queue", "never at client and router-in", "stateful firewall between router-in and router-out")
	none(t, rep, "handshake.stale-ack", "reset.forged", "reset.idle-timeout", "handshake.unanswered")
}

// TIME_WAIT assassination on the real stack: a Linux client without
// timestamps reuses its port at once after uploading 4 MB; its SYN-SENT
// socket answers the stale ACK with a RST and connects on the retry.
func TestTimewaitAssassination(t *testing.T) {
	rep := run(t, "testdata/timewait-assassination")
	f := one(t, rep, "handshake.stale-ack")
	if f.Severity.String() != "warning" {
		t.Errorf("severity %s: the client connected, late", f.Severity)
	}
	facts(t, f, map[string]string{
		"server": "10.99.0.3:80", "client": "10.99.0.2:40001", "server_state": "TIME_WAIT", "closed_first_by": "server",
		"old_numbers": "true", "timestamps": "neither", "client_next": "connected late", "stale_acks": "1",
	})
	says(t, f, "RFC 793", "tcp_rfc1337")
	for i := 1; i < len(f.Evidence); i++ {
		if f.Evidence[i].Frame < f.Evidence[i-1].Frame {
			t.Errorf("evidence out of capture order: %d after %d", f.Evidence[i].Frame, f.Evidence[i-1].Frame)
		}
	}
	none(t, rep, "reset.forged", "reset.idle-timeout", "handshake.spurious-synack")
}

// The peers' reference traces (Zeek's and Wireshark's, real and crafted
// traffic): a RST injected from farther away than its claimed sender
// (Zeek's tcp-rst-inject), a home router resetting closed connections in
// the servers' name (teredo), and nothing else above info.
func TestPeerTraces(t *testing.T) {
	peers := corpus.Peers(t)
	rep := run(t, filepath.Join(peers, "zeek", "tcp-rst-inject.pcap"))
	f := one(t, rep, "reset.forged")
	facts(t, f, map[string]string{"claimed_sender": "1.2.0.3", "rst_ttl": "46", "sender_ttl": "49", "hops_closer": "-3", "answers_syn": "1"})
	says(t, f, "3 hops farther away", "next packet after it still came with TTL 49")
	if f.Severity.String() != "error" {
		t.Errorf("severity %s", f.Severity)
	}

	rep = run(t, filepath.Join(peers, "zeek", "teredo.pcap"))
	f = one(t, rep, "reset.forged")
	facts(t, f, map[string]string{"rst_initial_ttl": "255", "after_close": "2"})
	if f.Severity.String() != "warning" {
		t.Errorf("severity %s: the connections were closing already", f.Severity)
	}

	var files []string
	err := filepath.WalkDir(peers, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && corpus.IsCaptureName(d.Name()) {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("only %d peer captures", len(files))
	}
	expected := map[string]string{"tcp-rst-inject.pcap": "reset.forged", "teredo.pcap": "reset.forged"}
	for _, file := range files {
		in, _, err := diagnose.Inputs([]string{file})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := diagnose.Run(in, diagnose.Options{Detectors: detectors(), Tool: "test"})
		if err != nil {
			t.Logf("%s: %v", file, err)
			continue
		}
		for _, f := range rep.Findings {
			if f.Severity > detect.Info && f.ID != expected[filepath.Base(file)] && !strings.HasPrefix(f.ID, "handshake.") ||
				f.ID == "handshake.stale-ack" || f.ID == "handshake.spurious-synack" {
				t.Errorf("%s: %s %s: %s", filepath.Base(file), f.Severity, f.ID, f.Title)
			}
		}
	}
}
