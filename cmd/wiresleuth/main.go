// Command wiresleuth diagnoses network faults from packet captures.
//
// Exit status: 0 success (for diagnose: no error findings), 1 diagnose
// found errors, 2 unusable input or usage.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"

	"github.com/wiresleuth/wiresleuth/lab"
)

// command is one subcommand: flags → run → render → exit code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"diagnose": {"name the faults in one or more captures, with evidence and next steps", runDiagnose},
		"apps":     {"application transactions (HTTP, FTP, DNS, TLS, ONC RPC): request, reply, status, latency", runApps},
		"conv":     {"conversation table: one row per TCP stream and UDP 4-tuple (as tshark -z conv)", runConv},
		"conns":    {"connections as Zeek's conn.log (conn_state, history…) plus troubleshooting detail", runConns},
		"flags":    {"TCP flag histogram per sender ([S], [S.], [.], [P.], [F.], [R] …)", runFlags},
		"packets":  {"one line per packet, tcpdump style; -Y filter; -T fields -e FIELD as tshark", runPackets},
		"fields":   {"list the field names packets -e and -Y understand", runFields},
		"lab":      {"recreate a fault on the real Linux stack in network namespaces (root): lab list, lab run NAME --out DIR", lab.Command},
		"version":  {"print the version", func(_ []string, w, _ io.Writer) int { fmt.Fprintln(w, "wiresleuth", version); return 0 }},
	}
}

const version = "0.1.0-dev"

func main() {
	// WIRESLEUTH_CPUPROFILE=FILE writes a CPU profile, for performance work.
	if path := os.Getenv("WIRESLEUTH_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			code := run(os.Args[1:], os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "wiresleuth: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "wiresleuth diagnoses network faults from packet captures.")
	fmt.Fprintln(w, "\nUsage: wiresleuth COMMAND [flags] FILE...   (FILE may be - for stdin, or a directory)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun wiresleuth COMMAND -h for its flags.")
}
