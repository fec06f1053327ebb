package ftp

// Caps that bound a connection's memory (see the package comment).
const (
	MaxLine    = 8 << 10 // bytes kept of one control line
	MaxValue   = 512     // bytes kept of a command argument or a reply's first line
	MaxText    = 4 << 10 // bytes kept of a reply's continuation lines
	MaxPending = 64      // commands awaiting a reply
	MaxData    = 64      // data-connection endpoints kept per connection
)
