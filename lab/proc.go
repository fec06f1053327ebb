package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// proc is a process the lab started in a namespace and must stop.
type proc struct {
	name string // for the log: node and program
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
	err  error
}

// start runs argv in node's namespace in the background; its output lines
// go to the lab log. Children die with the lab (Pdeathsig), and teardown
// stops them.
func (l *lab) start(node string, argv ...string) (*proc, error) {
	name := node + " " + shortName(argv)
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.ns(node)}, argv...)...)
	w := &lineLog{l: l, prefix: name + ": "}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	l.logf("%s# %s", node, l.show(argv))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		w.flush()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// wait waits for p to exit, killing it if ctx ends first.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		p.stop(0)
		return fmt.Errorf("%s: %w", p.name, ctx.Err())
	}
}

// stop asks p to end with SIGTERM and kills it after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	if grace > 0 {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			return
		case <-time.After(grace):
		}
	}
	p.cmd.Process.Kill()
	<-p.done
}

// exited reports whether p has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// sh runs a command to completion: in node's namespace, or in the host's
// when node is "" (only `ip` for namespaces and links).
func (l *lab) sh(ctx context.Context, node string, argv ...string) error {
	if node != "" {
		argv = append([]string{"ip", "netns", "exec", l.ns(node)}, argv...)
		l.logf("%s# %s", node, l.show(argv[4:]))
	} else {
		l.logf("# %s", l.show(argv))
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v: %s", l.show(argv), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// shf is sh with the command as one string split on spaces.
func (l *lab) shf(ctx context.Context, node, command string) error {
	return l.sh(ctx, node, strings.Fields(command)...)
}

// agent returns the command line of a traffic agent.
func (l *lab) agent(kind string, args ...string) []string {
	return append([]string{l.opt.AgentPath, "lab", "agent", kind}, args...)
}

// server starts a long-running program in node and waits until it listens
// on the TCP port.
func (l *lab) server(ctx context.Context, node string, port int, argv ...string) (*proc, error) {
	p, err := l.start(node, argv...)
	if err != nil {
		return nil, err
	}
	for {
		if listening(p.cmd.Process.Pid, port) {
			return p, nil
		}
		if p.exited() {
			return nil, fmt.Errorf("%s exited before listening on port %d: %v", p.name, port, p.err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: waiting for port %d: %w", p.name, port, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// client runs a program in node to completion.
func (l *lab) client(ctx context.Context, node string, argv ...string) error {
	return l.clients(ctx, node, argv)
}

// clients runs several client programs in node at once and waits for all.
// An agent's failure is an error (agents report the network failures they
// observe and still exit 0); another program's non-zero exit is only
// logged, since clients such as rpcinfo exist to observe failures.
func (l *lab) clients(ctx context.Context, node string, argvs ...[]string) error {
	var ps []*proc
	for _, argv := range argvs {
		p, err := l.start(node, argv...)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	var errs []error
	for i, p := range ps {
		err := p.wait(ctx)
		var exit *exec.ExitError
		if errors.As(err, &exit) && !l.isAgent(argvs[i]) {
			l.logf("%s: exit status %d", p.name, exit.ExitCode())
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}

func (l *lab) isAgent(argv []string) bool { return len(argv) > 0 && argv[0] == l.opt.AgentPath }

// listening reports whether the process pid (in its own network namespace)
// has a TCP socket listening on port: /proc/PID/net/tcp shows the sockets
// of the process's namespace.
func listening(pid, port int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return false
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	s := bufio.NewScanner(f)
	for s.Scan() {
		fs := strings.Fields(s.Text())
		// sl local_address rem_address st …; st 0A is LISTEN.
		if len(fs) > 3 && strings.HasSuffix(fs[1], want) && fs[3] == "0A" {
			return true
		}
	}
	return false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
