package oncrpc

import (
	"encoding/binary"
	"strconv"

	"github.com/wiresleuth/wiresleuth/app"
)

// Caps of the TCP record-marking reader (RFC 5531 §11), per side of a
// connection.
const (
	// MaxRecord caps the bytes of one record, all fragments together.
	// NFS moves at most a few MiB per call; a longer record means the
	// marking was misread, and decoding resynchronises.
	MaxRecord = 16 << 20
	// MaxFragments caps the fragments of one record.
	MaxFragments = 1024
	// MaxPrefix caps the bytes of each record kept for decoding; the rest
	// (file data, volfiles) is counted and skipped.
	MaxPrefix = 16 << 10
	// maxScan caps the window searched for a record mark while
	// resynchronising.
	maxScan = 16 << 10 // bytes
	// minRecord: the smallest RPC message, a denied reply.
	minRecord = 16
)

type recState uint8

const (
	stMark   recState = iota // reading a fragment header
	stBody                   // reading fragment data
	stResync                 // searching for a record mark after losing the marking
)

type scanPos struct {
	off int
	at  app.Pos
}

// recordReader splits one side of a TCP connection into RPC records.
type recordReader struct {
	side     app.Side
	state    recState
	mark     [4]byte
	markN    int
	markAt   app.Pos
	first    [4]byte // the record's first fragment header, for resynchronising
	fragLeft uint32
	last     bool

	rec     []byte // kept prefix of the current record
	recLen  int64  // bytes of the current record so far, gaps included
	frags   int
	recAt   app.Pos
	lastAt  app.Pos
	hole    bool // a gap hit the current record: rec stops before it
	checked bool // the record's header was found plausible

	scan, spare []byte
	scanAt      []scanPos
	skipped     int64 // bytes passed over while resynchronising
	lostAt      app.Pos

	msg Message
}

// feed consumes bytes sent by this side.
func (r *recordReader) feed(c *conv, b []byte, at app.Pos) {
	for len(b) > 0 {
		if r.state != stResync {
			b = r.consume(c, b, at)
			continue
		}
		n := min(len(b), maxScan-64)
		re, reAt := r.resync(c, b[:n], at)
		b = b[n:]
		// Bytes handed back by resync are in a buffer resync does not
		// write to until it has consumed them all, so they can be fed
		// back through the same loop.
		for len(re) > 0 {
			if r.state != stResync {
				re = r.consume(c, re, reAt)
				continue
			}
			re, reAt = r.resync(c, re, reAt)
		}
	}
}

// consume reads record marks and fragment data; it returns the bytes not
// consumed, which follow a switch to resynchronising.
func (r *recordReader) consume(c *conv, b []byte, at app.Pos) []byte {
	for len(b) > 0 && r.state != stResync {
		switch r.state {
		case stMark:
			if r.markN == 0 {
				r.markAt = at
			}
			n := copy(r.mark[r.markN:], b)
			r.markN += n
			b = b[n:]
			if r.markN < 4 {
				return b
			}
			r.markN = 0
			r.startFragment(c)
		case stBody:
			n := len(b)
			if uint32(n) > r.fragLeft {
				n = int(r.fragLeft)
			}
			if !r.checked && !r.hole && len(r.rec) < 16 {
				// Check the header before taking more: if the marking
				// was wrong, the bytes go back to the resync window.
				n = min(n, 16-len(r.rec))
			}
			if !r.hole {
				keep := min(n, MaxPrefix-len(r.rec))
				r.rec = append(r.rec, b[:keep]...)
			}
			r.recLen += int64(n)
			r.fragLeft -= uint32(n)
			r.lastAt = at
			b = b[n:]
			if !r.checked && !r.hole && len(r.rec) >= 16 {
				if !plausible(r.rec, false, nil) {
					r.lose(c, at, "record does not start with an RPC header")
					r.seedScan(at)
					return b
				}
				r.checked = true
			}
			if r.fragLeft == 0 {
				r.endFragment(c)
			}
		}
	}
	return b
}

