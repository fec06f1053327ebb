package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxPackets caps every capture; a scenario that reaches it is broken.
const maxPackets = 20000

// tcpdump is one running capture.
type tcpdump struct {
	cap  Capture
	cmd  *exec.Cmd
	done chan struct{}

	mu       sync.Mutex
	ready    chan struct{} // closed once tcpdump says it is listening
	isReady  bool
	partial  []byte
	received int // "received by filter": more than captured means lost at exit
	stderr   []string
}

var statLine = regexp.MustCompile(`^(\d+) packets? (captured|received by filter|dropped by kernel)$`)

// Write receives tcpdump's stderr.
func (t *tcpdump) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
		if line == "" {
			continue
		}
		t.stderr = append(t.stderr, line)
		if !t.isReady && strings.Contains(line, "listening on") {
			t.isReady = true
			close(t.ready)
		}
		if m := statLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "captured":
				t.cap.Packets = n
			case "received by filter":
				t.received = n
			default:
				t.cap.Dropped = n
			}
		}
	}
	return len(b), nil
}

// startCaptures starts tcpdump on every vantage point and returns once all
// are listening, so no packet of the scenario is missed.
func (l *lab) startCaptures(ctx context.Context) error {
	for i, v := range l.topo.vantages {
		c := Capture{
			File:      fmt.Sprintf("%02d-%s.pcap", i+1, v.name),
			Vantage:   v.name,
			Node:      v.node,
			Interface: v.dev,
			Addr:      l.topo.addrOf(v.node, v.dev),
		}
		// --immediate-mode: without it libpcap hands packets over in ring
		// blocks, and tcpdump discards the unfinished block when it stops.
		// nice: on a loaded machine a starved tcpdump falls behind, and
		// what is still in its ring when it is stopped is lost.
		argv := []string{"nice", "-n", "-10", "tcpdump", "-i", v.dev, "-s", "0", "-U", "--immediate-mode", "-n", "-Z", "root",
			"-c", strconv.Itoa(maxPackets), "-w", filepath.Join(l.opt.OutDir, c.File)}
		t := &tcpdump{cap: c, ready: make(chan struct{}), done: make(chan struct{})}
		t.cmd = exec.Command("ip", append([]string{"netns", "exec", l.ns(v.node)}, argv...)...)
		t.cmd.Stderr = t
		t.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		t.cmd.WaitDelay = 2 * time.Second
		l.logf("%s# %s", v.node, l.show(argv[:len(argv)-1])+" "+c.File)
		if err := t.cmd.Start(); err != nil {
			return fmt.Errorf("tcpdump on %s: %w", v.name, err)
		}
		go func() {
			t.cmd.Wait()
			close(t.done)
		}()
		l.dumps = append(l.dumps, t)
	}
	for _, t := range l.dumps {
		select {
		case <-t.ready:
		case <-t.done:
			return fmt.Errorf("tcpdump on %s exited: %s", t.cap.Vantage, t.lastErr())
		case <-ctx.Done():
			return fmt.Errorf("waiting for tcpdump on %s: %w", t.cap.Vantage, ctx.Err())
		case <-time.After(10 * time.Second):
			return fmt.Errorf("tcpdump on %s did not start listening within 10s", t.cap.Vantage)
		}
	}
	return nil
}

// stopCaptures ends every tcpdump with SIGINT, so that it flushes a
// complete file and reports its counters, and returns the captures.
func (l *lab) stopCaptures() ([]Capture, error) {
	var caps []Capture
	var errs []string
	for _, t := range l.dumps {
		t.cmd.Process.Signal(syscall.SIGINT)
	}
	for _, t := range l.dumps {
		select {
		case <-t.done:
		case <-time.After(10 * time.Second):
			t.cmd.Process.Kill()
			<-t.done
			errs = append(errs, t.cap.Vantage+": tcpdump did not stop on SIGINT")
		}
		t.mu.Lock()
		c := t.cap
		for _, line := range t.stderr {
			l.logf("%s tcpdump: %s", c.Vantage, line)
		}
		t.mu.Unlock()
		switch {
		case c.Packets >= maxPackets:
			errs = append(errs, fmt.Sprintf("%s: capture reached the cap of %d packets", c.Vantage, maxPackets))
		case t.received > c.Packets:
			errs = append(errs, fmt.Sprintf("%s: tcpdump received %d packets but wrote %d", c.Vantage, t.received, c.Packets))
		case c.Dropped > 0:
			errs = append(errs, fmt.Sprintf("%s: tcpdump reports %d packets dropped by the kernel", c.Vantage, c.Dropped))
		}
		caps = append(caps, c)
	}
	l.dumps = nil
	if len(errs) > 0 {
		return caps, fmt.Errorf("incomplete captures: %s", strings.Join(errs, "; "))
	}
	return caps, nil
}

// waitCapturesIdle waits until no capture file has grown for quietFor (at
// most maxWait): every tcpdump has written what it received.
func (l *lab) waitCapturesIdle(ctx context.Context) error {
	const (
		poll     = 50 * time.Millisecond
		quietFor = 300 * time.Millisecond
		maxWait  = 5 * time.Second
	)
	sizes := map[string]int64{}
	quiet := time.Duration(0)
	for waited := time.Duration(0); waited < maxWait && quiet < quietFor; waited += poll {
		if err := sleep(ctx, poll); err != nil {
			return err
		}
		changed := false
		for _, t := range l.dumps {
			path := filepath.Join(l.opt.OutDir, t.cap.File)
			info, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("capture %s: %w", t.cap.File, err)
			}
			if info.Size() != sizes[path] {
				sizes[path], changed = info.Size(), true
			}
		}
		if changed {
			quiet = 0
		} else {
			quiet += poll
		}
	}
	return nil
}

func (t *tcpdump) lastErr() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.stderr) == 0 {
		return "no output"
	}
	return t.stderr[len(t.stderr)-1]
}
