package lab

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/wiresleuth/wiresleuth/lab/internal/agent"
)

const usage = `usage:
  lab list                      list the scenarios
  lab run NAME --out DIR        run a scenario (as root); captures and truth.json go to DIR
  lab run NAME --out DIR --no-verify
                                skip reading the captures back with tshark
  lab sweep                     remove namespaces left by lab runs that were killed

Exit status: 0 done, 1 the run or its verification failed, 2 usage error or not root.
`

// Command implements `lab list`, `lab run NAME --out DIR` and the hidden
// `lab agent KIND …` that the lab itself starts inside namespaces. args
// are the arguments after "lab". It returns the exit status.
func Command(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "list":
		return list(stdout)
	case "run":
		return run(args[1:], stdout, stderr)
	case "sweep":
		return sweep(stdout, stderr)
	case "agent":
		return agent.Main(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "lab: unknown command %q\n%s", args[0], usage)
	return 2
}

func list(stdout io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	for _, s := range Scenarios() {
		fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Doc)
	}
	tw.Flush()
	return 0
}

func sweep(stdout, stderr io.Writer) int {
	if err := CheckHost(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	removed, err := Sweep(context.Background())
	for _, ns := range removed {
		fmt.Fprintln(stdout, "removed", ns)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lab run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output directory")
	noVerify := fs.Bool("no-verify", false, "do not check the captures with tshark")
	timeout := fs.Duration("timeout", 0, "bound on the run (default: the scenario's own)")
	// Accept the name before or after the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" || *out == "" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if _, ok := Lookup(name); !ok {
		fmt.Fprintf(stderr, "lab: unknown scenario %q; `lab list` shows them\n", name)
		return 2
	}
	if err := CheckHost(); err != nil {
		fmt.Fprintln(stderr, err)
		if errors.Is(err, ErrNotRoot) {
			return 2
		}
		return 1
	}
	// Interrupts cancel the run, which then tears down its namespaces.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := Run(ctx, name, Options{OutDir: *out, Timeout: *timeout})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s (%.1fs)\n", res.Scenario, res.Doc, time.Since(start).Seconds())
	for _, c := range res.Captures {
		fmt.Fprintf(stdout, "  %s\t%d packets\n", res.Path(c), c.Packets)
	}
	if *noVerify {
		return 0
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		fmt.Fprintln(stdout, "not verified: tshark is not installed")
		return 0
	}
	lines, err := Verify(ctx, res)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "verified with tshark: %d checks passed\n", len(lines))
	return 0
}
