// Package tshark runs tshark for tests that compare wiresleuth with it. A
// missing tshark fails the test: the test script installs it, and CI must
// not silently skip the comparison.
package tshark

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// Run runs tshark with args (a "-r FILE" is the caller's) and returns its
// standard output. "-o tcp.desegment_tcp_streams:FALSE" style options are the
// caller's choice; this adds nothing but -n (no name resolution).
func Run(t testing.TB, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark not installed (run ./scripts/test.sh as root, or apt-get install tshark): %v", err)
	}
	cmd := exec.Command(path, append([]string{"-n"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		// tshark exits 2 on a damaged file after printing what it read;
		// the caller compares what was printed.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
	}
	return out.String()
}

// Fields runs tshark -T fields on file with the given fields (and any extra
// arguments, e.g. a display filter "-Y", "tcp") and returns one row per
// frame, each a slice of field values as tshark printed them.
func Fields(t testing.TB, file string, fields []string, extra ...string) [][]string {
	t.Helper()
	args := []string{"-r", file, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	args = append(args, extra...)
	out := Run(t, args...)
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" && len(fields) > 1 {
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	if out == "" {
		return nil
	}
	return rows
}
