package lab

import (
	"bytes"
	"strings"
	"testing"
)

func command(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Command(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommandList(t *testing.T) {
	code, out, _ := command("list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(Scenarios()) {
		t.Fatalf("%d lines for %d scenarios:\n%s", len(lines), len(Scenarios()), out)
	}
	for i, s := range Scenarios() {
		if f := strings.Fields(lines[i]); len(f) < 2 || f[0] != s.Name {
			t.Errorf("line %d: %q, want %s and its doc", i, lines[i], s.Name)
		}
	}
}

func TestCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"run"}, "usage"},
		{[]string{"run", "healthy"}, "usage"},
		{[]string{"run", "no-such-fault", "--out", "x"}, "unknown scenario"},
		{[]string{"agent"}, "usage"},
		{[]string{"agent", "no-such-agent"}, "unknown kind"},
	} {
		code, _, errs := command(tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("lab %v: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

func TestCommandNotRoot(t *testing.T) {
	defer func(f func() int) { geteuid = f }(geteuid)
	geteuid = func() int { return 1000 }
	dir := t.TempDir()
	code, _, errs := command("run", "healthy", "--out", dir)
	if code != 2 || !strings.Contains(errs, "need root") {
		t.Errorf("exit %d, stderr %q; want 2 and a word about root", code, errs)
	}
	if _, err := Run(testCtx, "healthy", Options{OutDir: dir}); err != ErrNotRoot {
		t.Errorf("Run: %v, want ErrNotRoot", err)
	}
}
