package apptest

import (
	"os/exec"
	"strings"
	"testing"
)

// Tshark runs tshark on a capture with a display filter and returns one row
// per matching frame: frame.number followed by the requested fields. It fails
// the test (never skips) when tshark is missing: CI installs it.
func Tshark(t testing.TB, pcap string, decodeAs []string, filter string, fields ...string) [][]string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark is required for this comparison (scripts/test.sh installs it): %v", err)
	}
	args := []string{"-n", "-r", pcap, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number"}
	for _, d := range decodeAs {
		args = append(args, "-d", d)
	}
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	return rows
}
