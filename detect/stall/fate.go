package stall

import (
	"fmt"
	"strings"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/progress"
)

// Sighting is what one vantage point saw of a connection's stalled bytes.
type Sighting uint8

const (
	NotCaptured Sighting = iota // the connection does not appear there
	Seen                        // the stalled bytes passed there
	Unseen                      // the connection appears, the stalled bytes never did
)

// fate says, for each dataset in path order, whether the stalled bytes of
// s passed there, and how many copies when it knows.
func (s *stalled) fate(p *detect.Pass) (sight []Sighting, copies []int) {
	b := s.best()
	sender := b.f.Endpoint(b.dir)
	head := b.head()
	sight = make([]Sighting, len(p.Datasets))
	copies = make([]int, len(p.Datasets))
	for vi, ds := range p.Datasets {
		if v := s.viewAt(vi); v != nil {
			if v.sender {
				sight[vi], copies[vi] = Seen, v.d().HeadTx
			} else {
				sight[vi] = Unseen
			}
			continue
		}
		f := progress.Of(ds).Find(s.client, s.server, s.at)
		if f == nil {
			continue
		}
		i := 0
		if f.Endpoint(1) == sender {
			i = 1
		}
		d := &f.Dir[i]
		switch {
		case !d.Data || !d.DataEnd.GreaterThan(head):
			sight[vi] = Unseen
		case d.Hole && head.InRange(d.HoleLo, d.HoleHi):
			sight[vi] = Unseen
		default:
			sight[vi] = Seen
			if d.AckSeen && d.Acked == head {
				copies[vi] = d.HeadTx
			}
		}
	}
	return sight, copies
}

// lostBetween returns the two neighbouring vantage points between which
// the stalled bytes vanished, when the captures say so cleanly: seen at
// every capture from the sender's end up to one, at none after it. from
// and to are dataset indexes; ok is false otherwise.
func lostBetween(sight []Sighting, fromClient bool) (from, to int, ok bool) {
	idx := make([]int, 0, len(sight))
	for i := range sight {
		if sight[i] != NotCaptured {
			idx = append(idx, i)
		}
	}
	if !fromClient {
		for l, r := 0, len(idx)-1; l < r; l, r = l+1, r-1 {
			idx[l], idx[r] = idx[r], idx[l]
		}
	}
	if len(idx) < 2 {
		return 0, 0, false
	}
	k := 0
	for k < len(idx) && sight[idx[k]] == Seen {
		k++
	}
	if k == 0 || k == len(idx) {
		return 0, 0, false
	}
	for _, i := range idx[k:] {
		if sight[i] != Unseen {
			return 0, 0, false
		}
	}
	return idx[k-1], idx[k], true
}

// fateLine words where the stalled bytes were seen: "seen at client (6
// copies), router-in (6 copies); never at router-out, server".
func fateLine(p *detect.Pass, sight []Sighting, copies []int) string {
	var seen, unseen, absent []string
	for vi, ds := range p.Datasets {
		switch sight[vi] {
		case Seen:
			if copies[vi] > 1 {
				seen = append(seen, fmt.Sprintf("%s (%d copies)", ds.Name, copies[vi]))
			} else {
				seen = append(seen, ds.Name)
			}
		case Unseen:
			unseen = append(unseen, ds.Name)
		default:
			absent = append(absent, ds.Name)
		}
	}
	var parts []string
	if len(seen) > 0 {
		parts = append(parts, "seen at "+strings.Join(seen, ", "))
	}
	if len(unseen) > 0 {
		parts = append(parts, "never at "+strings.Join(unseen, ", "))
	}
	if len(absent) > 0 {
		parts = append(parts, "the connection is not in "+strings.Join(absent, ", "))
	}
	return strings.Join(parts, "; ")
}
