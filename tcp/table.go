package tcp

import (
	"hash/maphash"

	"github.com/wiresleuth/wiresleuth/flow"
)

// convTable holds live conversations by 4-tuple. It indexes them by the
// key's 64-bit hash through the map fast path and chains the rare
// collisions through the conversations themselves, so a lookup costs one
// uint64 map access and one key comparison (see flow.Key.Hash).
type convTable struct {
	m    map[uint64]*conv
	seed uint64
	n    int
}

func newConvTable() convTable {
	return convTable{m: map[uint64]*conv{}, seed: maphash.Comparable(maphash.MakeSeed(), uint64(0x5eed))}
}

func (t *convTable) get(k flow.Key) *conv {
	for c := t.m[k.Hash(t.seed)]; c != nil; c = c.nextSameHash {
		if c.key.Equal(k) {
			return c
		}
	}
	return nil
}

// put adds c under its key, which must not be present.
func (t *convTable) put(c *conv) {
	h := c.key.Hash(t.seed)
	c.nextSameHash = t.m[h]
	t.m[h] = c
	t.n++
}

// del removes c.
func (t *convTable) del(c *conv) {
	h := c.key.Hash(t.seed)
	var prev *conv
	for x := t.m[h]; x != nil; prev, x = x, x.nextSameHash {
		if x != c {
			continue
		}
		switch {
		case prev != nil:
			prev.nextSameHash = x.nextSameHash
		case x.nextSameHash != nil:
			t.m[h] = x.nextSameHash
		default:
			delete(t.m, h)
		}
		c.nextSameHash = nil
		t.n--
		return
	}
}
