package correlate

import (
	"context"
	"os"
	"path/filepath"
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

// TestLabPathDropsLive makes fresh path-drops captures on the real Linux
// stack (as root; CI runs it) and holds the correlation to the same
// standard as the committed example: every drop at its router, nothing
// claimed where a capture was not running. Timing differs from run to
// run, so this catches what one example cannot.
func TestLabPathDropsLive(t *testing.T) {
	if err := lab.CheckHost(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if testing.Short() {
		t.Skip("skipping the live lab run in -short mode")
	}
	dir := filepath.Join(t.TempDir(), "path-drops")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := lab.Run(ctx, "path-drops", lab.Options{OutDir: dir}); err != nil {
		t.Fatalf("lab: %v", err)
	}
	checkPathDrops(t, dir)
}
