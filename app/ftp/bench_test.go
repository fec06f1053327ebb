package ftp

import (
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
)

var (
	benchCmds    = []byte("USER anonymous\r\nPASS ftp@example.com\r\nPWD\r\nEPSV\r\nTYPE I\r\nSIZE hello.txt\r\nRETR hello.txt\r\nQUIT\r\n")
	benchReplies = []byte("220-Welcome\r\n220-Second line.\r\n220 Ready.\r\n331 Password required.\r\n230 Logged in.\r\n257 \"/\" is the current directory\r\n" +
		"229 Entering Extended Passive Mode (|||57811|)\r\n200 Type set to I.\r\n213 300\r\n150 Opening data connection.\r\n226 Transfer complete.\r\n221 Goodbye.\r\n")
)

// BenchmarkConn decodes a typical curl download dialogue (8 commands,
// 10 replies) per iteration.
func BenchmarkConn(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchCmds) + len(benchReplies)))
	out := app.Output{Sink: func(app.Transaction) {}, Record: func(app.Record) {}}
	var at app.Pos
	for b.Loop() {
		c := New(out)
		c.Bytes(app.Client, benchCmds, at)
		c.Bytes(app.Server, benchReplies, at)
		c.End(at)
	}
}
