package capture

import (
	"errors"
	"fmt"
)

// Error categories, for errors.Is.
var (
	// ErrNotCapture: the input is not a pcap or pcapng file (after
	// decompression).
	ErrNotCapture = errors.New("not a capture file")
	// ErrTruncated: the file ends in the middle of a record or block.
	ErrTruncated = errors.New("truncated")
	// ErrCorrupt: a header or block is inconsistent (impossible length,
	// bad trailer, unknown interface). Reading cannot safely continue.
	ErrCorrupt = errors.New("corrupt")
)

// Error locates a read error in a capture file.
type Error struct {
	File   string // file name as given, "-" for standard input
	Frame  int64  // number of the frame being read (1-based); 0 while reading the file header
	Offset int64  // byte offset of the record or block in the (decompressed) stream
	Err    error  // wraps one of the categories above, or an I/O error
}

func (e *Error) Error() string {
	if e.Frame == 0 {
		return fmt.Sprintf("capture: %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("capture: %s: frame %d at byte %d: %v", e.File, e.Frame, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
