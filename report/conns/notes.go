package conns

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// human formats a duration compactly: 850µs, 12.3ms, 4.20s, 1m26.7s.
func human(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Millisecond:
		return strconv.FormatInt(int64(d/time.Microsecond), 10) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	m := int64(d / time.Minute)
	return fmt.Sprintf("%dm%.1fs", m, (d - time.Duration(m)*time.Minute).Seconds())
}

// ttlSummary is "64" for a constant TTL, else the values with counts and
// where each first appeared: "58, 62×1@8".
func ttlSummary(t *conn.TTL) string {
	if len(t.Values) == 0 {
		return "-"
	}
	if t.Constant() {
		return strconv.Itoa(int(t.Values[0].TTL))
	}
	var parts []string
	for i, v := range t.Values {
		if i == 0 {
			parts = append(parts, strconv.Itoa(int(v.TTL)))
			continue
		}
		parts = append(parts, fmt.Sprintf("%d×%d@%d", v.TTL, v.Count, v.First.Frame))
	}
	if t.Other > 0 {
		parts = append(parts, fmt.Sprintf("+%d", t.Other))
	}
	return strings.Join(parts, ",")
}

// ipidSummary is the class, and outliers as id@frame.
func ipidSummary(id *conn.IPID) string {
	if id.Packets == 0 {
		return "-"
	}
	s := id.Class.String()
	for _, o := range id.Outliers {
		s += fmt.Sprintf(",%d@%d", o.ID, o.Frame)
	}
	return s
}

func role(r conn.Role) string {
	if r == conn.NoRole {
		return "-"
	}
	return r.String()
}

// notes lists what deserves a look, shortest first: handshake RTT, the
// close, a long idle gap, ICMP errors, checksums, TTL and IP ID outliers,
// timestamps on one side, gaps and retransmissions.
func notes(r *conn.Record) []string {
	var out []string
	if h := &r.Handshake; h.SYN.Valid() && h.ACK.Valid() {
		out = append(out, "rtt "+human(h.RTT))
	} else if h.SYNs > 1 && !h.SYNACK.Valid() {
		out = append(out, fmt.Sprintf("%d SYNs, no SYN-ACK", h.SYNs))
	}
	if c := r.Close; c.By != conn.NoRole {
		out = append(out, fmt.Sprintf("%s %s first", c.By, c.How))
	}
	if id := r.Idle; id.Gap >= time.Second {
		s := "idle " + human(id.Gap)
		if id.AfterLastData {
			s += " after the data"
		}
		if id.EndsWithClose {
			s += " then " + id.ClosedBy.String() + " closed"
		}
		out = append(out, s)
	}
	if r.ICMPErrorCount > 0 {
		e := r.ICMPErrors[0]
		s := fmt.Sprintf("ICMP %d/%d from %s", e.Type, e.Code, e.From)
		if e.MTU > 0 {
			s += fmt.Sprintf(" mtu %d", e.MTU)
		}
		if r.ICMPErrorCount > 1 {
			s += fmt.Sprintf(" ×%d", r.ICMPErrorCount)
		}
		out = append(out, s)
	}
	for _, side := range []struct {
		name string
		s    *conn.Side
	}{{"orig", &r.Orig}, {"resp", &r.Resp}} {
		c := &side.s.Checksums
		if c.Verdict != conn.ChecksumsOK {
			out = append(out, fmt.Sprintf("%s checksums %s (%d)", side.name, c.Verdict, c.Wrong()))
		}
		if !side.s.TTL.Constant() && len(side.s.TTL.Values) > 1 {
			out = append(out, side.name+" ttl "+ttlSummary(&side.s.TTL))
		}
		if len(side.s.IPID.Outliers) > 0 {
			out = append(out, side.name+" ip-id "+ipidSummary(&side.s.IPID))
		}
	}
	switch p := r.Timestamps(); p {
	case conn.OrigOnly, conn.RespOnly:
		out = append(out, "timestamps "+p.String())
	}
	if r.MissedBytes > 0 {
		out = append(out, fmt.Sprintf("missed %d bytes", r.MissedBytes))
	}
	if r.Annotated {
		rx := r.Orig.Analysis.Count(tcp.Retransmission) + r.Resp.Analysis.Count(tcp.Retransmission)
		dup := r.Orig.Analysis.Count(tcp.DuplicateAck) + r.Resp.Analysis.Count(tcp.DuplicateAck)
		zw := r.Orig.Analysis.Count(tcp.ZeroWindow) + r.Resp.Analysis.Count(tcp.ZeroWindow)
		if rx > 0 {
			out = append(out, fmt.Sprintf("%d retransmissions", rx))
		}
		if dup > 0 {
			out = append(out, fmt.Sprintf("%d dup acks", dup))
		}
		if zw > 0 {
			out = append(out, fmt.Sprintf("%d zero windows", zw))
		}
	}
	if len(r.TunnelParents) > 0 {
		out = append(out, "in "+strings.Join(r.TunnelParents, ","))
	}
	return out
}