func (r *recordReader) startFragment(c *conv) {
	v := binary.BigEndian.Uint32(r.mark[:])
	r.last = v>>31 == 1
	r.fragLeft = v & 0x7fffffff
	if r.frags == 0 {
		r.recAt = r.markAt
		r.lastAt = r.markAt
		r.first = r.mark
		r.rec = r.rec[:0]
		r.recLen = 0
		r.hole = false
		r.checked = false
	}
	r.frags++
	switch {
	case r.frags > MaxFragments:
		r.lose(c, r.markAt, "more than "+strconv.Itoa(MaxFragments)+" fragments in one record")
		r.seedScan(r.markAt)
		return
	case r.recLen+int64(r.fragLeft) > MaxRecord:
		r.lose(c, r.markAt, "record longer than "+strconv.Itoa(MaxRecord)+" bytes")
		r.seedScan(r.markAt)
		return
	}
	r.state = stBody
	if r.fragLeft == 0 {
		r.endFragment(c)
	}
}

func (r *recordReader) endFragment(c *conv) {
	r.state = stMark
	if !r.last {
		return
	}
	// r.msg is reused: a Message handed to the handler would otherwise
	// escape to the heap once per record.
	r.msg = Message{
		Side: r.side, At: r.recAt, EndAt: r.lastAt, Len: int(r.recLen), Fragments: r.frags,
		Cut: r.hole || r.recLen > int64(len(r.rec)),
	}
	r.frags = 0
	c.handleRecord(r.rec, &r.msg, r.hole)
}

// gap skips n bytes the capture missed. Inside a fragment the marking
// survives: the fragment just loses data. Otherwise the marking is lost.
func (r *recordReader) gap(c *conv, n int64, at app.Pos) {
	c.damage(r.side, at, DamageGap, strconv.FormatInt(n, 10)+" bytes not captured")
	c.lostBytes(r.side)
	if r.state == stBody && n <= int64(r.fragLeft) {
		r.hole = true
		r.recLen += n
		r.fragLeft -= uint32(n)
		if r.fragLeft == 0 {
			r.endFragment(c)
		}
		return
	}
	if r.state == stResync {
		r.skipped += n
		r.scan = r.scan[:0]
		r.scanAt = r.scanAt[:0]
		return
	}
	r.abandon(c, at, false)
	r.state = stResync
	r.skipped = n
	r.lostAt = at
	r.scan = r.scan[:0]
	r.scanAt = r.scanAt[:0]
}

// abandon gives up the record in progress, reporting what it can.
func (r *recordReader) abandon(c *conv, at app.Pos, closing bool) {
	if closing && (r.frags > 0 || r.markN > 0) {
		c.damage(r.side, at, DamageCut, "record cut short after "+strconv.FormatInt(r.recLen, 10)+" bytes")
	}
	if r.frags > 0 && len(r.rec) >= 8 {
		var m Message
		decodeHeader(r.rec, &m)
		if m.Type == Reply {
			c.incomplete(r.side, m.XID, r.recAt)
		}
	}
	r.frags = 0
	r.markN = 0
}

// close ends this side: a record in progress is incomplete.
func (r *recordReader) close(c *conv, at app.Pos) {
	if r.state == stResync {
		c.damage(r.side, r.lostAt, DamageNoSync, "record marking lost and not found again; "+
			strconv.FormatInt(r.skipped+int64(len(r.scan)), 10)+" bytes not decoded")
	} else if r.frags > 0 || r.markN > 0 {
		r.abandon(c, at, true)
	}
	r.state = stMark
	r.frags = 0
	r.markN = 0
	r.skipped = 0
	r.scan = r.scan[:0]
	r.scanAt = r.scanAt[:0]
}

// lose switches to resynchronising after the marking proved wrong.
func (r *recordReader) lose(c *conv, at app.Pos, why string) {
	c.damage(r.side, at, DamageMalformed, why+": record marking lost")
	r.state = stResync
	r.lostAt = at
	r.skipped = 0
	r.frags = 0
}

// seedScan starts the resync window with the bytes of the rejected record
// after its first byte, so a record starting inside them is found.
func (r *recordReader) seedScan(at app.Pos) {
	r.scan = append(r.scan[:0], r.first[1:]...)
	r.scan = append(r.scan, r.rec...)
	r.scanAt = append(r.scanAt[:0], scanPos{0, r.recAt})
	r.rec = r.rec[:0]
}

