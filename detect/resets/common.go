package resets

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// initialTTL infers the TTL (hop limit) a packet was sent with from the
// one it arrived with: the smallest of the usual initial values (32, 64:
// Linux, macOS, BSD; 128: Windows; 255: network equipment, Solaris) not
// below it.
func initialTTL(ttl uint8) int {
	for _, v := range []int{32, 64, 128, 255} {
		if int(ttl) <= v {
			return v
		}
	}
	return 255
}

// hops is how many routers a packet crossed, by its inferred initial TTL.
func hops(ttl uint8) int { return initialTTL(ttl) - int(ttl) }

// byStream indexes a dataset's kept records by tcp.stream.
func byStream(ds *detect.Dataset) map[int64]*conn.Record {
	m := map[int64]*conn.Record{}
	for _, r := range ds.Conns {
		if r.Proto == conn.ProtoTCP && r.Annotated {
			m[r.Stream] = r
		}
	}
	return m
}

// sideOf returns the side of a record that sends from e.
func sideOf(r *conn.Record, e flow.Endpoint) *conn.Side {
	if r.ID.OrigH == e.Addr && r.ID.OrigP == e.Port {
		return &r.Orig
	}
	return &r.Resp
}

// connOf identifies a connection by its client and server for a finding.
func connOf(ds *detect.Dataset, client, server flow.Endpoint, start conn.Ref, uid string) detect.Conn {
	return detect.NewConn(ds.Name, "tcp", client, server, start.Time, uid)
}

// index makes the lookups detectors need into a dataset's briefs and
// resets cost a map access, not a scan: captures hold up to a million
// connections.
type index struct {
	stream   map[int64]*detect.Brief
	pair     map[[2]flow.Endpoint][]*detect.Brief // (originator, responder)
	clientTo map[clientService][]*detect.Brief
	host     map[netip.Addr]int    // TCP connections with a host on either side
	resp     map[netip.Addr]int    // TCP connections to a host
	to       map[flow.Endpoint]int // TCP connections to a service
	rsts     map[rstKey]bool
}

type clientService struct {
	client netip.Addr
	server flow.Endpoint
}

type rstKey struct {
	src, dst flow.Endpoint
	seq      uint32
}

// indexes builds each dataset's index on first use.
type indexes map[*detect.Dataset]*index

func (ix indexes) of(ds *detect.Dataset) *index {
	if x := ix[ds]; x != nil {
		return x
	}
	x := &index{stream: map[int64]*detect.Brief{}, pair: map[[2]flow.Endpoint][]*detect.Brief{}, clientTo: map[clientService][]*detect.Brief{},
		host: map[netip.Addr]int{}, resp: map[netip.Addr]int{}, to: map[flow.Endpoint]int{}, rsts: map[rstKey]bool{}}
	for i := range ds.Briefs {
		b := &ds.Briefs[i]
		if b.Proto != conn.ProtoTCP {
			continue
		}
		if b.Stream >= 0 {
			x.stream[b.Stream] = b
		}
		k := [2]flow.Endpoint{b.Orig, b.Resp}
		x.pair[k] = append(x.pair[k], b)
		cs := clientService{b.Orig.Addr, b.Resp}
		x.clientTo[cs] = append(x.clientTo[cs], b)
		x.host[b.Orig.Addr]++
		if b.Resp.Addr != b.Orig.Addr {
			x.host[b.Resp.Addr]++
		}
		x.resp[b.Resp.Addr]++
		x.to[b.Resp]++
	}
	for _, r := range resultOf(ds).RSTs {
		x.rsts[rstKey{r.Src, r.Dst, r.Seq}] = true
	}
	ix[ds] = x
	return x
}

// between returns the briefs of the connections between two endpoints,
// whichever side originated them.
func (x *index) between(a, b flow.Endpoint) []*detect.Brief {
	out := x.pair[[2]flow.Endpoint{a, b}]
	if other := x.pair[[2]flow.Endpoint{b, a}]; len(other) > 0 {
		out = append(append([]*detect.Brief(nil), out...), other...)
	}
	return out
}

// hostTTLs returns, per host, the TTLs its packets arrived with (each
// connection's dominant one) in connections whose handshake completed:
// what a genuine packet from it looks like at this vantage point. Several
// values are normal behind load balancers and after route changes.
func hostTTLs(ds *detect.Dataset) map[netip.Addr]map[uint8]int {
	out := map[netip.Addr]map[uint8]int{}
	add := func(a netip.Addr, ttl uint8) {
		if ttl == 0 {
			return
		}
		if out[a] == nil {
			out[a] = map[uint8]int{}
		}
		out[a][ttl]++
	}
	for i := range ds.Briefs {
		b := &ds.Briefs[i]
		if b.Proto != conn.ProtoTCP || !b.HandshakeDone {
			continue
		}
		add(b.Orig.Addr, b.OrigTTL)
		add(b.Resp.Addr, b.RespTTL)
	}
	return out
}

