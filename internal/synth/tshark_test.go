package synth

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checksumPrefs make tshark verify every checksum it can and print
// absolute sequence numbers.
var checksumPrefs = []string{
	"-o", "tcp.check_checksum:TRUE",
	"-o", "udp.check_checksum:TRUE",
	"-o", "ip.check_checksum:TRUE",
	"-o", "tcp.relative_sequence_numbers:FALSE",
}

// runTool runs a Wireshark tool; CI installs them, so a missing tool fails.
func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not installed (scripts/test.sh installs it): %v", name, err)
	}
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// fields returns tshark's -T fields output, one []string per frame.
func fields(t testing.TB, file, filter string, names ...string) [][]string {
	t.Helper()
	args := append([]string{"-n", "-r", file}, checksumPrefs...)
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	args = append(args, "-T", "fields", "-E", "separator=|")
	for _, n := range names {
		args = append(args, "-e", n)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(runTool(t, "tshark", args...), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "|"))
		}
	}
	return rows
}

// checkFields compares tshark's fields for every frame with want (one
// "|"-joined row per frame).
func checkFields(t testing.TB, file string, names []string, want ...string) {
	t.Helper()
	rows := fields(t, file, "", names...)
	if len(rows) != len(want) {
		t.Fatalf("%s: tshark saw %d frames, want %d", file, len(rows), len(want))
	}
	for i, r := range rows {
		if got := strings.Join(r, "|"); got != want[i] {
			t.Errorf("%s frame %d: %v\n got %s\nwant %s", filepath.Base(file), i+1, names, got, want[i])
		}
	}
}

var expertSection = regexp.MustCompile(`^(Errors|Warns|Notes|Chats) \(\d+\)`)

// expert returns tshark's expert-info summary lines ("Protocol: Summary")
// by severity (Errors, Warns, Notes, Chats).
func expert(t testing.TB, file string) map[string][]string {
	t.Helper()
	args := append([]string{"-n", "-r", file, "-q", "-z", "expert"}, checksumPrefs...)
	out := runTool(t, "tshark", args...)
	res := map[string][]string{}
	sec := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := expertSection.FindStringSubmatch(line); m != nil {
			sec = m[1]
			continue
		}
		f := strings.Fields(line)
		if sec == "" || len(f) < 4 || f[0] == "Frequency" || strings.HasPrefix(f[0], "=") {
			continue
		}
		res[sec] = append(res[sec], f[2]+": "+strings.Join(f[3:], " "))
	}
	return res
}

// checkClean fails if tshark reports errors (malformed packets, bad
// checksums) or warnings other than those matching allow.
func checkClean(t testing.TB, file string, allow ...string) {
	t.Helper()
	ex := expert(t, file)
	for _, sev := range []string{"Errors", "Warns"} {
	next:
		for _, s := range ex[sev] {
			for _, a := range allow {
				if strings.Contains(s, a) {
					continue next
				}
			}
			t.Errorf("%s: tshark %s: %s", filepath.Base(file), sev, s)
		}
	}
}

func tempFile(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(t.TempDir(), name)
}

func writeFrames(t testing.TB, name string, lt LinkType, frames []Frame) string {
	t.Helper()
	p := tempFile(t, name)
	if err := WriteFile(p, lt, frames); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SYNTH_KEEP") != "" {
		// Handy when a comparison fails: keep the file for Wireshark.
		data, _ := os.ReadFile(p)
		_ = os.WriteFile(filepath.Join(os.TempDir(), name), data, 0o644)
	}
	return p
}
