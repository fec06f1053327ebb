package lab

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// examplesDir is where the committed captures live, relative to this
// package.
const examplesDir = "../examples"

// Captures above this size are committed gzip-compressed (wiresleuth and
// tshark read .pcap.gz as they are); the rest stay plain for any tool.
const compressAbove = 64 << 10

// compressExample gzips the large captures of an example folder and
// rewrites its truth.json to name them.
func compressExample(t *testing.T, res *Result) {
	t.Helper()
	changed := false
	for i, c := range res.Captures {
		path := res.Path(c)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() <= compressAbove {
			continue
		}
		if err := gzipFile(path, path+".gz"); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		res.Captures[i].File += ".gz"
		changed = true
	}
	if !changed {
		return
	}
	if err := res.WriteTruth(); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(testCtx, res); err != nil {
		t.Fatalf("after compression: %v", err)
	}
}

// gzipFile writes a deterministic gzip (no name, no time) of src to dst.
func gzipFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(out, gzip.BestCompression)
	if err != nil {
		out.Close()
		return err
	}
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeExamplesReadme writes the index of the example folders.
func writeExamplesReadme(t *testing.T, dir string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`# Examples

Each folder is one fault recreated by wiresleuth's lab on the real Linux TCP stack (network namespaces, iptables,
tcpdump on every interface of the path) — ` + "`wiresleuth lab run NAME --out DIR`" + ` as root makes a fresh one. A folder holds:

- the captures in path order, client side first: ` + "`01-client.pcap`, `02-router-in.pcap`, …" + ` (` + "`-in`" + ` faces the client,
  ` + "`-out`" + ` the server; captures over 64 KiB are gzip-compressed, ` + "`.pcap.gz`" + `);
- ` + "`truth.json`" + `: the fault (the commands that made it), the topology, and what a perfect diagnosis of all the captures
  says — finding ids (` + "`expect`, `allow`, `worst`" + `) and facts;
- ` + "`lab.log`" + `: every command the lab ran and what the traffic agents saw.

Addresses: client 10.99.0.2, server 10.99.1.2, routers 10.99.0.1 / 10.99.1.1 (and 10.99.2.x between two routers).
Regenerate all (as root, with tshark installed): ` + "`go test ./lab -run TestScenarios -lab.examples ../examples`" + `.

| folder | fault | a perfect diagnosis names |
|---|---|---|
`)
	for _, s := range Scenarios() {
		var names []string
		if len(s.Truth.Expect) > 0 {
			names = append(names, "`"+strings.Join(s.Truth.Expect, "`, `")+"`")
		}
		if w := s.Truth.Worst; w != "" {
			names = append(names, "no finding above "+w)
		}
		fmt.Fprintf(&b, "| [%s](%s/) | %s | %s |\n", s.Name, s.Name, s.Doc, strings.Join(names, "; "))
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestExamples checks the committed example folders with tshark: each
// scenario has one, its captures are whole and still show the fault, and
// each stays small. It needs no root.
func TestExamples(t *testing.T) {
	if _, err := os.Stat(examplesDir); os.IsNotExist(err) {
		t.Skip("no examples directory yet")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatal("tshark is needed to check the examples (the test script installs it)")
	}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(examplesDir, s.Name)
			res, err := ReadResult(dir)
			if err != nil {
				t.Fatal(err)
			}
			if res.Scenario != s.Name {
				t.Fatalf("truth.json names scenario %q", res.Scenario)
			}
			if !reflect.DeepEqual(res.Truth, s.Truth) || res.Doc != s.Doc {
				t.Errorf("truth.json is stale: regenerate the examples")
			}
			if _, err := Verify(testCtx, res); err != nil {
				t.Fatal(err)
			}
			size := int64(0)
			filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					size += info.Size()
				}
				return nil
			})
			if size > 150<<10 {
				t.Errorf("%s holds %d KiB; keep examples small", dir, size>>10)
			}
		})
	}
}
