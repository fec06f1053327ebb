package conn

import (
	"testing"
	"unsafe"
)

// TestConnStateSize guards the memory bound: a live connection is one
// connState, and the SYN-scan figures (about 1.9 KB per live connection
// with the map, timers and evidence) assume it fits Go's 1536-byte size
// class. Grow it only on purpose, and move what few connections need into
// the on-demand parts (sideSpare).
func TestConnStateSize(t *testing.T) {
	if n := unsafe.Sizeof(connState{}); n > 1536 {
		t.Errorf("connState is %d bytes, more than the 1536-byte size class", n)
	}
}
