package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Namespace names are nsPrefix, the pid of the process that made them, a
// per-process run counter and the node: wsl4242-3-router. Two test binaries
// never collide, and Sweep can tell whose namespaces they are.
const (
	nsPrefix = "wsl"
	netnsDir = "/run/netns"
)

var runCounter atomic.Int64

func newRunID() string {
	return fmt.Sprintf("%s%d-%d", nsPrefix, os.Getpid(), runCounter.Add(1))
}

// ownerPID parses the pid out of a lab namespace name.
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, nsPrefix)
	if !ok {
		return 0, false
	}
	p, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	return pid, err == nil && pid > 0
}

// Sweep deletes lab namespaces whose creating process is gone (killed
// before it could clean up), after killing the agents still inside them.
// A pid that was reused by a newer process counts as gone. It returns the
// names it removed.
func Sweep(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: sweep: %w", err)
	}
	var removed []string
	for _, e := range entries {
		pid, ok := ownerPID(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil || ownerAlive(pid, info.ModTime()) {
			continue
		}
		if err := deleteNetns(ctx, e.Name()); err != nil {
			return removed, fmt.Errorf("lab: sweep: %w", err)
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

// ownerAlive reports whether pid runs and started before the namespace was
// made.
func ownerAlive(pid int, made time.Time) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	start, ok := processStart(pid)
	return !ok || !start.After(made.Add(time.Second))
}

// processStart reads a process's start time from /proc (field 22 of
// /proc/PID/stat, in USER_HZ ticks after boot; USER_HZ is 100 on Linux).
func processStart(pid int) (time.Time, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return time.Time{}, false
	}
	// The command name in field 2 may contain spaces: skip past its ')'.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return time.Time{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	boot, ok := bootTime()
	if !ok {
		return time.Time{}, false
	}
	return boot.Add(time.Duration(ticks) * 10 * time.Millisecond), true
}

func bootTime() (time.Time, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Unix(s, 0), err == nil
		}
	}
	return time.Time{}, false
}

// deleteNetns kills the processes left in a namespace, by pid, and
// deletes it; its veth ends go with it.
func deleteNetns(ctx context.Context, name string) error {
	if out, err := exec.CommandContext(ctx, "ip", "netns", "pids", name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	out, err := exec.CommandContext(ctx, "ip", "netns", "del", name).CombinedOutput()
	if err != nil {
		if _, serr := os.Stat(filepath.Join(netnsDir, name)); os.IsNotExist(serr) {
			return nil
		}
		return fmt.Errorf("ip netns del %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}
