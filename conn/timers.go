package conn

import "github.com/wiresleuth/wiresleuth/capture"

// Zeek runs connection timers in network time: before each packet, every
// timer due at or before its timestamp fires (run_state::detail::
// dispatch_packet → expire_timers), in time order, ties first-in first-out.

type timerKind uint8

const (
	tInactivity timerKind = iota // Session::InactivityTimer
	tExpire                      // TCPSessionAdapter::ExpireTimer
	tAttempt                     // TCPSessionAdapter::AttemptTimer
	tDelete                      // TCPSessionAdapter's close delay (ConnDeleteTimer)
	tDNS                         // DNS_Analyzer::ExpireTimer
)

// doExpire says whether a timer still runs when the capture ends
// (Zeek's do_expire: only the attempt timer and the DNS timer).
func (k timerKind) doExpire() bool { return k == tAttempt || k == tDNS }

// timer is a heap entry. It is stale, and ignored, when its connection was
// recycled (gen) or its class of timers was cancelled since (epoch).
type timer struct {
	at    capture.Time
	seq   uint64
	c     *connState
	gen   uint32
	epoch uint32
	kind  timerKind
}

// timerHeap is a binary min-heap by (at, seq). Cancelled entries stay until
// they come due or the heap is compacted, so a connection's removal costs
// nothing; compaction keeps the heap proportional to the live timers.
type timerHeap struct {
	h    []timer
	seq  uint64
	live int // entries not known to be stale
}

func (t *timerHeap) less(i, j int) bool {
	a, b := &t.h[i], &t.h[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// A connection's live inactivity timer knows its place in the heap
// (connState.inactIdx), so that it leaves the heap when cancelled or when
// the connection goes: it is the long one (60 s, 300 s), and stale copies
// of it would otherwise outnumber the live connections.

func (t *timerHeap) swap(i, j int) {
	t.h[i], t.h[j] = t.h[j], t.h[i]
	t.place(i)
	t.place(j)
}

// place records where a live inactivity timer now is.
func (t *timerHeap) place(i int) {
	e := &t.h[i]
	if e.kind == tInactivity && e.c.gen == e.gen && e.c.inactEpoch == e.epoch {
		e.c.inactIdx = int32(i) + 1
	}
}

func (t *timerHeap) push(e timer) {
	t.seq++
	e.seq = t.seq
	t.h = append(t.h, e)
	t.live++
	i := len(t.h) - 1
	t.place(i)
	t.up(i)
	if len(t.h) > 4096 && len(t.h) > 2*t.live {
		t.compact()
	}
}

func (t *timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			break
		}
		t.swap(i, p)
		i = p
	}
}

func (t *timerHeap) pop() timer {
	return t.removeAt(0)
}

// removeAt takes entry i out of the heap.
func (t *timerHeap) removeAt(i int) timer {
	e := t.h[i]
	n := len(t.h) - 1
	if i != n {
		t.swap(i, n)
	}
	t.h[n] = timer{}
	t.h = t.h[:n]
	if i < n {
		t.down(i)
		t.up(i)
	}
	return e
}

func (t *timerHeap) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.less(r, l) {
			m = r
		}
		if !t.less(m, i) {
			return
		}
		t.swap(i, m)
		i = m
	}
}

// compact drops stale entries and restores the heap order.
func (t *timerHeap) compact() {
	keep := t.h[:0]
	for _, e := range t.h {
		if e.valid() {
			keep = append(keep, e)
		}
	}
	clear(t.h[len(keep):])
	t.h = keep
	if cap(t.h) > 4*len(t.h)+4096 {
		t.h = append(make([]timer, 0, 2*len(t.h)+1024), t.h...)
	}
	t.live = len(keep)
	for i := range t.h {
		t.place(i)
	}
	for i := len(t.h)/2 - 1; i >= 0; i-- {
		t.down(i)
	}
}

func (e *timer) valid() bool {
	c := e.c
	if c.gen != e.gen || !c.inTable {
		return false
	}
	if e.kind == tInactivity {
		return e.epoch == c.inactEpoch
	}
	return e.epoch == c.analyzerEpoch
}

