package lab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Result describes a finished run. It is also what truth.json holds.
type Result struct {
	Scenario string `json:"scenario"`
	Doc      string `json:"doc"`
	Truth    Truth  `json:"truth"`
	// Setup lists the commands that injected the fault and configured the
	// endpoints, as "node# command".
	Setup []string `json:"setup"`
	// Topology lists the links and addresses.
	Topology string `json:"topology"`
	// Captures are in path order, client side first.
	Captures []Capture `json:"captures"`
	// Kernel is the release of the kernel that made the captures.
	Kernel string `json:"kernel"`
	// Dir is the directory holding the files.
	Dir string `json:"-"`
}

// Capture is one capture file of a run.
type Capture struct {
	File      string `json:"file"`    // name in the output directory: 01-client.pcap
	Vantage   string `json:"vantage"` // the file name without NN- and extension
	Node      string `json:"node"`
	Interface string `json:"interface"`
	Addr      string `json:"addr,omitempty"` // the interface's IPv4 address
	Packets   int    `json:"packets"`        // as counted by tcpdump
	Dropped   int    `json:"dropped"`        // packets tcpdump says the kernel dropped
}

// WriteTruth writes the result as truth.json in its directory.
func (r *Result) WriteTruth() error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "<->" and quotes readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.Dir, "truth.json"), b.Bytes(), 0o644)
}

// ReadResult loads the truth.json of a run's directory, such as a folder
// of examples/.
func ReadResult(dir string) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("lab: %s: %w", filepath.Join(dir, "truth.json"), err)
	}
	r.Dir = dir
	return &r, nil
}

// Path returns the path of a capture file.
func (r *Result) Path(c Capture) string { return filepath.Join(r.Dir, c.File) }

func kernelRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	var b []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return "Linux " + string(b)
}
