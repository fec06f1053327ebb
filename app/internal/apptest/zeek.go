package apptest

import (
	"os"
	"path/filepath"
	"testing"
)

// ZeekTraces returns the directory of Zeek's regression traces
// (shared/peers/zeek beside the repository, see DESIGN.md), found by
// walking up from the working directory. It fails the test when the
// directory is missing: CI has it.
func ZeekTraces(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "peers", "zeek")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("shared/peers/zeek not found beside the repository (see DESIGN.md)")
		}
		dir = parent
	}
}
