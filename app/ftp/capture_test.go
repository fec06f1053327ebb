package ftp

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

// TestCaptureDataConnectionsLinked checks that every data connection in
// testdata/ftp.pcap goes to an endpoint announced on exactly one control
// connection (PASV, EPSV, PORT or EPRT), resolved with that control
// connection's addresses.
func TestCaptureDataConnectionsLinked(t *testing.T) {
	conns, err := apptest.Load("testdata/ftp.pcap", apptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type control struct {
		conn *apptest.Conn
		data []DataEndpoint
	}
	var controls []control
	var data []*apptest.Conn
	for _, c := range conns {
		if c.Server.Port() == 21 || c.Server.Port() == 2811 {
			col := &apptest.Collector{}
			c.Replay(New(col.Output()), 0)
			s := apptest.Of[*ConnSummary](col)[0]
			controls = append(controls, control{c, s.Data})
		} else {
			data = append(data, c)
		}
	}
	if len(data) != 5 {
		t.Fatalf("want the 5 data connections curl opened, got %d", len(data))
	}
	kinds := map[string]int{}
	for _, d := range data {
		var links []string
		for _, ctl := range controls {
			for _, e := range ctl.data {
				if e.Resolve(ctl.conn.Server.Addr(), ctl.conn.Client.Addr()) == d.Server {
					links = append(links, e.Command)
				}
			}
		}
		if len(links) != 1 {
			t.Errorf("data connection %v→%v: linked by %v", d.Client, d.Server, links)
			continue
		}
		kinds[links[0]]++
	}
	if want := map[string]int{"EPSV": 2, "PASV": 1, "EPRT": 1, "PORT": 1}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("links by command: %v, want %v", kinds, want)
	}
}

// TestCaptureDialogues checks what capture.sh scripted on each control
// connection.
func TestCaptureDialogues(t *testing.T) {
	cols := decodeCapture(t, "testdata/ftp.pcap", apptest.Options{}, 0)
	var idle, grid, missing *apptest.Collector
	greetingsOnly := 0
	for _, col := range cols {
		s := apptest.Of[*ConnSummary](col)[0]
		switch {
		case s.Commands == 0 && s.Greeting:
			greetingsOnly++
		case s.Auth == "GSSAPI IDLE":
			idle = col
		case s.Auth == "GSSAPI":
			grid = col
		}
		for _, tx := range col.Txs {
			if tx.Error == "550" {
				missing = col
			}
		}
	}
	if greetingsOnly != 2 || idle == nil || grid == nil || missing == nil {
		t.Fatalf("connections: %d greeting-only, idle %v, grid %v, 550 %v", greetingsOnly, idle != nil, grid != nil, missing != nil)
	}
	// The STAR-BNL signature: greeting, AUTH GSSAPI, then 421 idle timeout.
	s := apptest.Of[*ConnSummary](idle)[0]
	if !s.IdleTimeout || s.GreetingCode != 220 || s.LastCommand != "AUTH" || s.Unanswered != 0 {
		t.Errorf("idle summary: %+v", s)
	}
	last := idle.Txs[len(idle.Txs)-1]
	if last.Operation != "AUTH" || last.Status != app.StatusError || last.Error != "421" || last.Latency < 1e9 {
		t.Errorf("idle AUTH transaction: %+v", last)
	}
	// GridFTP: ADAT exchange and a striped passive reply over three lines.
	var ops []string
	for _, tx := range grid.Txs {
		ops = append(ops, tx.Operation+":"+tx.Reply[:3])
	}
	want := "greeting:220 AUTH:334 ADAT:335 ADAT:235 USER:232 SPAS:229 SPOR:200 QUIT:221"
	if got := strings.Join(ops, " "); got != want {
		t.Errorf("gridftp dialogue:\n got %s\nwant %s", got, want)
	}
	var spas *Reply
	for _, r := range apptest.Of[*Reply](grid) {
		if r.Command == "SPAS" {
			spas = r
		}
	}
	if spas == nil || spas.Lines != 4 || len(spas.Data) != 2 || spas.Data[1].Port != 195*256+81 {
		t.Errorf("SPAS reply: %+v", spas)
	}
	// The multi-line greeting of the port 21 server.
	g := apptest.Of[*Reply](missing)[0]
	if !g.Greeting || g.Lines != 3 || g.More != "220-Second banner line." || g.Text != "Welcome to the wiresleuth test FTP server." {
		t.Errorf("greeting: %+v", g)
	}
}

// TestCaptureIncremental: output must not depend on how bytes arrive.
func TestCaptureIncremental(t *testing.T) {
	whole := decodeCapture(t, "testdata/ftp.pcap", apptest.Options{}, 0)
	for _, chunk := range []int{1, 3, 64} {
		if got := decodeCapture(t, "testdata/ftp.pcap", apptest.Options{}, chunk); !reflect.DeepEqual(got, whole) {
			t.Fatalf("chunk %d: output differs", chunk)
		}
	}
}

// TestCaptureCommandLost replays the idle-timeout connection of
// testdata/ftp.pcap without the frame that carried AUTH GSSAPI, as a server
// that never got it saw it (STAR-BNL): greeting, then an unsolicited 421.
func TestCaptureCommandLost(t *testing.T) {
	conns, err := apptest.Load("testdata/ftp.pcap", apptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var drop int64
	for _, c := range conns {
		for _, e := range c.Events {
			if e.Kind == apptest.Bytes && e.Side == app.Client && strings.HasPrefix(string(e.Data), "AUTH GSSAPI idle") {
				drop = e.At.Frame
			}
		}
	}
	if drop == 0 {
		t.Fatal("no AUTH GSSAPI idle in the capture")
	}
	for _, col := range decodeCapture(t, "testdata/ftp.pcap", apptest.Options{Drop: func(f int64) bool { return f == drop }}, 0) {
		s := apptest.Of[*ConnSummary](col)[0]
		if !s.IdleTimeout {
			continue
		}
		if s.Commands != 0 || s.GreetingCode != 220 || s.Gaps[app.Client] != 1 {
			t.Errorf("summary: %+v", s)
		}
		if got := ops(col); got != "greeting→220 localhost GridFTP Server 6.10 (gcc64, 1590000000-0) [Globus Toolkit 6.0] ready./ok; unsolicited→421 Idle Timeout: closing control connection./error" {
			t.Errorf("transactions: %s", got)
		}
		return
	}
	t.Fatal("idle-timeout connection not found")
}
