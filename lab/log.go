package lab

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// logf writes a line to the lab log, stamped with the time since the run
// started.
func (l *lab) logf(format string, args ...any) {
	l.logMu.Lock()
	defer l.logMu.Unlock()
	fmt.Fprintf(l.log, "%7.3f %s\n", time.Since(l.t0).Seconds(), fmt.Sprintf(format, args...))
}

// show renders a command for the log: namespace names become node names
// and the agent path becomes "wiresleuth", so the log reads the same from
// run to run and can be replayed by hand.
func (l *lab) show(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == l.opt.AgentPath {
			a = "wiresleuth"
		}
		for node, ns := range l.nsOf {
			if a == ns {
				a = "<" + node + ">"
			}
		}
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			a = strconv.Quote(a)
		}
		b.WriteString(a)
	}
	return b.String()
}

// shortName names a program for the log: "agent http-server", "tcpdump".
func shortName(argv []string) string {
	if len(argv) > 3 && argv[1] == "lab" && argv[2] == "agent" {
		return argv[3]
	}
	if len(argv) > 0 {
		return argv[0][strings.LastIndexByte(argv[0], '/')+1:]
	}
	return "?"
}

// lineLog copies a process's output into the lab log line by line.
type lineLog struct {
	l      *lab
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *lineLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.l.logf("%s%s", w.prefix, w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a runaway line: log what we have
		w.l.logf("%s%s…", w.prefix, w.buf)
		w.buf = w.buf[:0]
	}
	return len(b), nil
}

func (w *lineLog) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.l.logf("%s%s", w.prefix, w.buf)
		w.buf = nil
	}
}

var _ io.Writer = (*lineLog)(nil)
