package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options control a run.
type Options struct {
	// OutDir receives the captures, truth.json and lab.log. It is created
	// if needed; the files of an earlier run there are removed first.
	OutDir string
	// AgentPath is the executable that runs traffic agents as
	// `AgentPath lab agent KIND …`; empty means this executable.
	AgentPath string
	// Timeout bounds the whole run; 0 means the scenario's own limit.
	Timeout time.Duration
}

// ErrNotRoot is returned when the lab is run without root privileges.
var ErrNotRoot = errors.New("lab: scenarios need root (network namespaces, veth, iptables, tcpdump); run as root, e.g. with sudo")

// Tools the lab runs; rpcinfo and rpcbind only for the oncrpc scenario.
var hostTools = []string{"ip", "iptables", "sysctl", "tcpdump"}

// geteuid is a variable so that tests can pretend not to be root.
var geteuid = os.Geteuid

// CheckHost reports whether this process can run scenarios.
func CheckHost() error {
	if geteuid() != 0 {
		return ErrNotRoot
	}
	var missing []string
	for _, t := range hostTools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("lab: missing tools: %s (Debian: apt-get install iproute2 iptables procps tcpdump)", strings.Join(missing, ", "))
	}
	return nil
}

// lab is the state of one run.
type lab struct {
	sc    *Scenario
	opt   Options
	id    string
	topo  *topology
	nsOf  map[string]string // node → namespace
	t0    time.Time
	log   io.Writer
	logMu sync.Mutex

	mu    sync.Mutex
	procs []*proc
	dumps []*tcpdump
	setup []string
}

func (l *lab) ns(node string) string {
	ns, ok := l.nsOf[node]
	if !ok {
		panic("lab: scenario " + l.sc.Name + " uses unknown node " + node)
	}
	return ns
}

// Run runs the named scenario and writes its captures and truth.json to
// opt.OutDir. The namespaces and processes it made are gone when it
// returns, whatever happened.
func Run(ctx context.Context, name string, opt Options) (*Result, error) {
	sc, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("lab: unknown scenario %q (lab list shows them)", name)
	}
	return runScenario(ctx, sc, opt)
}

func runScenario(ctx context.Context, sc *Scenario, opt Options) (*Result, error) {
	name := sc.Name
	if err := CheckHost(); err != nil {
		return nil, err
	}
	for _, t := range sc.needs {
		if _, err := exec.LookPath(t); err != nil {
			return nil, fmt.Errorf("lab: %s needs %s, which is not installed", name, t)
		}
	}
	if opt.OutDir == "" {
		return nil, errors.New("lab: no output directory")
	}
	if opt.AgentPath == "" {
		p, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("lab: finding the agent executable: %w", err)
		}
		opt.AgentPath = p
	}
	if opt.Timeout == 0 {
		opt.Timeout = sc.limit
	}
	if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := clearOutDir(opt.OutDir); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	logf, err := os.Create(filepath.Join(opt.OutDir, "lab.log"))
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	defer logf.Close()
	if _, err := Sweep(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()

	l := &lab{sc: sc, opt: opt, id: newRunID(), topo: sc.topo(), nsOf: map[string]string{},
		t0: time.Now(), log: logf}
	for _, n := range l.topo.nodes {
		l.nsOf[n] = l.id + "-" + n
	}
	l.logf("scenario %s: %s", sc.Name, sc.Doc)
	defer l.teardown()

	res, err := l.run(ctx)
	if err != nil {
		l.logf("error: %v", err)
		return nil, fmt.Errorf("lab: %s: %w", name, err)
	}
	return res, nil
}

func (l *lab) run(ctx context.Context) (*Result, error) {
	if err := l.build(ctx); err != nil {
		return nil, err
	}
	for _, f := range l.sc.setup {
		if err := l.shf(ctx, f.node, f.cmd); err != nil {
			return nil, fmt.Errorf("setting up the fault: %w", err)
		}
		l.setup = append(l.setup, f.node+"# "+f.cmd)
	}
	if err := l.startCaptures(ctx); err != nil {
		return nil, err
	}
	l.logf("captures running; traffic starts")
	windows := l.captureWindows(ctx)
	if err := l.sc.run(ctx, l); err != nil {
		windows()
		return nil, fmt.Errorf("traffic: %w", err)
	}
	if err := windows(); err != nil {
		return nil, err
	}
	// Let the last retransmissions and closes reach every capture point.
	if err := sleep(ctx, l.sc.settle); err != nil {
		return nil, err
	}
	if err := l.freeze(ctx); err != nil {
		return nil, err
	}
	// Captures end before the servers are stopped: what killing them
	// sends (FINs of idle keep-alive connections) is not the scenario.
	caps, err := l.stopCaptures()
	if err != nil {
		return nil, err
	}
	l.stopProcs()
	res := &Result{
		Scenario: l.sc.Name, Doc: l.sc.Doc, Truth: l.sc.Truth, Setup: l.setup,
		Topology: l.topo.String(), Captures: caps, Kernel: kernelRelease(), Dir: l.opt.OutDir,
	}
	if err := res.WriteTruth(); err != nil {
		return nil, err
	}
	l.logf("done")
	return res, nil
}

// clearOutDir removes what an earlier run wrote to dir (and nothing else):
// NN-*.pcap[.gz], truth.json and lab.log.
func clearOutDir(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.pcap*"))
	if err != nil {
		return err
	}
	for _, f := range append(old, filepath.Join(dir, "truth.json"), filepath.Join(dir, "lab.log")) {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
