package conn

import (
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/packet"
)

// connKey identifies a connection in the table: the flow key, and for a
// one-way ICMP type (not canonicalised by Zeek) 1 plus the direction.
type connKey struct {
	k      flow.Key
	oneWay uint8
}

// connState is a live connection. Per-host state is indexed by the flow
// direction of the host's packets (flow.AtoB for endpoint A), so a role flip
// only changes origDir: Zeek's FlipRoles swaps the endpoints, packet
// counters and request/reply lengths, which is what indexing by host does.
type connState struct {
	key     connKey
	id      uint64
	gen     uint32 // bumped on recycling, which makes old timers stale
	inTable bool
	proto   Proto
	ipProto uint8
	origDir flow.Dir

	start, lastTime capture.Time
	history         []byte
	histSeen        uint32 // Session::CheckHistory bits, orig low, resp <<16
	missedBytes     uint64
	pkts, ipBytes   [2]uint64

	// timers
	inactTimeout                int64 // ns
	inactEpoch, analyzerEpoch   uint32
	inactTimers, analyzerTimers int32
	inactIdx                    int32 // 1 + heap index of the live inactivity timer, 0: none
	establishedEvent            bool  // connection_established raised by this packet
	dnsTimer                    bool
	encap                       [packet.MaxEncap]uint64
	nEncap                      int8
	tunnelChanges               int32
	tunnelViolated              bool
	service                     string
	parents                     [packet.MaxEncap]uint64
	nParents                    int8
	annotated                   bool
	stream                      int32    // tcp.stream of the first annotated segment (fits the padding here)
	udpLen                      [2]int64 // UDP/ICMP payload per host, -1: none yet
	udpChk                      [2]scaled
	tcp                         tcpConn
	firstFrame, lastFrame       int64
	lastSeen                    capture.Time
	x                           extras
	endReason                   End
	endTime                     capture.Time
}

// isOrig reports whether packets travelling in d come from the originator.
func (c *connState) isOrig(d flow.Dir) bool { return d == c.origDir }

// maxHistory caps the history string. Zeek's is unbounded, but only a
// storm of SYNs, FINs or RSTs at ever new sequence numbers gets near this.
const maxHistory = 256

// addHistory appends a letter (Session::AddHistory).
func (c *connState) addHistory(b byte) {
	if len(c.history) < maxHistory {
		c.history = append(c.history, b)
	}
}

// checkHistory is Session::CheckHistory: add code once per connection for
// the bits in mask.
func (c *connState) checkHistory(mask uint32, code byte) bool {
	if c.histSeen&mask == 0 {
		c.histSeen |= mask
		c.addHistory(code)
		return false
	}
	return true
}

// flipRoles is Connection::FlipRoles: the other endpoint becomes the
// originator; the history gets a '^'. Counters are per host and need no
// swap; the TCP adapter's own bits do.
func (c *connState) flipRoles() {
	c.origDir = c.origDir.Reverse()
	if c.proto == ProtoTCP {
		t := &c.tcp
		f := t.firstPacketSeen
		t.firstPacketSeen = 0
		if f&1 != 0 {
			t.firstPacketSeen |= 2
		}
		if f&2 != 0 {
			t.firstPacketSeen |= 1
		}
		t.isPartial = false
	}
	c.addHistory('^')
}

// scaled is one of Zeek's logarithmically scaled history letters
// (Session::ScaledHistoryEntry): the letter is written at the 1st, 10th,
// 100th… event.
type scaled struct{ n, threshold uint32 }

func (s *scaled) event() bool {
	if s.threshold == 0 {
		s.threshold = 1
	}
	s.n++
	if s.n != s.threshold {
		return false
	}
	next := uint64(s.threshold) * 10
	if next > 0xffffffff {
		s.n = 0
	} else {
		s.threshold = uint32(next)
	}
	return true
}

// letter returns code in the case of the role d has now.
func (c *connState) letter(d flow.Dir, code byte) byte {
	if c.isOrig(d) {
		return code
	}
	return code + ('a' - 'A')
}
