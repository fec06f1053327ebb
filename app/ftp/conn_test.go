package ftp

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/internal/apptest"
	"github.com/wiresleuth/wiresleuth/capture"
)

// script feeds a connection: lines starting "C:" are client bytes, "S:" server
// bytes, "gapC"/"gapS" gaps, "finC"/"finS" FINs; "\n" in the text is CRLF.
func script(steps ...string) *apptest.Collector {
	col := &apptest.Collector{}
	c := New(col.Output())
	for i, s := range steps {
		at := app.Pos{Frame: int64(i + 1), Time: capture.Time(i+1) * 1e6}
		data := []byte(strings.ReplaceAll(s[min(2, len(s)):], "\n", "\r\n"))
		switch {
		case strings.HasPrefix(s, "C:"):
			c.Bytes(app.Client, data, at)
		case strings.HasPrefix(s, "S:"):
			c.Bytes(app.Server, data, at)
		case s == "gapC":
			c.Gap(app.Client, 10, at)
		case s == "gapS":
			c.Gap(app.Server, 10, at)
		case s == "finC":
			c.Close(app.Client, false, at)
		case s == "finS":
			c.Close(app.Server, false, at)
		}
	}
	c.End(app.Pos{Frame: int64(len(steps) + 1)})
	return col
}

func ops(col *apptest.Collector) string {
	var b []string
	for _, t := range col.Txs {
		b = append(b, t.Operation+"→"+t.Reply+"/"+t.Status.String())
	}
	return strings.Join(b, "; ")
}

func TestMultiLineReplies(t *testing.T) {
	col := script("S:220-first\n123 not the end\n220-still\n  220 indented\n220 done\n",
		"C:FEAT\n", "S:211-Features:\n MDTM\n211-REST STREAM\n211 End\n")
	rs := apptest.Of[*Reply](col)
	if len(rs) != 2 || rs[0].Lines != 5 || rs[0].More != "123 not the end\n220-still\n  220 indented" || !rs[0].Complete {
		t.Fatalf("%+v", rs)
	}
	if rs[1].Command != "FEAT" || rs[1].Lines != 4 {
		t.Fatalf("%+v", rs[1])
	}
}

func TestGreetingPreliminaryThen220(t *testing.T) {
	col := script("S:120 wait 5 minutes\n", "S:220 ready\n", "C:USER x\n", "S:331 pw\n")
	if got := ops(col); got != "greeting→220 ready/ok; USER→331 pw/ok" {
		t.Fatal(got)
	}
}

func TestUnsolicited421AndNoReply(t *testing.T) {
	col := script("S:220 ready\n", "S:421 Idle Timeout: closing control connection.\n")
	if got := ops(col); got != "greeting→220 ready/ok; unsolicited→421 Idle Timeout: closing control connection./error" {
		t.Fatal(got)
	}
	col = script("S:220 ready\n", "C:AUTH GSSAPI\n")
	if s := apptest.Of[*ConnSummary](col)[0]; s.Unanswered != 1 || col.Txs[1].Status != app.StatusNoReply || col.Txs[1].Request != "AUTH GSSAPI" {
		t.Fatalf("%+v %+v", s, col.Txs)
	}
}

func TestPreliminaryDoesNotEndCommand(t *testing.T) {
	col := script("C:RETR f\n", "C:NOOP\n", "S:150 opening\n", "S:226 done\n", "S:200 ok\n")
	if got := ops(col); got != "RETR→226 done/ok; NOOP→200 ok/ok" {
		t.Fatal(got)
	}
	if r := apptest.Of[*Reply](col)[0]; !r.Preliminary || r.Command != "RETR" {
		t.Fatalf("%+v", r)
	}
}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		steps []string
		want  string
	}{
		{[]string{"C:PASV\n", "S:227 Entering Passive Mode (10,1,2,3,4,5).\n"}, "PASV 10.1.2.3:1029 passive"},
		{[]string{"C:PASV\n", "S:227 =10,1,2,3,4,5\n"}, "PASV 10.1.2.3:1029 passive"},
		{[]string{"C:PASV\n", "S:227 Entering Passive Mode 0,0,0,0,200,10\n"}, "PASV 192.0.2.1:51210 passive"},
		{[]string{"C:EPSV\n", "S:229 Entering Extended Passive Mode (|||6446|)\n"}, "EPSV 192.0.2.1:6446 passive"},
		{[]string{"C:PORT 10,0,0,9,1,2\n"}, "PORT 10.0.0.9:258 active"},
		{[]string{"C:EPRT |2|2001:db8::1|5282|\n"}, "EPRT [2001:db8::1]:5282 active"},
		{[]string{"C:EPRT !1!10.0.0.1!21!\n"}, "EPRT 10.0.0.1:21 active"},
	} {
		col := script(tc.steps...)
		d := apptest.Of[*ConnSummary](col)[0].Data
		if len(d) != 1 {
			t.Errorf("%q: endpoints %+v", tc.steps, d)
			continue
		}
		mode := "active"
		if d[0].Passive {
			mode = "passive"
		}
		got := d[0].Command + " " + d[0].Resolve(netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.1")).String() + " " + mode
		if got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.steps, got, tc.want)
		}
	}
	for _, bad := range []string{"C:PORT 10,0,0,9,1\n", "C:PORT 10,0,0,999,1,2\n", "C:EPRT |1|::1|21|\n", "C:EPRT |1|1.2.3.4|99999|\n"} {
		if d := apptest.Of[*ConnSummary](script(bad))[0].Data; len(d) != 0 {
			t.Errorf("%q: %+v", bad, d)
		}
	}
}

