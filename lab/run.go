package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options control a run.
type Options struct {
	// OutDir receives the captures, truth.json and lab.log. It is created
	// if needed; files of an earlier run are overwritten.
	OutDir string
	// AgentPath is the executable that runs traffic agents as
	// `AgentPath lab agent KIND …`; empty means this executable.
	AgentPath string
	// Timeout bounds the whole run; 0 means the scenario's own limit.
	Timeout time.Duration
}

// Result describes a finished run. It is also what truth.json holds.
type Result struct {
	Scenario string `json:"scenario"`
	Doc      string `json:"doc"`
	Truth    Truth  `json:"truth"`
	// Setup lists the commands that injected the fault and configured the
	// endpoints, as "node# command".
	Setup []string `json:"setup"`
	// Topology lists the links and addresses.
	Topology string `json:"topology"`
	// Captures are in path order, client side first.
	Captures []Capture `json:"captures"`
	// Kernel is the release of the kernel that made the captures.
	Kernel string `json:"kernel"`
	// Dir is the directory holding the files.
	Dir string `json:"-"`
}

// Capture is one capture file of a run.
type Capture struct {
	File      string `json:"file"`    // name in the output directory: 01-client.pcap
	Vantage   string `json:"vantage"` // the file name without NN- and extension
	Node      string `json:"node"`
	Interface string `json:"interface"`
	Addr      string `json:"addr,omitempty"` // the interface's IPv4 address
	Packets   int    `json:"packets"`        // as counted by tcpdump
	Dropped   int    `json:"dropped"`        // packets tcpdump says the kernel dropped
}

// WriteTruth writes the result as truth.json in its directory.
func (r *Result) WriteTruth() error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "<->" and quotes readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.Dir, "truth.json"), b.Bytes(), 0o644)
}

// ReadResult loads the truth.json of a run's directory, such as a folder
// of examples/.
func ReadResult(dir string) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("lab: %s: %w", filepath.Join(dir, "truth.json"), err)
	}
	r.Dir = dir
	return &r, nil
}

// Path returns the path of a capture file.
func (r *Result) Path(c Capture) string { return filepath.Join(r.Dir, c.File) }

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
	if err := l.sc.run(ctx, l); err != nil {
		return nil, fmt.Errorf("traffic: %w", err)
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

// build creates the namespaces, links, addresses and routes.
func (l *lab) build(ctx context.Context) error {
	t := l.topo
	for _, n := range t.nodes {
		if err := l.sh(ctx, "", "ip", "netns", "add", l.ns(n)); err != nil {
			return err
		}
		// No IPv6: its neighbour discovery would only add noise.
		if err := l.shf(ctx, n, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1"); err != nil {
			return err
		}
		if err := l.shf(ctx, n, "ip link set lo up"); err != nil {
			return err
		}
	}
	for _, k := range t.links {
		mtu := k.mtu
		if mtu == 0 {
			mtu = 1500
		}
		m := fmt.Sprint(mtu)
		if err := l.sh(ctx, "", "ip", "link", "add", k.a.dev, "netns", l.ns(k.a.node), "address", k.a.mac(), "mtu", m,
			"type", "veth", "peer", "name", k.b.dev, "netns", l.ns(k.b.node), "address", k.b.mac(), "mtu", m); err != nil {
			return err
		}
	}
	if len(t.bridge) > 0 {
		node := t.bridge[0].node
		if err := l.shf(ctx, node, "ip link add br0 type bridge"); err != nil {
			return err
		}
		for _, p := range t.bridge {
			if err := l.shf(ctx, node, "ip link set "+p.dev+" master br0"); err != nil {
				return err
			}
		}
		if err := l.shf(ctx, node, "ip link set br0 up"); err != nil {
			return err
		}
	}
	for _, n := range t.nodes {
		devs := t.devs(n)
		if err := l.sh(ctx, n, l.agent("offload", devs...)...); err != nil {
			return err
		}
		for _, d := range devs {
			if a := t.addrOf(n, d); a != "" {
				if err := l.shf(ctx, n, "ip addr add "+a+"/24 dev "+d); err != nil {
					return err
				}
			}
			if err := l.shf(ctx, n, "ip link set "+d+" up"); err != nil {
				return err
			}
		}
	}
	for _, r := range t.routers {
		if err := l.shf(ctx, r, "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0"); err != nil {
			return err
		}
	}
	for _, r := range t.routes {
		if err := l.shf(ctx, r.node, "ip route add "+r.dst+" via "+r.via); err != nil {
			return err
		}
	}
	return nil
}

// freeze stops every node from sending (stalled connections retransmit
// until the end), then waits until packets in flight have crossed the path
// and every tcpdump has written what it received. Without it the captures
// would end at slightly different moments, and a packet caught by one
// capture point but not yet by the next would look lost.
func (l *lab) freeze(ctx context.Context) error {
	for _, n := range l.topo.nodes {
		if err := l.shf(ctx, n, "iptables -I OUTPUT 1 -j DROP"); err != nil {
			return fmt.Errorf("freezing: %w", err)
		}
	}
	l.logf("traffic frozen (locally generated packets dropped everywhere)")
	return l.waitCapturesIdle(ctx)
}

// stopProcs ends the agents and servers still running.
func (l *lab) stopProcs() {
	l.mu.Lock()
	ps := l.procs
	l.procs = nil
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop(time.Second)
		}()
	}
	wg.Wait()
}

// teardown stops everything and deletes the namespaces. It runs on every
// exit path of Run, including a panic; it uses its own context because the
// run's may have expired.
func (l *lab) teardown() {
	l.stopProcs()
	for _, t := range l.dumps {
		t.cmd.Process.Kill()
		<-t.done
	}
	l.dumps = nil
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range l.topo.nodes {
		if err := deleteNetns(ctx, l.nsOf[n]); err != nil {
			l.logf("teardown: %v", err)
		}
	}
}

func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return "Linux " + string(b)
}
