package dns

// Caps that bound memory (see the package comment).
const (
	MaxQuestions = 4    // questions kept per message
	MaxRecords   = 64   // resource records kept per message (all sections)
	MaxPending   = 1024 // queries awaiting an answer per exchange
	MaxPointers  = 32   // compression pointers followed in one name
	MaxName      = 255  // octets of a name on the wire (RFC 1035 section 2.3.4)
)
