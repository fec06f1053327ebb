package ftp

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
)

var (
	commandFields = []string{"ftp.request.command", "ftp.request.arg", "ftp.active.cip", "ftp.active.port",
		"ftp.eprt.ip", "ftp.eprt.port"}
	replyFields = []string{"ftp.response.code", "ftp.response.arg", "ftp.passive.ip", "ftp.passive.port", "ftp.epsv.port"}
)

// decodeCapture runs each TCP connection of a capture through its own
// decoder, Bytes split into pieces of at most chunk bytes.
func decodeCapture(t testing.TB, path string, opt apptest.Options, chunk int) []*apptest.Collector {
	t.Helper()
	conns, err := apptest.Load(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	var out []*apptest.Collector
	for _, c := range conns {
		if c.Proto != 6 || c.Server.Port() != 21 && c.Server.Port() != 2811 {
			continue // data connections
		}
		col := &apptest.Collector{}
		c.Replay(New(col.Output()), chunk)
		out = append(out, col)
	}
	return out
}

// TestAgainstTshark compares commands and replies decoded from
// testdata/ftp.pcap (curl and a GridFTP-like client against server.py) with
// tshark's fields on the same capture.
func TestAgainstTshark(t *testing.T) {
	const pcap = "testdata/ftp.pcap"
	var cmds, replies []app.Record
	for _, col := range decodeCapture(t, pcap, apptest.Options{}, 0) {
		for _, r := range col.Recs {
			switch r.(type) {
			case *Command:
				cmds = append(cmds, r)
			case *Reply:
				replies = append(replies, r)
			}
		}
	}
	decodeAs := []string{"tcp.port==2811,ftp"}
	c := apptest.Compare(t, apptest.Ours(cmds, commandFields),
		apptest.Theirs(t, apptest.Tshark(t, pcap, decodeAs, "ftp.request", commandFields...), commandFields),
		commandFields, nil)
	r := apptest.Compare(t, apptest.Ours(replies, replyFields),
		apptest.Theirs(t, apptest.Tshark(t, pcap, decodeAs, "ftp.response", replyFields...), replyFields),
		replyFields, nil)
	t.Logf("commands: %v", c)
	t.Logf("replies: %v", r)
}
