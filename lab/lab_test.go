package lab

import (
	"context"
	"flag"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// agentEnv makes the test binary act as the traffic agent: the lab starts
// `TESTBINARY lab agent KIND …` inside namespaces, and the variable,
// inherited from the test process, sends that invocation here.
const agentEnv = "WIRESLEUTH_LAB_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(agentEnv) != "" && len(os.Args) > 1 && os.Args[1] == "lab" {
		os.Exit(Command(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Setenv(agentEnv, "1")
	os.Exit(m.Run())
}

var keep = flag.Bool("lab.keep", false, "keep the output directories of scenario runs (printed in the log)")

// runScenario runs one scenario into a fresh directory and verifies it.
func runScenario(t *testing.T, name string) *Result {
	t.Helper()
	dir := t.TempDir()
	if *keep {
		var err error
		if dir, err = os.MkdirTemp("", "lab-"+name+"-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("output in %s", dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, name, Options{OutDir: dir})
	if err != nil {
		if log, rerr := os.ReadFile(dir + "/lab.log"); rerr == nil {
			t.Logf("lab.log:\n%s", log)
		}
		t.Fatal(err)
	}
	t.Logf("%s ran in %.1fs", name, time.Since(start).Seconds())
	lines, err := Verify(ctx, res)
	t.Logf("checks:\n%s", strings.Join(lines, "\n"))
	if err != nil {
		if log, rerr := os.ReadFile(dir + "/lab.log"); rerr == nil {
			t.Logf("lab.log:\n%s", log)
		}
		t.Fatal(err)
	}
	return res
}

// needRoot skips when the lab cannot run here and says why.
func needRoot(t *testing.T) {
	t.Helper()
	if err := CheckHost(); err != nil {
		t.Skipf("skipping lab scenarios: %v", err)
	}
}

var parallelRuns = make(chan struct{}, 4)
var _ sync.Mutex

func TestScenarios(t *testing.T) {
	needRoot(t)
	for _, s := range Scenarios() {
		if s.run == nil {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			parallelRuns <- struct{}{}
			defer func() { <-parallelRuns }()
			runScenario(t, s.Name)
		})
	}
}
