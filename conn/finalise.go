package conn

import (
	"slices"
	"time"

	"github.com/wiresleuth/wiresleuth/flow"
)

// record builds the Record of a connection being removed: Zeek's set_conn
// and conn_state() at connection_state_remove, plus the extras.
func (tr *Tracker) record(c *connState) *Record {
	o, r := c.origDir, c.origDir.Reverse()
	orig, resp := c.key.k.Src(o), c.key.k.Dst(o)
	rec := &Record{
		UID:            uid(c.id),
		ID:             ID{OrigH: orig.Addr, OrigP: orig.Port, RespH: resp.Addr, RespP: resp.Port},
		Proto:          c.proto,
		IPProto:        c.ipProto,
		Service:        c.service,
		Start:          c.start,
		LastTime:       c.lastTime,
		MissedBytes:    c.missedBytes,
		History:        string(c.history),
		OrigPkts:       c.pkts[o],
		OrigIPBytes:    c.ipBytes[o],
		RespPkts:       c.pkts[r],
		RespIPBytes:    c.ipBytes[r],
		Ended:          c.endReason,
		EndTime:        c.endTime,
		FirstFrame:     c.firstFrame,
		LastFrame:      c.lastFrame,
		LastSeen:       c.lastSeen,
		Annotated:      c.annotated,
		Stream:         int64(c.stream),
		ICMPErrorCount: c.x.icmpCount,
	}
	switch c.proto {
	case ProtoTCP:
		eo, er := &c.tcp.ep[o], &c.tcp.ep[r]
		rec.OrigBytes, rec.RespBytes = eo.size(er), er.size(eo)
		rec.State = c.tcpState()
		rec.OrigTCP, rec.RespTCP = eo.state, er.state
	case ProtoUDP, ProtoICMP:
		rec.OrigBytes, rec.RespBytes = uint64(max(c.udpLen[o], 0)), uint64(max(c.udpLen[r], 0))
		rec.State = c.simpleState()
	default:
		rec.State = OTH
	}
	if len(tr.opt.LocalNets) > 0 {
		rec.LocalKnown = true
		rec.LocalOrig = inPrefixes(rec.ID.OrigH, tr.opt.LocalNets)
		rec.LocalResp = inPrefixes(rec.ID.RespH, tr.opt.LocalNets)
	}
	for _, p := range c.parents[:c.nParents] {
		rec.TunnelParents = append(rec.TunnelParents, uid(p))
	}
	slices.Sort(rec.TunnelParents)

	x := &c.x
	role := func(d flow.Dir) Role {
		if d == o {
			return OrigRole
		}
		return RespRole
	}
	rec.Orig, rec.Resp = x.side[o].export(), x.side[r].export()

	h := &rec.Handshake
	h.SYN, h.SYNs = x.hs[o].syn, int(x.hs[o].nSYN)
	h.SYNACK, h.SYNACKs = x.hs[r].synack, int(x.hs[r].nSYNACK)
	h.ACK = x.hs[o].ack
	if h.SYN.Valid() && h.ACK.Valid() {
		h.RTT = h.ACK.Time.Sub(h.SYN.Time)
	}

	for _, k := range [...]struct {
		side Role
		ref  Ref
		how  CloseKind
	}{{OrigRole, x.side[o].fin, ByFIN}, {OrigRole, x.side[o].rst, ByRST}, {RespRole, x.side[r].fin, ByFIN}, {RespRole, x.side[r].rst, ByRST}} {
		if k.ref.Valid() && (rec.Close.By == NoRole || k.ref.Time < rec.Close.At.Time || k.ref.Time == rec.Close.At.Time && k.ref.Frame < rec.Close.At.Frame) {
			rec.Close = Close{By: k.side, How: k.how, At: k.ref}
		}
	}

	if x.idle.gap > 0 {
		id := &rec.Idle
		id.Gap = time.Duration(x.idle.gap)
		id.From, id.To = x.idle.from, x.idle.to
		id.EndsWithClose = x.idle.toClose
		if id.EndsWithClose {
			id.ClosedBy = role(x.idle.closer)
		}
		lastData := max(rec.Orig.LastData.Time, rec.Resp.LastData.Time)
		if rec.Orig.LastData.Valid() || rec.Resp.LastData.Valid() {
			id.AfterLastData = lastData <= id.From.Time
		}
	}
	if c.endTime > c.lastSeen {
		rec.Idle.Trailing = c.endTime.Sub(c.lastSeen)
	}

	for _, e := range x.icmp {
		ie := e.ICMPError
		ie.About = role(e.about)
		rec.ICMPErrors = append(rec.ICMPErrors, ie)
	}
	for _, e := range x.ev {
		rec.Evidence = append(rec.Evidence, Evidence{Ref: e.Ref, Kind: e.kind, From: role(e.from)})
	}
	return rec
}

