package http1

// Caps that bound a connection's memory (see the package comment).
const (
	MaxLine    = 16 << 10 // bytes kept of a start, header, chunk-size or trailer line
	MaxHeaders = 512      // header fields in one message before the side is out of step
	MaxValue   = 512      // bytes kept of a header value or request target
	MaxPending = 256      // requests awaiting a response
)
