package lab

import (
	"context"
	"flag"
	"os"
	"strings"
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
	// Scenarios mostly wait on timers: run several at once even on a
	// two-CPU machine, unless -test.parallel says otherwise.
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", "6")
	}
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

func TestScenarios(t *testing.T) {
	needRoot(t)
	for _, s := range Scenarios() {
		if s.run == nil {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, s.Name)
		})
	}
}