func (s *sideState) export() Side {
	out := Side{
		Packets:      s.packets,
		PayloadBytes: s.payload,
		Options:      s.opts,
		TSPackets:    s.ts,
		NoTSPackets:  s.noTS,
		FirstData:    s.firstData,
		LastData:     s.lastData,
		FIN:          s.fin,
		RST:          s.rst,
	}
	if s.analysis != nil {
		out.Analysis = *s.analysis
	}
	for i := range int(s.ttl.n) {
		out.TTL.Values = append(out.TTL.Values, *s.ttl.value(i))
	}
	slices.SortStableFunc(out.TTL.Values, func(a, b TTLValue) int {
		switch {
		case a.Count > b.Count:
			return -1
		case a.Count < b.Count:
			return 1
		}
		return 0
	})
	out.TTL.Other, out.TTL.Changes = s.ttl.other, s.ttl.changes
	out.IPID = s.ipid.export()
	out.Checksums = Checksums{Good: s.sums.good, Unverified: s.sums.unverified, Verdict: s.sums.w.verdict()}
	if w := s.sums.w; w != nil {
		c := &out.Checksums
		c.Bad, c.Zero, c.Partial, c.IPBad, c.Outbound = w.bad, w.zero, w.partial, w.ipBad, w.outbound
		c.Constant, c.Value = w.haveValue && w.constant, w.value
		if w.ns > 0 {
			c.Samples = slices.Clone(w.samples[:w.ns])
		}
	}
	return out
}

// export classifies the IDs: the share of steps that continued the side's
// counter decides between incrementing and random.
func (s *ipidState) export() IPID {
	out := IPID{Packets: s.packets, Zero: s.zero, First: s.first, Last: s.last, InSequence: s.inSeq}
	nz := s.packets - s.zero
	// Steps between consecutive non-zero IDs, not counting those into the
	// packets that did not fit the counter.
	steps := nz - 1 - s.outliers
	if s.hasPending {
		steps--
	}
	switch {
	case s.packets == 0:
		out.Class = IDUnknown
	case nz == 0:
		if s.zero >= 2 {
			out.Class = IDZero
		}
	case steps < 1:
		out.Class = IDUnknown
	case s.allSame:
		out.Class = IDConstant
	case s.inSeq > 0 && 4*s.inSeq >= 3*steps:
		out.Class = IDIncrementing
		if s.nOut > 0 {
			out.Outliers = slices.Clone(s.out[:s.nOut])
		}
		if s.hasPending {
			// The last packet did not fit and nothing followed it.
			out.Outliers = append(out.Outliers, s.pending)
		}
	default:
		out.Class = IDRandom
	}
	return out
}

// uid formats a connection number as a Zeek-style UID: "C" and base62
// digits of a bijective mix of it, so UIDs look unrelated but never repeat
// within a run.
func uid(n uint64) string {
	// splitmix64's finaliser is a bijection on uint64.
	z := n + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [12]byte
	i := len(b)
	for {
		i--
		b[i] = digits[z%62]
		z /= 62
		if z == 0 || i == 1 {
			break
		}
	}
	i--
	b[i] = 'C'
	return string(b[i:])
}