// resync appends b to the window and looks for a plausible record mark
// followed by an RPC header. On success it returns the bytes from the mark
// on, to be decoded normally, and their position.
func (r *recordReader) resync(c *conv, b []byte, at app.Pos) ([]byte, app.Pos) {
	r.scanAt = append(r.scanAt, scanPos{len(r.scan), at})
	r.scan = append(r.scan, b...)
	i := 0
	for ; i+4 <= len(r.scan); i++ {
		switch v := candidate(r.scan[i:], c, r.side); v {
		case yes:
			found := r.scan[i:]
			pos := r.posAt(i)
			c.damage(r.side, pos, DamageResync, "record marking found again after "+
				strconv.FormatInt(r.skipped+int64(i), 10)+" bytes")
			r.scan, r.spare = r.spare[:0], r.scan
			r.scanAt = r.scanAt[:0]
			r.state = stMark
			r.markN = 0
			r.skipped = 0
			return found, pos
		case needMore:
			r.drop(i)
			return nil, at
		}
	}
	r.drop(i)
	return nil, at
}

// drop discards the first n bytes of the window.
func (r *recordReader) drop(n int) {
	if n == 0 {
		return
	}
	r.skipped += int64(n)
	r.scan = r.scan[:copy(r.scan, r.scan[n:])]
	j := 0
	for k, p := range r.scanAt {
		// keep the last position at or before the new start, then later ones
		if p.off < n && k+1 < len(r.scanAt) && r.scanAt[k+1].off <= n {
			continue
		}
		p.off = max(p.off-n, 0)
		r.scanAt[j] = p
		j++
	}
	r.scanAt = r.scanAt[:j]
	if len(r.scanAt) > 64 { // many tiny segments: positions become approximate
		r.scanAt = append(r.scanAt[:1], r.scanAt[len(r.scanAt)-63:]...)
	}
}

func (r *recordReader) posAt(off int) app.Pos {
	var at app.Pos
	for _, p := range r.scanAt {
		if p.off > off {
			break
		}
		at = p.at
	}
	return at
}

type verdict uint8

const (
	no verdict = iota
	yes
	needMore
)

// candidate judges whether p starts with a record mark and an RPC header
// strong enough to resynchronise on: a call to a known program with
// RPC version 2, or a reply to a call still waiting on the other side.
func candidate(p []byte, c *conv, side app.Side) verdict {
	if len(p) < 4 {
		return needMore
	}
	l := binary.BigEndian.Uint32(p) & 0x7fffffff
	if l < minRecord || l > MaxRecord {
		return no
	}
	if len(p) < 4+16 {
		if len(p) >= 12 && binary.BigEndian.Uint32(p[8:]) > 1 {
			return no
		}
		return needMore
	}
	if !plausible(p[4:], true, c.waiting(side)) {
		return no
	}
	if binary.BigEndian.Uint32(p[8:]) == uint32(Call) {
		if len(p) < 4+32 {
			return needMore
		}
		if !KnownProgram(binary.BigEndian.Uint32(p[16:])) {
			return no
		}
		f, n := Flavor(binary.BigEndian.Uint32(p[28:])), binary.BigEndian.Uint32(p[32:])
		if !knownFlavor(f) || n > maxAuthBody || l < 40+n {
			return no
		}
	}
	return yes
}

// plausible checks the first 16 bytes of an RPC message. strict, for
// resynchronising and probing, wants RPC version 2 in a call and, with
// waiting non-nil, a reply to a call that is waiting; otherwise any small
// RPC version passes, so that a call the server will deny with
// RPC_MISMATCH keeps the record marking.
func plausible(h []byte, strict bool, waiting func(uint32) bool) bool {
	xid, mt, a, b := binary.BigEndian.Uint32(h), binary.BigEndian.Uint32(h[4:]),
		binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:])
	switch MsgType(mt) {
	case Call:
		if strict && a != 2 {
			return false
		}
		return a != 0 && a < 256 && b != 0 // program 0 is not assigned
	case Reply:
		if a > 1 {
			return false
		}
		if a == uint32(Denied) && b > uint32(AuthError) {
			return false
		}
		return waiting == nil || waiting(xid)
	}
	return false
}
