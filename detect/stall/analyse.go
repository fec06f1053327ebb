package stall

import (
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/progress"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/seqnum"
)

// Thresholds of a stall.
const (
	// MinStall is how long the acknowledgements must have stopped: a
	// retransmission back-off from Linux's 200 ms minimum RTO reaches
	// 1.4 s after three tries; healthy recovery takes a few round trips.
	MinStall = time.Second
	// MinRexmits is how many times the sender must have retransmitted the
	// oldest unacknowledged segment (a back-off, not one fast
	// retransmission).
	MinRexmits = 2
)

// view is one vantage point's view of one stalled direction of a
// connection.
type view struct {
	vi  int // dataset index, path order
	ds  *detect.Dataset
	f   *progress.Flow
	dir int // index of the stalled direction in f.Dir
	// sender says this vantage point saw the stalled bytes and their
	// retransmissions (they vanished after it); otherwise it never saw
	// them (they vanished before it) and knows of them from later
	// segments.
	sender bool
	first  bool // the stalled bytes are the sending side's first
}

func (v *view) d() *progress.Dir    { return &v.f.Dir[v.dir] }
func (v *view) peer() *progress.Dir { return &v.f.Dir[1-v.dir] }

// fromClient says the client sends the stalled bytes.
func (v *view) fromClient() bool { return v.dir == v.f.Client() }

// start is when the stall began as seen here: the first transmission of
// the stalled bytes seen since the acknowledgements stopped, or the packet
// that revealed bytes this vantage point never saw.
func (v *view) start() conn.Ref {
	if v.sender {
		return v.d().HeadRefs[0]
	}
	return v.d().HoleAt
}

// head is the sequence number of the oldest unacknowledged byte.
func (v *view) head() seqnum.Value { return v.d().Acked }

// examine decides whether direction i of f stalled: bytes shown and never
// acknowledged until the end, with the other side still visible and
// without a zero window to explain the wait, and either the oldest of
// them retransmitted with back-off for at least MinStall (the sender's
// view), or never seen here while the receiver's acknowledgements stayed
// below them for at least MinStall or until the receiver gave up after
// MinStall of silence (the receiver's view).
func examine(f *progress.Flow, i int) (sender, ok bool) {
	d, o := &f.Dir[i], &f.Dir[1-i]
	if !d.Outstanding() || d.PeerZeroWindow || o.Packets == 0 {
		return false, false
	}
	end := f.Last.Time
	if d.HoleAtAck() {
		if end.Sub(d.HoleAt.Time) >= MinStall || o.Close.Valid() && o.PeerQuiet >= MinStall {
			return false, true
		}
		return false, false
	}
	if d.HeadRexmits >= MinRexmits && len(d.HeadRefs) > 0 && end.Sub(d.HeadRefs[0].Time) >= MinStall {
		return true, true
	}
	return false, false
}

// stalled is one connection that stalled, with the views of the vantage
// points that show it.
type stalled struct {
	client, server flow.Endpoint
	at             capture.Time
	views          []view // path order; one stalled direction
	first          bool   // after the handshake (the sender's first bytes)
}

// best is the view that says most: a sender's view (it has the
// retransmissions), the most upstream one.
func (s *stalled) best() *view {
	for i := range s.views {
		if s.views[i].sender {
			return &s.views[i]
		}
	}
	return &s.views[0]
}

// viewAt returns the view of dataset vi, or nil.
func (s *stalled) viewAt(vi int) *view {
	for i := range s.views {
		if s.views[i].vi == vi {
			return &s.views[i]
		}
	}
	return nil
}

// sendsClient says the client sends the stalled bytes.
func (s *stalled) sendsClient() bool { v := s.views[0]; return v.fromClient() }

// analyse finds the stalled connections of all datasets and matches the
// views of one connection across vantage points (by client and server
// endpoints and time; translated addresses keep them apart).
func analyse(p *detect.Pass) []*stalled {
	var all []*stalled
	type pair struct{ client, server flow.Endpoint }
	byPair := map[pair][]*stalled{}
	for vi, ds := range p.Datasets {
		pr := progress.Of(ds)
		if pr == nil {
			continue
		}
		for _, f := range pr.Flows {
			var vs []view
			for i := range f.Dir {
				if sender, ok := examine(f, i); ok {
					vs = append(vs, view{vi: vi, ds: ds, f: f, dir: i, sender: sender, first: f.Dir[i].FirstByte()})
				}
			}
			if len(vs) == 0 {
				continue
			}
			client, server := f.Endpoint(f.Client()), f.Endpoint(1-f.Client())
			var s *stalled
			k := pair{client, server}
			for _, x := range byPair[k] {
				if x.viewAt(vi) == nil && near(x.at, f.First.Time) {
					s = x
					break
				}
			}
			if s == nil {
				s = &stalled{client: client, server: server, at: f.First.Time}
				all = append(all, s)
				byPair[k] = append(byPair[k], s)
			}
			s.views = append(s.views, vs...)
		}
	}
	for _, s := range all {
		s.settle()
	}
	return all
}

// near says two vantage points' views start close enough in time to be
// the same connection (clocks may differ a little).
func near(a, b capture.Time) bool {
	d := a.Sub(b)
	return d < time.Minute && d > -time.Minute
}

// settle picks the connection's stalled direction: the one stalled right
// after the handshake if any vantage point shows that, else the one most
// views show; views of the other direction are dropped (a side effect of
// the same fault, such as a reply retransmitted because the ACKs that
// would acknowledge it are dropped too).
func (s *stalled) settle() {
	fromClient := 0
	for i := range s.views {
		v := &s.views[i]
		if v.first {
			s.first = true
		}
		if v.fromClient() {
			fromClient++
		}
	}
	wantClient := fromClient*2 >= len(s.views)
	if s.first {
		for i := range s.views {
			if s.views[i].first {
				wantClient = s.views[i].fromClient()
				break
			}
		}
	}
	kept := s.views[:0]
	for _, v := range s.views {
		if v.fromClient() == wantClient {
			kept = append(kept, v)
		}
	}
	s.views = kept
}
