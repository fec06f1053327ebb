package lab

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// agentEnv makes the test binary act as the traffic agent: the lab starts
// `TESTBINARY lab agent KIND …` inside namespaces, and the variable,
// inherited from the test process, sends that invocation here.
const agentEnv = "WIRESLEUTH_LAB_AGENT"

var (
	keep     = flag.Bool("lab.keep", false, "keep the output directories of scenario runs (their paths are logged)")
	examples = flag.String("lab.examples", "", "write each scenario's captures to `DIR`/NAME and DIR/README.md (regenerates ../examples)")
)

// testCtx ends on SIGINT or SIGTERM, so that an interrupted test run still
// tears its namespaces down.
var testCtx context.Context

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
		flag.Set("test.parallel", fmt.Sprint(max(4, runtime.GOMAXPROCS(0))))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	testCtx = ctx
	code := m.Run()
	stop()
	os.Exit(code)
}

// needRoot skips when the lab cannot run here and says why.
func needRoot(t *testing.T) {
	t.Helper()
	if err := CheckHost(); err != nil {
		t.Skipf("skipping: %v", err)
	}
}

// TestScenarios runs every scenario and checks with tshark that the fault
// happened and the captures are complete.
func TestScenarios(t *testing.T) {
	needRoot(t)
	if *examples != "" {
		t.Cleanup(func() {
			if !t.Failed() {
				writeExamplesReadme(t, *examples)
			}
		})
	}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			switch {
			case *examples != "":
				dir = filepath.Join(*examples, s.Name)
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
			case *keep:
				var err error
				if dir, err = os.MkdirTemp("", "lab-"+s.Name+"-"); err != nil {
					t.Fatal(err)
				}
				t.Logf("output in %s", dir)
			}
			res := runAndVerify(t, s.Name, dir)
			checkResult(t, res)
			if *examples != "" {
				compressExample(t, res)
			}
		})
	}
}

// runAndVerify runs a scenario into dir and verifies its captures.
func runAndVerify(t *testing.T, name, dir string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(testCtx, 2*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, name, Options{OutDir: dir})
	cancel()
	if err != nil {
		logLabLog(t, dir)
		t.Fatal(err)
	}
	t.Logf("%s ran in %.1fs", name, time.Since(start).Seconds())
	ctx, cancel = context.WithTimeout(testCtx, 3*time.Minute)
	defer cancel()
	lines, err := Verify(ctx, res)
	t.Logf("checks:\n%s", strings.Join(lines, "\n"))
	if err != nil {
		logLabLog(t, dir)
		t.Fatal(err)
	}
	return res
}

func logLabLog(t *testing.T, dir string) {
	if log, err := os.ReadFile(filepath.Join(dir, "lab.log")); err == nil {
		t.Logf("lab.log:\n%s", log)
	}
}

// checkResult checks what Run promises about its output: captures in path
// order named NN-vantage.pcap, truth.json that reads back the same.
func checkResult(t *testing.T, res *Result) {
	t.Helper()
	sc, _ := Lookup(res.Scenario)
	vs := sc.topo().vantages
	if len(res.Captures) != len(vs) {
		t.Fatalf("%d captures for %d vantage points", len(res.Captures), len(vs))
	}
	for i, c := range res.Captures {
		want := filepath.Join(res.Dir, c.File)
		if c.Vantage != vs[i].name || c.File != fmt.Sprintf("%02d-%s.pcap", i+1, vs[i].name) {
			t.Errorf("capture %d: %s as %s, want vantage %s", i, c.File, c.Vantage, vs[i].name)
		}
		if _, err := os.Stat(want); err != nil {
			t.Error(err)
		}
	}
	back, err := ReadResult(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Scenario != res.Scenario || len(back.Captures) != len(res.Captures) || len(back.Truth.Expect) != len(res.Truth.Expect) {
		t.Errorf("truth.json reads back as %+v", back)
	}
}

// labNetns lists the namespaces whose names start with prefix.
func labNetns(t *testing.T, prefix string) []string {
	t.Helper()
	entries, err := os.ReadDir(netnsDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}