func TestTelnetAbort(t *testing.T) {
	col := script("C:\xff\xf4\xff\xf2ABOR\n", "S:226 aborted\n")
	if c := apptest.Of[*Command](col)[0]; c.Name != "ABOR" {
		t.Fatalf("%q", c.Name)
	}
}

func TestAuthTLSStops(t *testing.T) {
	col := script("S:220 hi\n", "C:AUTH TLS\n", "S:234 go ahead\n", "C:\x16\x03\x01\x00\xa5\x01\n", "S:\x16\x03\x03\n")
	s := apptest.Of[*ConnSummary](col)[0]
	if !s.TLS || s.Commands != 1 || s.Malformed != 0 || s.Unanswered != 0 {
		t.Fatalf("%+v", s)
	}
}

func TestGapResync(t *testing.T) {
	col := script("S:220 hi\n", "C:USER a\n", "S:331-line one\n", "gapS", "S:tail of something\n331 ok\n",
		"C:PA", "gapC", "C:SS secret\nSYST\n", "S:215 UNIX\n")
	// The 331 cut by the gap is reported incomplete; "331 ok" after it
	// is taken as a new reply but no command is left for it.
	if got := ops(col); got != "greeting→220 hi/ok; USER→331 line one/incomplete; unsolicited→331 ok/ok; SYST→215 UNIX/ok" {
		t.Fatal(got)
	}
	cmds := apptest.Of[*Command](col)
	if len(cmds) != 2 || cmds[1].Name != "SYST" || !cmds[1].AfterGap {
		t.Fatalf("%+v", cmds)
	}
}

func TestLastLineWithoutCRLF(t *testing.T) {
	col := script("C:QUIT\n", "S:221 bye", "finS")
	if got := ops(col); got != "QUIT→221 bye/ok" {
		t.Fatal(got)
	}
}

func TestCaps(t *testing.T) {
	var steps []string
	for range MaxPending + 2 {
		steps = append(steps, "C:NOOP\n")
	}
	steps = append(steps, "S:200-"+strings.Repeat("x", MaxLine*2)+"\n"+strings.Repeat(" more\n", MaxText)+"200 end\n")
	col := script(steps...)
	s := apptest.Of[*ConnSummary](col)[0]
	r := apptest.Of[*Reply](col)[0]
	if s.Dropped != 2 || !r.Truncated || len(r.Text) != MaxValue || len(r.More) > MaxText || r.Lines != MaxText+2 {
		t.Fatalf("dropped %d truncated %v text %d more %d lines %d", s.Dropped, r.Truncated, len(r.Text), len(r.More), r.Lines)
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		side  app.Side
		first string
		port  uint16
		want  app.Confidence
	}{
		{app.Server, "220 ProFTPD Server ready.\r\n", 2121, app.Likely},
		{app.Server, "220 host GridFTP Server ready.\r\n", 2811, app.Likely},
		{app.Server, "220-welcome\r\n", 21, app.Likely},
		{app.Server, "220 mail.example.com ESMTP Postfix\r\n", 25, app.No},
		{app.Server, "220 hello\r\n", 5000, app.Maybe},
		{app.Server, "HTTP/1.1 200 OK\r\n", 21, app.No},
		{app.Server, "22", 21, app.Maybe},
		{app.Client, "USER anonymous\r\n", 21, app.Likely},
		{app.Client, "AUTH GSSAPI\r\n", 4000, app.Maybe},
		{app.Client, "GET / HTTP/1.1\r\n", 21, app.No},
	} {
		if got := Probe(tc.side, []byte(tc.first), tc.port); got != tc.want {
			t.Errorf("Probe(%v, %q, %d) = %v, want %v", tc.side, tc.first, tc.port, got, tc.want)
		}
	}
}
