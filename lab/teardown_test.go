package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testScenario is a scenario whose traffic does what the test asks.
func testScenario(run func(ctx context.Context, l *lab) error, limit time.Duration) *Scenario {
	return &Scenario{
		Name: "teardown-test", Doc: "test", topo: oneRouter, run: run,
		check: func(*verifier) {}, settle: time.Millisecond, limit: limit,
	}
}

// made records what a run made, for the test to check it is gone; it is
// filled in during the run, so it survives a panic.
type made struct {
	prefix string // of the namespace names
	pid    int    // of a server agent
}

// runTest runs sc, with a server agent started first.
func runTest(t *testing.T, ctx context.Context, sc *Scenario, m *made) error {
	t.Helper()
	inner := sc.run
	sc.run = func(ctx context.Context, l *lab) error {
		m.prefix = l.id + "-"
		p, err := l.server(ctx, server, webPort, l.agent("http-server", "-listen", ":80")...)
		if err != nil {
			return err
		}
		m.pid = p.cmd.Process.Pid
		if len(labNetns(t, m.prefix)) != len(l.topo.nodes) {
			t.Errorf("namespaces %v during the run", labNetns(t, m.prefix))
		}
		return inner(ctx, l)
	}
	_, err := runScenario(ctx, sc, Options{OutDir: t.TempDir()})
	return err
}

func checkGone(t *testing.T, m *made) {
	t.Helper()
	if m.prefix == "" || m.pid == 0 {
		t.Fatal("the scenario never ran")
	}
	if left := labNetns(t, m.prefix); len(left) > 0 {
		t.Errorf("namespaces left: %v", left)
	}
	if err := syscall.Kill(m.pid, 0); err != syscall.ESRCH {
		t.Errorf("server process %d still exists (kill 0: %v)", m.pid, err)
	}
}

func TestTeardownOnError(t *testing.T) {
	needRoot(t)
	boom := errors.New("boom")
	var m made
	err := runTest(t, testCtx, testScenario(func(context.Context, *lab) error { return boom }, 20*time.Second), &m)
	if !errors.Is(err, boom) {
		t.Errorf("Run: %v, want %v", err, boom)
	}
	checkGone(t, &m)
}

func TestTeardownOnPanic(t *testing.T) {
	needRoot(t)
	var m made
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v", r)
			}
		}()
		runTest(t, testCtx, testScenario(func(context.Context, *lab) error { panic("boom") }, 20*time.Second), &m)
	}()
	checkGone(t, &m)
}

func TestTeardownOnTimeout(t *testing.T) {
	needRoot(t)
	start := time.Now()
	var m made
	err := runTest(t, testCtx, testScenario(func(ctx context.Context, _ *lab) error {
		return sleep(ctx, time.Minute)
	}, 2*time.Second), &m)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run: %v, want the deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 2 s limit took %v", d)
	}
	checkGone(t, &m)
}

func TestTeardownOnCancel(t *testing.T) {
	needRoot(t)
	ctx, cancel := context.WithCancel(testCtx)
	var m made
	err := runTest(t, ctx, testScenario(func(ctx context.Context, _ *lab) error {
		cancel() // as SIGINT does through lab run's signal context
		return sleep(ctx, time.Minute)
	}, 20*time.Second), &m)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want cancellation", err)
	}
	checkGone(t, &m)
}

// TestSweep checks that Sweep removes the namespaces of a dead process,
// with the processes inside, and leaves those of a live one.
func TestSweep(t *testing.T) {
	needRoot(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("%s%d-1-test", nsPrefix, dead.Process.Pid)
	live := fmt.Sprintf("%s%d-999999-test", nsPrefix, os.Getpid())
	for _, ns := range []string{stale, live} {
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v: %s", err, out)
		}
		defer exec.Command("ip", "netns", "del", ns).Run()
	}
	// A leftover agent in the stale namespace.
	sleeper := exec.Command("ip", "netns", "exec", stale, "sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sleeper.Wait() }()
	time.Sleep(100 * time.Millisecond)

	removed, err := Sweep(testCtx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(removed, " "), stale) {
		t.Errorf("Sweep removed %v, not %s", removed, stale)
	}
	if len(labNetns(t, stale)) != 0 {
		t.Errorf("%s still exists", stale)
	}
	if len(labNetns(t, live)) != 1 {
		t.Errorf("Sweep removed %s of a live process", live)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the process in the stale namespace was not killed")
		sleeper.Process.Kill()
	}
}

func TestOwnerPID(t *testing.T) {
	for name, want := range map[string]int{"wsl42-3-router": 42, "wsl7-1-client": 7, "wslx-1-a": 0, "other": 0, "wsl42": 0} {
		got, ok := ownerPID(name)
		if got != want || ok != (want != 0) {
			t.Errorf("ownerPID(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
}
