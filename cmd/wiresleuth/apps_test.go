package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// TestApps lists the Gluster qemu-img story's transactions: the failed
// SETVOLUME calls with --status error, and all of them as JSON.
func TestApps(t *testing.T) {
	file := corpus.Path(t, "app", "oncrpc", "testdata", "gluster-qemu-img.pcap")
	code, out, errs := runCapture("apps", "--status", "error", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "SETVOLUME v2 xid 0x00000004") ||
		!strings.Contains(lines[1], "op_ret -1 errno 13 EACCES") || !strings.Contains(lines[1], "27→29") {
		t.Fatalf("apps --status error:\n%s", out)
	}
	code, out, errs = runCapture("apps", "--format", "json", "--proto", "oncrpc", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Transactions []struct {
			Server, Operation, Status string
			RequestFrame              int64 `json:"request_frame"`
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Transactions) != 9 || got.Transactions[0].RequestFrame != 4 || got.Transactions[0].Operation != "GlusterFS Handshake GETSPEC" {
		t.Errorf("json: %+v", got.Transactions)
	}
	for i := 1; i < len(got.Transactions); i++ {
		if got.Transactions[i].RequestFrame < got.Transactions[i-1].RequestFrame {
			t.Errorf("not in request order: %+v", got.Transactions)
		}
	}
	if code, _, _ := runCapture("apps", "--proto", "http", file); code != 0 {
		t.Errorf("--proto http: exit %d", code)
	}
	for _, args := range [][]string{{"apps", "--status", "bad", file}, {"apps", "--format", "xml", file}} {
		if code, _, _ := runCapture(args...); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

// TestAppFieldsStdin: application fields need two passes; standard input
// is spooled for them.
func TestAppFieldsStdin(t *testing.T) {
	f, err := os.Open(corpus.Path(t, "app", "oncrpc", "testdata", "gluster-qemu-img.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	code, out, errs := runCapture("packets", "-Y", "glusterfs.hndsk.proc && rpc.msgtyp == 1", "-T", "fields", "-e", "frame.number",
		"-e", "gluster.op_errno", "-")
	if code != 0 || out != "7\t0\n29\t13\n54\t13\n" {
		t.Fatalf("exit %d, stderr %q, output\n%s", code, errs, out)
	}
}
