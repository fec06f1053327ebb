// Package agent holds the lab's traffic agents: small programs that run
// inside a scenario's network namespaces and make the traffic the fault acts
// on (HTTP, an FTP-like control channel, bulk transfers, a raw SYN client).
//
// Each agent is started as `AGENTPATH lab agent KIND flags...` through
// `ip netns exec`, writes one line per event on stdout for the lab log, and
// stops by itself: every agent has a lifetime cap so that nothing the lab
// starts can outlive a run, even if the lab is killed.
package agent

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// kinds maps an agent name to its entry point.
var kinds = map[string]func(e *env, args []string) error{
	"offload":     offload,
	"http-server": httpServer,
	"http-client": httpClient,
	"ftp-server":  ftpServer,
	"ftp-client":  ftpClient,
	"bulk-send":   bulkSend,
	"bulk-recv":   bulkRecv,
	"raw-syn":     rawSYN,
}

// Kinds lists the agent names, sorted.
func Kinds() []string {
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Main runs the agent named by args[0] with the remaining arguments and
// returns the process exit status: 0 when the agent did its job (which may
// be to observe a failure), 1 when it could not, 2 for usage errors.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: lab agent KIND [flags]; kinds: %s\n", strings.Join(Kinds(), ", "))
		return 2
	}
	run, ok := kinds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lab agent: unknown kind %q; kinds: %s\n", args[0], strings.Join(Kinds(), ", "))
		return 2
	}
	e := &env{name: args[0], out: stdout, errw: stderr}
	if err := run(e, args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 2
		}
		fmt.Fprintf(stderr, "%s: %v\n", e.name, err)
		return 1
	}
	return 0
}

// env is what every agent shares: its name and a serialised event log.
type env struct {
	name string
	mu   sync.Mutex
	out  io.Writer
	errw io.Writer
}

// say writes one event line.
func (e *env) say(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintf(e.out, format+"\n", args...)
}

// flags returns a flag set for the agent with the common -lifetime flag.
func (e *env) flags() (*flag.FlagSet, *time.Duration) {
	fs := flag.NewFlagSet("lab agent "+e.name, flag.ContinueOnError)
	fs.SetOutput(e.errw)
	life := fs.Duration("lifetime", 60*time.Second, "exit after this long whatever happens")
	return fs, life
}

// dieAfter ends the process after d: the last line of defence against an
// agent outliving its scenario.
func (e *env) dieAfter(d time.Duration) {
	time.AfterFunc(d, func() {
		e.say("lifetime of %v reached, exiting", d)
		os.Exit(3)
	})
}

// burst calls f(i) for i in [0,n) in goroutines started spacing apart and
// waits for all of them: the start pattern of many clients at once.
func burst(n int, spacing time.Duration, f func(i int)) {
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		if d := time.Until(start.Add(time.Duration(i) * spacing)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}
