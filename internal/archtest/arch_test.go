package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/wiresleuth/wiresleuth/"

// rank orders packages along the pipeline: a package may import only
// packages of lower rank. Packages under a prefix take the prefix's rank
// unless listed themselves.
var rank = map[string]int{
	"capture": 0, "header": 0, "seqnum": 0, "flow": 0,
	"internal/corpus": 0, "internal/tshark": 0, "internal/synth": 0, "app/internal/lines": 0,
	"packet": 1,
	"tcp":    2, "app": 2,
	"app/": 3, "tcp/reasm": 3, "conn": 3, "app/internal/apptest": 3,
	"pipeline": 4,
	"fields":   5, "pktline": 5, "app/dispatch": 5,
	"convtable": 6, "flagstat": 6, "dfilter": 6, "report/conns": 6, "internal/synth/gencap": 6,
	"app/track": 6, "report/txns": 6, // the app decoders run over a pipeline; transactions as tables
	"detect":            7,
	"detect/progress":   8, // an observer the detector families share
	"detect/":           9,
	"correlate":         8,
	"detect/all":        10,
	"report":            9,
	"diagnose":          10,
	"cmd/":              11,
	"lab":               0, // the lab makes faults; it must not depend on what diagnoses them
	"lab/":              0,
	"internal/archtest": 12,
}

// rankOf returns a package's rank: its own entry, or that of the longest
// prefix ("detect/") it falls under.
func rankOf(pkg string) (int, bool) {
	if r, ok := rank[pkg]; ok {
		return r, true
	}
	best, r := "", 0
	for prefix, pr := range rank {
		if strings.HasSuffix(prefix, "/") && strings.HasPrefix(pkg, prefix) && len(prefix) > len(best) {
			best, r = prefix, pr
		}
	}
	return r, best != ""
}

type listed struct {
	ImportPath string
	Dir        string
	Doc        string
	Imports    []string
	GoFiles    []string
	Name       string
}

func packages(t *testing.T) []listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"...")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(&out)
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestDependenciesPointDown: no package imports one later in the pipeline
// (or of the same rank), so the layering of DEVELOPERS.md holds.
func TestDependenciesPointDown(t *testing.T) {
	for _, p := range packages(t) {
		name := strings.TrimPrefix(p.ImportPath, module)
		r, ok := rankOf(name)
		if !ok {
			t.Errorf("%s has no rank: add it to internal/archtest's table", name)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			dr, ok := rankOf(dep)
			if !ok {
				continue // reported as the package itself
			}
			sameFamily := strings.HasPrefix(dep, name+"/") || strings.HasPrefix(name, "lab") && strings.HasPrefix(dep, "lab")
			if dr >= r && !sameFamily {
				t.Errorf("%s (rank %d) imports %s (rank %d): dependencies must point down the pipeline", name, r, dep, dr)
			}
		}
	}
}

// TestPackageDocs: every package says its one job.
func TestPackageDocs(t *testing.T) {
	for _, p := range packages(t) {
		if p.Name != "main" && strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment", strings.TrimPrefix(p.ImportPath, module))
		}
	}
}

// TestNoWallClock: library code uses capture time only. The lab (which
// runs real traffic), commands and generators may read the clock.
func TestNoWallClock(t *testing.T) {
	for _, p := range packages(t) {
		name := strings.TrimPrefix(p.ImportPath, module)
		if strings.HasPrefix(name, "lab") || strings.HasPrefix(name, "cmd/") || name == "internal/synth/gencap" {
			continue
		}
		for _, f := range p.GoFiles {
			fh, err := os.Open(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(fh)
			line := 0
			for sc.Scan() {
				line++
				text := sc.Text()
				if i := strings.Index(text, "//"); i >= 0 {
					text = text[:i]
				}
				if strings.Contains(text, "time.Now()") || strings.Contains(text, "time.Since(") {
					t.Errorf("%s/%s:%d reads the wall clock", name, f, line)
				}
			}
			fh.Close()
		}
	}
}
