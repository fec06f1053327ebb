package conn

// Side is what one end of the connection did, whoever Zeek calls it.
type Side struct {
	// Packets counts every packet seen from this side, including those
	// Zeek drops (bad checksums); PayloadBytes sums their transport
	// payload lengths on the wire.
	Packets      int64
	PayloadBytes int64
	// Options are those of this side's first SYN or SYN-ACK.
	Options TCPOptions
	// TSPackets and NoTSPackets count TCP segments with and without the
	// timestamps option (SYNs included).
	TSPackets, NoTSPackets int64
	TTL                    TTL
	IPID                   IPID
	Checksums              Checksums
	// Analysis counts the per-segment analysis flags of this side's
	// segments (see Annotated).
	Analysis Analysis
	// First and last segment with payload; first FIN and first RST.
	FirstData, LastData Ref
	FIN, RST            Ref
}

// TCPOptions are the options a side announced in its SYN or SYN-ACK.
type TCPOptions struct {
	Seen          bool // a SYN or SYN-ACK from this side was seen
	HasMSS        bool
	MSS           uint16
	HasWScale     bool
	WScale        uint8
	SACKPermitted bool
	Timestamps    bool
	Malformed     bool
}

// Presence says on which sides something was present.
type Presence uint8

const (
	PresenceUnknown Presence = iota // nothing to tell from
	Both
	OrigOnly
	RespOnly
	Neither
)

func (p Presence) String() string {
	return [...]string{"unknown", "both", "orig only", "resp only", "neither"}[p]
}

// TTL is the IP TTL (hop limit) behaviour of one side.
type TTL struct {
	// Values are the distinct TTLs seen, most frequent first, at most
	// MaxTTLValues; Other counts packets whose TTL did not fit.
	Values []TTLValue
	Other  int64
	// Changes counts packets whose TTL differs from the previous one.
	Changes int64
}

// TTLValue is one TTL a side used, how often, and where first.
type TTLValue struct {
	TTL   uint8
	Count int64
	First Ref
}

// Constant reports whether every packet had the same TTL.
func (t *TTL) Constant() bool { return len(t.Values) == 1 && t.Other == 0 }

// Dominant returns the most frequent TTL (0 if none).
func (t *TTL) Dominant() uint8 {
	if len(t.Values) == 0 {
		return 0
	}
	return t.Values[0].TTL
}

// IPIDClass is how a side numbers its IPv4 packets.
type IPIDClass uint8

const (
	IDUnknown      IPIDClass = iota // no IPv4 packets, or too few to tell
	IDZero                          // always 0 (Linux with DF set on some paths)
	IDConstant                      // always the same non-zero value
	IDIncrementing                  // a counter: small forward steps
	IDRandom                        // no pattern
)

func (c IPIDClass) String() string {
	return [...]string{"unknown", "zero", "constant", "incrementing", "random"}[c]
}

// IPID is the IPv4 identification behaviour of one side.
type IPID struct {
	Class       IPIDClass
	Packets     int64  // IPv4 packets considered
	Zero        int64  // with ID 0 (Linux sends 0 on some control packets)
	First, Last uint16 // first and last non-zero ID
	// InSequence counts packets whose ID was at most MaxIDStep ahead of
	// the side's counter.
	InSequence int64
	// Outliers are packets whose ID broke the side's counter and the
	// sequence resumed after them (or they were the last): the kind of
	// packet a middlebox forges.
	Outliers []IDOutlier
}

// MaxIDStep is the largest step between consecutive IDs that still counts
// as incrementing: hosts with one global counter advance it for every
// packet they send to anyone.
const MaxIDStep = 4096

// IDOutlier is a packet whose IP ID did not fit its side's counter.
type IDOutlier struct {
	Ref
	ID       uint16
	Expected uint16 // the counter's value before it
}

// Checksums are the checksum verdicts of one side's packets.
type Checksums struct {
	Good       int64 // transport checksum correct
	Bad        int64 // wrong, and not one of the patterns below
	Zero       int64 // zero field where a checksum was due
	Partial    int64 // only the pseudo-header sum: left for the NIC to finish (offload)
	Unverified int64 // not fully captured
	IPBad      int64 // IPv4 header checksum wrong
	// Outbound counts the bad, zero and partial ones the capture marks as
	// sent by the capturing host.
	Outbound int64
	// Constant says every bad checksum had the same value, Value.
	Constant bool
	Value    uint16
	// Samples are the first bad, zero or partial packets.
	Samples []Ref
	Verdict ChecksumVerdict
}

// Wrong is the number of packets whose transport checksum did not verify.
func (c *Checksums) Wrong() int64 { return c.Bad + c.Zero + c.Partial }

// ChecksumVerdict tells checksum offload artefacts from corruption.
type ChecksumVerdict uint8

const (
	ChecksumsOK      ChecksumVerdict = iota // none wrong
	ChecksumsOffload                        // wrong in the way of checksum offload on the capturing host
	ChecksumsCorrupt                        // wrong otherwise: damaged on the way
)

func (v ChecksumVerdict) String() string {
	return [...]string{"ok", "offload", "corrupt"}[v]
}