// schedule adds a timer for c.
func (tr *Tracker) schedule(c *connState, kind timerKind, at capture.Time) {
	if !c.inTable {
		return
	}
	e := timer{at: at, c: c, gen: c.gen, kind: kind, epoch: c.analyzerEpoch}
	if kind == tInactivity {
		e.epoch = c.inactEpoch
		c.inactTimers++
	} else {
		c.analyzerTimers++
	}
	tr.timers.push(e)
}

// cancelAnalyzerTimers is Session::CancelTimers for the TCP adapter's own
// timers (attempt, expire, delete).
func (tr *Tracker) cancelAnalyzerTimers(c *connState) {
	c.analyzerEpoch++
	tr.timers.live -= int(c.analyzerTimers)
	c.analyzerTimers = 0
}

func (tr *Tracker) cancelInactivityTimer(c *connState) {
	if i := int(c.inactIdx) - 1; i >= 0 && i < len(tr.timers.h) {
		if e := &tr.timers.h[i]; e.c == c && e.kind == tInactivity && e.gen == c.gen && e.epoch == c.inactEpoch {
			tr.timers.removeAt(i)
		}
	}
	c.inactIdx = 0
	c.inactEpoch++
	tr.timers.live -= int(c.inactTimers)
	c.inactTimers = 0
}

// advance moves network time to t (never backwards) and fires what is due.
func (tr *Tracker) advance(t capture.Time) {
	if t > tr.now {
		tr.now = t
	}
	for len(tr.timers.h) > 0 && tr.timers.h[0].at <= tr.now {
		e := tr.timers.pop()
		if !e.valid() {
			continue
		}
		tr.timers.live--
		if e.kind == tInactivity {
			e.c.inactTimers--
			e.c.inactIdx = 0
		} else {
			e.c.analyzerTimers--
		}
		tr.fire(e.c, e.kind, e.at)
	}
}

// expireAll runs at the end of the capture: every pending timer is
// dropped, and those that do expire run at the current network time.
func (tr *Tracker) expireAll() {
	tr.terminating = true
	for len(tr.timers.h) > 0 {
		e := tr.timers.pop()
		if !e.valid() {
			continue
		}
		tr.timers.live--
		if e.kind == tInactivity {
			e.c.inactTimers--
			e.c.inactIdx = 0
		} else {
			e.c.analyzerTimers--
		}
		if e.kind.doExpire() {
			tr.fire(e.c, e.kind, tr.now)
		}
	}
	tr.timers.live = 0
}

func (tr *Tracker) fire(c *connState, kind timerKind, t capture.Time) {
	switch kind {
	case tInactivity:
		tr.inactivityTimer(c, t)
	case tExpire:
		tr.expireTimer(c, t)
	case tAttempt:
		tr.attemptTimer(c)
	case tDelete:
		tr.remove(c, EndClosed)
	case tDNS:
		tr.dnsTimer(c, t)
	}
}

// setInactivityTimeout is Session::SetInactivityTimeout: replace the
// inactivity timer by one at last_time + timeout.
func (tr *Tracker) setInactivityTimeout(c *connState, timeout int64) {
	if timeout == c.inactTimeout {
		return
	}
	tr.cancelInactivityTimer(c)
	if timeout > 0 {
		tr.schedule(c, tInactivity, c.lastTime+capture.Time(timeout))
	}
	c.inactTimeout = timeout
}

// inactivityTimer is Session::InactivityTimer: remove the connection if it
// really was idle for the timeout, else look again when it could be.
func (tr *Tracker) inactivityTimer(c *connState, t capture.Time) {
	if c.lastTime+capture.Time(c.inactTimeout) <= t {
		tr.remove(c, EndInactivity)
		return
	}
	tr.schedule(c, tInactivity, c.lastTime+capture.Time(c.inactTimeout))
}

// dnsTimer is DNS_Analyzer::ExpireTimer (UDP): remove after 9 s of
// silence, or when the capture ends.
func (tr *Tracker) dnsTimer(c *connState, t capture.Time) {
	if t-c.lastTime >= capture.Time(tr.opt.DNSSessionTimeout)-capture.Time(1e9) || tr.terminating {
		tr.remove(c, EndDNS)
		return
	}
	tr.schedule(c, tDNS, t+capture.Time(tr.opt.DNSSessionTimeout))
}
