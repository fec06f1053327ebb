package diagnose_test

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/lab"
)

// agentEnv is the variable under which the lab re-executes this test
// binary as its traffic agent (`TESTBINARY lab agent KIND …`).
const agentEnv = "WIRESLEUTH_LAB_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(agentEnv) != "" && len(os.Args) > 1 && os.Args[1] == "lab" {
		os.Exit(lab.Command(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Setenv(agentEnv, "1")
	os.Exit(m.Run())
}

// TestLabLive recreates every fault on the real Linux stack (as root: CI
// runs this) and judges the diagnosis of the fresh captures against each
// scenario's truth, as TestExamples does for the committed ones.
func TestLabLive(t *testing.T) {
	if err := lab.CheckHost(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	t.Cleanup(stop) // after the parallel subtests, which run once this function returns
	for _, s := range lab.Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), s.Name)
			ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
			defer cancel()
			if _, err := lab.Run(ctx, s.Name, lab.Options{OutDir: dir}); err != nil {
				t.Fatalf("lab: %v", err)
			}
			judge(t, dir)
		})
	}
}
