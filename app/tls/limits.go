package tls

// Caps that bound a connection's memory (see the package comment).
const (
	// MaxRecord is the largest record accepted: 2^14 bytes of plaintext
	// plus the 2048 bytes of expansion RFC 5246 section 6.2.3 allows.
	MaxRecord = 1<<14 + 2048
	MaxHello  = 64 << 10 // bytes kept of a ClientHello or ServerHello
	MaxList   = 128      // entries kept of cipher suites, versions, ALPN protocols, extensions
	MaxName   = 255      // bytes kept of a server name or ALPN protocol
)
