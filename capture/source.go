package capture

import (
	"bufio"
	"io"
	"os"
	"runtime/debug"
	"syscall"
)

// source is where records are read from: a bufio.Reader over a (possibly
// decompressed) stream, or a memory-mapped plain file. Both hand out
// records in place with Peek and consume them with Discard.
type source interface {
	io.Reader
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

var _ source = (*bufio.Reader)(nil)

// mapped is a plain capture file mapped into memory: reading a record is a
// slice of the mapping, with no read system call and no copy. A file
// truncated by another process while mapped makes the next access fault;
// the reader turns that fault into ErrTruncated (see Reader.Next).
type mapped struct {
	data     []byte
	off      int
	released int // pages before this offset were handed back (see Discard)
}

// Read pages are handed back to the kernel once the reader is this far
// past them, so the process's resident memory stays bounded however large
// the file (the pages stay in the page cache; a late access re-reads them).
const (
	releaseLag   = 16 << 20
	releaseChunk = 32 << 20
)

func (m *mapped) Peek(n int) ([]byte, error) {
	rest := m.data[m.off:]
	if n > len(rest) {
		return rest, io.EOF
	}
	return rest[:n], nil
}

func (m *mapped) Discard(n int) (int, error) {
	n = min(n, len(m.data)-m.off)
	m.off += n
	if m.off-m.released > releaseLag+releaseChunk {
		end := (m.off - releaseLag) &^ (os.Getpagesize() - 1)
		syscall.Madvise(m.data[m.released:end], syscall.MADV_DONTNEED)
		m.released = end
	}
	return n, nil
}

// Read copies, for a decompressor reading a compressed file.
func (m *mapped) Read(b []byte) (int, error) {
	if m.off >= len(m.data) {
		return 0, io.EOF
	}
	n := copy(b, m.data[m.off:])
	m.off += n
	return n, nil
}

func (m *mapped) Close() error { return syscall.Munmap(m.data) }

// mapFile maps a regular, non-empty file read-only, or returns nil when it
// cannot (not a regular file, empty, too large for the address space, or
// the system refuses): the caller then reads it with read(2).
func mapFile(f *os.File) *mapped {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() == 0 || st.Size() > 1<<46 {
		return nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	syscall.Madvise(data, syscall.MADV_SEQUENTIAL)
	return &mapped{data: data}
}

// faultGuard makes a fault on the mapping (the file shrank under us) a
// recoverable panic in this goroutine instead of a crash; Next recovers it
// into an error. It returns the previous setting, to restore.
func faultGuard() bool { return debug.SetPanicOnFault(true) }

// touch reads one byte of every page of a mapped record while the fault
// guard of Next is in place, so that a file truncated under us fails here,
// as an error, rather than in the caller decoding the frame. (A truncation
// racing between Next and the decoding of that frame is not covered.)
func (r *Reader) touch(b []byte) {
	if !r.mapped || len(b) == 0 {
		return
	}
	var sink byte
	for i := 0; i < len(b); i += 4096 {
		sink ^= b[i]
	}
	r.sink = sink ^ b[len(b)-1]
}