// sighting is whether a packet (or connection) shows at one vantage point.
type sighting struct {
	name     string
	conn     bool // the connection appears there
	seen     bool // the packet in question appears there
	position int
}

// locate words where along the path a packet that shows at some vantage
// points and not at others (which saw its connection) entered or left it.
// It returns "" when the pattern is not one contiguous stretch.
func locate(s []sighting) (where string, seen, missing []string) {
	return locateIn(s, false)
}

// locateIn is locate; with absent, vantage points where the connection
// never appears count as not seeing the packet (a SYN stopped on the way
// and answered there).
func locateIn(s []sighting, absent bool) (where string, seen, missing []string) {
	var si, mi []int
	for i, x := range s {
		switch {
		case x.seen:
			si = append(si, i)
			seen = append(seen, x.name)
		case x.conn || absent:
			mi = append(mi, i)
			missing = append(missing, x.name)
		}
	}
	if len(si) == 0 || len(mi) == 0 {
		return "", seen, missing
	}
	if si[len(si)-1]-si[0] != len(si)-1 {
		return "", seen, missing
	}
	switch {
	case si[len(si)-1] < mi[0] && (!absent || mi[len(mi)-1]-mi[0] == len(mi)-1):
		return fmt.Sprintf("between %s and %s", s[si[len(si)-1]].name, s[mi[0]].name), seen, missing
	case mi[len(mi)-1] < si[0] && (!absent || mi[len(mi)-1]-mi[0] == len(mi)-1):
		return fmt.Sprintf("between %s and %s", s[mi[len(mi)-1]].name, s[si[0]].name), seen, missing
	}
	return "", seen, missing
}

// located is where a packet shows along the path, in words.
type located struct {
	where         string   // "between a and b", or ""
	seen, missing []string // vantage points with and without it
	absentConn    bool     // missing ones never saw the connection at all
}

// locatePacket locates a packet from its sightings: first among the
// vantage points that saw its connection, else among all.
func locatePacket(s []sighting) located {
	w, seen, missing := locateIn(s, false)
	if len(missing) > 0 {
		return located{where: w, seen: seen, missing: missing}
	}
	w, seen, missing = locateIn(s, true)
	return located{where: w, seen: seen, missing: missing, absentConn: len(missing) > 0}
}

// line says where a packet shows, briefly, for Finding.Vantages.
func (l located) line(what string) string {
	if len(l.missing) == 0 {
		return ""
	}
	s := fmt.Sprintf("%s: at %s; not at %s", what, strings.Join(l.seen, ", "), strings.Join(l.missing, ", "))
	if l.where != "" {
		s += " (" + l.where + ")"
	}
	return s
}

// sentence says where a packet shows, for an explanation.
func (l located) sentence(what, verb string) string {
	if len(l.missing) == 0 {
		return ""
	}
	s := fmt.Sprintf("%s shows at %s and not at %s", what, joinAnd(l.seen), joinAnd(l.missing))
	if l.absentConn {
		s += " (where the connection never appears)"
	} else {
		s += ", which saw the connection"
	}
	if l.where != "" {
		s += ": it " + verb + " " + l.where
	}
	return s + "."
}

// rstSightings says at which vantage points a reset shows: the same
// 4-tuple, direction and sequence number.
func rstSightings(p *detect.Pass, ix indexes, self *detect.Dataset, x *RST) []sighting {
	var out []sighting
	for i, ds := range p.Datasets {
		s := sighting{name: ds.Name, position: i}
		if ds == self {
			s.conn, s.seen = true, true
		} else {
			in := ix.of(ds)
			s.conn = len(in.between(x.Src, x.Dst)) > 0
			s.seen = in.rsts[rstKey{x.Src, x.Dst, x.Seq}]
		}
		out = append(out, s)
	}
	return out
}

// secs formats a duration for a fact: seconds with up to three decimals.
func secs(d time.Duration) string {
	s := strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// joinAnd joins words as "a, b and c".
func joinAnd(w []string) string {
	switch len(w) {
	case 0:
		return ""
	case 1:
		return w[0]
	}
	return strings.Join(w[:len(w)-1], ", ") + " and " + w[len(w)-1]
}

// ports lists the client ports of connections, sorted and de-duplicated.
func ports(eps []flow.Endpoint) string {
	var ps []int
	for _, e := range eps {
		ps = append(ps, int(e.Port))
	}
	slices.Sort(ps)
	ps = slices.Compact(ps)
	var w []string
	for _, p := range ps {
		w = append(w, strconv.Itoa(p))
	}
	return strings.Join(w, ", ")
}

// plural is detect.Plural with an irregular plural.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
