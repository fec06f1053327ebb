package reasm

import "sync"

// Buffers are recycled across connections: a capture has many connections
// whose history rings and out-of-order copies have the same few sizes, and
// allocating them afresh for each made the garbage collector the largest
// cost of reassembling a capture. Slices handed to an app.Stream are valid
// only during the call, so a buffer can go back to its pool once delivered.

// pieceSize is the capacity of pooled out-of-order copies: a full-sized
// Ethernet segment fits. Copies of half that or less are allocated to
// size, so that a pooled buffer is never more than half empty; buffered
// pieces are charged their capacity.
const pieceSize = 2048

var (
	piecePool   = sync.Pool{New: func() any { return new([pieceSize]byte) }}
	historyPool = map[int]*sync.Pool{
		minHistory:     {New: func() any { return new([minHistory]byte) }},
		DefaultHistory: {New: func() any { return new([DefaultHistory]byte) }},
	}
)

// newPiece returns a buffer of n bytes for an out-of-order copy.
func newPiece(n int) []byte {
	if n > pieceSize || n <= pieceSize/2 {
		return make([]byte, n)
	}
	return piecePool.Get().(*[pieceSize]byte)[:n]
}

// freePiece recycles a buffer from newPiece, once nothing refers to it.
func freePiece(b []byte) {
	if cap(b) == pieceSize {
		piecePool.Put((*[pieceSize]byte)(b[:pieceSize]))
	}
}

// newRing returns a history ring of size bytes (contents undefined).
func newRing(size int) []byte {
	if p := historyPool[size]; p != nil {
		switch a := p.Get().(type) {
		case *[minHistory]byte:
			return a[:]
		case *[DefaultHistory]byte:
			return a[:]
		}
	}
	return make([]byte, size)
}

// freeRing recycles a ring from newRing.
func freeRing(b []byte) {
	switch len(b) {
	case minHistory:
		historyPool[minHistory].Put((*[minHistory]byte)(b))
	case DefaultHistory:
		historyPool[DefaultHistory].Put((*[DefaultHistory]byte)(b))
	}
}
