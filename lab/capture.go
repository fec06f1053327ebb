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

// startCaptures starts tcpdump on every vantage point (but those the
// scenario starts late, see captureWindows) and returns once all are
// listening, so no packet of the scenario is missed.
func (l *lab) startCaptures(ctx context.Context) error {
	l.dumps = make([]*tcpdump, len(l.topo.vantages))
	for i, v := range l.topo.vantages {
		if _, late := l.sc.late[v.name]; late {
			continue
		}
		if _, err := l.startDump(i); err != nil {
			return err
		}
	}
	for _, t := range l.dumps {
		if t == nil {
			continue
		}
		if err := waitListening(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// startDump starts tcpdump on vantage point i.
func (l *lab) startDump(i int) (*tcpdump, error) {
	v := l.topo.vantages[i]
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
		return nil, fmt.Errorf("tcpdump on %s: %w", v.name, err)
	}
	go func() {
		t.cmd.Wait()
		close(t.done)
	}()
	l.mu.Lock()
	l.dumps[i] = t
	l.mu.Unlock()
	return t, nil
}

// waitListening waits until tcpdump says it is listening.
func waitListening(ctx context.Context, t *tcpdump) error {
	select {
	case <-t.ready:
	case <-t.done:
		return fmt.Errorf("tcpdump on %s exited: %s", t.cap.Vantage, t.lastErr())
	case <-ctx.Done():
		return fmt.Errorf("waiting for tcpdump on %s: %w", t.cap.Vantage, ctx.Err())
	case <-time.After(10 * time.Second):
		return fmt.Errorf("tcpdump on %s did not start listening within 10s", t.cap.Vantage)
	}
	return nil
}

// captureWindows starts the captures the scenario starts late and stops
// those it stops early, at their times after the traffic starts, as
// captures started by hand on different machines overlap only partly. The
// returned function waits until every late capture runs and every early
// one has stopped.
func (l *lab) captureWindows(ctx context.Context) func() error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err.Error())
		mu.Unlock()
	}
	for i, v := range l.topo.vantages {
		if d, ok := l.sc.late[v.name]; ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := sleep(ctx, d); err != nil {
					fail(err)
					return
				}
				l.logf("starting the capture at %s %v after the traffic", v.name, d)
				t, err := l.startDump(i)
				if err == nil {
					err = waitListening(ctx, t)
				}
				if err != nil {
					fail(err)
				}
			}()
		}
		if d, ok := l.sc.early[v.name]; ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := sleep(ctx, d); err != nil {
					fail(err)
					return
				}
				l.mu.Lock()
				t := l.dumps[i]
				l.mu.Unlock()
				l.logf("stopping the capture at %s %v after the traffic started", v.name, d)
				if t != nil {
					t.cmd.Process.Signal(syscall.SIGINT)
				}
			}()
		}
	}
	return func() error {
		wg.Wait()
		if len(errs) > 0 {
			return fmt.Errorf("capture windows: %s", strings.Join(errs, "; "))
		}
		return nil
	}
}

// stopCaptures ends every tcpdump with SIGINT, so that it flushes a
// complete file and reports its counters, and returns the captures.
func (l *lab) stopCaptures() ([]Capture, error) {
	var caps []Capture
	var errs []string
	for _, t := range l.dumps {
		if t != nil {
			t.cmd.Process.Signal(syscall.SIGINT)
		}
	}
	for _, t := range l.dumps {
		if t == nil {
			continue
		}
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
		case t.received > c.Packets && !l.stoppedEarly(c.Vantage):
			// (A capture stopped on purpose while traffic flows leaves
			// what the kernel had queued for it unwritten: its window
			// simply ends there.)
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

// stoppedEarly says whether the scenario stops the capture at vantage
// before the traffic ends.
func (l *lab) stoppedEarly(vantage string) bool {
	_, ok := l.sc.early[vantage]
	return ok
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
			if t == nil {
				continue
			}
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
