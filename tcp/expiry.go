package tcp

import (
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
)

// Conversations wait for release in FIFO queues, one per timeout class
// (SYN-only, established, closed and lingering). A conversation is queued
// with the time it was last seen; when it reaches the front and has been
// seen since, or has changed class, it is queued again at the back of the
// right queue. Checking a front costs nothing while its deadline is ahead.
type expiryQueue struct {
	q   [numClasses][]queued
	gen uint64
}

type queued struct {
	key flow.Key
	gen uint64
	at  capture.Time
}

const (
	classSYN = iota
	classOpen
	classClosed
	numClasses
)

func (q *expiryQueue) push(key flow.Key, at capture.Time) uint64 {
	q.gen++
	q.q[classSYN] = append(q.q[classSYN], queued{key, q.gen, at})
	return q.gen
}

func (q *expiryQueue) requeue(class int, it queued, at capture.Time) {
	it.at = at
	q.q[class] = append(q.q[class], it)
}

func (q *expiryQueue) pop(class int) {
	s := q.q[class]
	s[0] = queued{}
	s = s[1:]
	if len(s) == 0 {
		s = q.q[class][:0] // start again at the front of the backing array
	}
	q.q[class] = s
}

// class is the queue a conversation belongs in now.
func (c *conv) class() int {
	switch {
	case c.h[0].rst || c.h[1].rst || c.h[0].fin && c.h[1].fin:
		return classClosed
	case c.synOnly:
		return classSYN
	}
	return classOpen
}

func (a *Analyzer) timeout(class int) time.Duration {
	switch class {
	case classSYN:
		return a.cfg.SYNTimeout
	case classClosed:
		return a.cfg.Linger
	}
	return a.cfg.IdleTimeout
}

// expire releases conversations whose time is up, and the least recently
// queued ones while over MaxConversations. It runs for every packet, so it
// returns at once until the earliest front of a queue can be due.
func (a *Analyzer) expire(now capture.Time) {
	if now < a.nextExpiry && a.convs.n <= a.cfg.MaxConversations {
		return
	}
	a.nextExpiry = 1<<63 - 1
	defer func() {
		for class, q := range a.queue.q {
			if len(q) > 0 {
				a.nextExpiry = min(a.nextExpiry, q[0].at.Add(a.timeout(class)))
			}
		}
	}()
	for class := range a.queue.q {
		timeout := a.timeout(class)
		for len(a.queue.q[class]) > 0 {
			it := a.queue.q[class][0]
			over := a.convs.n > a.cfg.MaxConversations
			if !over && now.Sub(it.at) < timeout {
				break
			}
			a.queue.pop(class)
			c := a.convs.get(it.key)
			if c == nil || c.gen != it.gen {
				continue // released or replaced since
			}
			if !over {
				if cl := c.class(); cl != class || c.last > it.at {
					a.queue.requeue(cl, it, c.last)
					continue
				}
				a.Released++
			} else {
				a.Evicted++
			}
			a.release(c)
		}
	}
}

func (a *Analyzer) release(c *conv) {
	a.convs.del(c)
	if a.last == c {
		a.last = nil
	}
	for i := range c.h {
		if cap(c.h[i].segs.segs) > 1024 {
			c.h[i].segs = unacked{} // don't keep a bulk transfer's list around
		}
	}
	if len(a.free) < 4096 {
		a.free = append(a.free, c)
	}
}
