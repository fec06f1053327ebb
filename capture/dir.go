package capture

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
)

// Expand turns command-line arguments into capture file names: a directory
// stands for the capture files directly inside it, sorted by name. Files in
// a directory that are not captures (a README, a truth.json) are returned in
// skipped rather than treated as errors; a named file that is not a capture
// is left for Open to reject.
func Expand(args []string) (files, skipped []string, err error) {
	for _, a := range args {
		if a == "-" {
			files = append(files, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, &Error{File: a, Err: err}
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, nil, &Error{File: a, Err: err}
		}
		var names []string
		for _, e := range ents {
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			p := filepath.Join(a, n)
			if IsCapture(p) {
				files = append(files, p)
			} else {
				skipped = append(skipped, p)
			}
		}
	}
	return files, skipped, nil
}

// IsCapture reports whether the file at path opens as a capture.
func IsCapture(path string) bool {
	r, err := Open(path)
	if err != nil {
		return !errors.Is(err, ErrNotCapture) && !errors.Is(err, os.ErrNotExist)
	}
	r.Close()
	return true
}
