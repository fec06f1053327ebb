package lab

import (
	"context"
	"fmt"
	"time"
)

// Scenario is one fault recreated in the lab.
type Scenario struct {
	Name  string
	Doc   string // one line: the fault and the story it comes from
	Truth Truth

	needs  []string // programs the scenario runs besides the lab's usual tools
	topo   func() *topology
	setup  []step                                  // the fault and endpoint settings, applied before capturing
	run    func(ctx context.Context, l *lab) error // starts servers and runs the clients
	check  func(v *verifier)                       // what the captures must show
	settle time.Duration                           // wait after the clients before stopping captures
	limit  time.Duration                           // hard bound on the whole run
	// late starts the named vantage points' captures, and early stops
	// them, this long after the traffic starts: captures that overlap
	// only partly, as captures started by hand on several machines do.
	late, early map[string]time.Duration
}

// step is a command run in a node.
type step struct {
	node, cmd string
}

// Ports the scenarios use.
const (
	webPort     = 80
	blockedPort = 8080
	ftpPort     = 2811
	bulkPort    = 5001
	rpcPort     = 111
)

// Scenarios returns every scenario, in the order `lab list` shows them.
func Scenarios() []Scenario {
	list := []Scenario{
		healthy(),
		synDrop(),
		rejectPortUnreachable(),
		rejectAdminProhibited(),
		rejectTCPReset(),
		closedPort(),
		finLost(),
		conntrackIdleReset(),
		pmtuBlackhole(),
		burstDrop(),
		bulkRandomLoss(),
		snatMSSClamp(),
		timewaitReuse(),
		httpKeepalive(),
		httpNoKeepalive(),
		oncrpc(),
		duplicateForwarding(),
		pathDrops(),
	}
	for i := range list {
		if list[i].topo == nil {
			list[i].topo = oneRouter
		}
		if list[i].settle == 0 {
			list[i].settle = 300 * time.Millisecond
		}
		if list[i].limit == 0 {
			list[i].limit = 40 * time.Second
		}
		// Empty lists, not null, in truth.json.
		if list[i].Truth.Expect == nil {
			list[i].Truth.Expect = []string{}
		}
		if list[i].Truth.Facts == nil {
			list[i].Truth.Facts = []Fact{}
		}
	}
	return list
}

// Lookup returns the scenario with the given name.
func Lookup(name string) (*Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return &s, true
		}
	}
	return nil, false
}

// Helpers shared by the scenarios' traffic.

// web starts the HTTP agent on the server.
func (l *lab) web(ctx context.Context, port int, keepalive bool) error {
	_, err := l.server(ctx, server, port, l.agent("http-server",
		"-listen", fmt.Sprintf(":%d", port), fmt.Sprintf("-keepalive=%v", keepalive))...)
	return err
}

// get runs the HTTP client agent on the client against serverAddr:port.
func (l *lab) get(ctx context.Context, port int, args ...string) error {
	return l.client(ctx, client, l.agent("http-client",
		append([]string{"-server", fmt.Sprintf("%s:%d", serverAddr, port)}, args...)...)...)
}

func ep(addr string, port int) string { return fmt.Sprintf("%s:%d", addr, port) }
