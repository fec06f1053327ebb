package apptest

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteSeed writes one fuzz corpus entry (Go's "go test fuzz v1" format)
// under dir/testdata/fuzz/target, named by its content's hash. Arguments may
// be []byte, string, uint8, uint16, int or bool.
func WriteSeed(dir, target string, args ...any) error {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%d)\n", v)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		default:
			return fmt.Errorf("apptest: seed argument of type %T", a)
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	path := filepath.Join(dir, "testdata", "fuzz", target, fmt.Sprintf("%x", sum[:8]))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
