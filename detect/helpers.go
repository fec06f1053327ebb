package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/flow"
)

// ConnOf identifies a record's connection for a finding (client = Zeek's
// originator).
func ConnOf(ds *Dataset, r *conn.Record) Conn {
	return NewConn(ds.Name, r.Proto.String(), flow.Endpoint{Addr: r.ID.OrigH, Port: r.ID.OrigP},
		flow.Endpoint{Addr: r.ID.RespH, Port: r.ID.RespP}, r.Start, r.UID)
}

// Packet cites a frame as evidence; the tcpdump-style line is filled in
// when the report is assembled (package diagnose reads the frames again).
func Packet(ds *Dataset, ref conn.Ref, note string) Evidence {
	return Evidence{Capture: ds.Name, Frame: ref.Frame, Time: ref.Time, Note: note}
}

// Seconds formats a duration for an explanation: "3.0 s", "250 ms".
func Seconds(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f µs", float64(d)/1e3)
}

// Plural returns "1 connection" / "3 connections" ("queries", "boxes").
func Plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	switch {
	case len(word) > 1 && strings.HasSuffix(word, "y") && !strings.ContainsRune("aeiou", rune(word[len(word)-2])):
		word = word[:len(word)-1] + "ie"
	case strings.HasSuffix(word, "s") || strings.HasSuffix(word, "x") || strings.HasSuffix(word, "ch") || strings.HasSuffix(word, "sh"):
		word += "e"
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ByServer groups records by their responder endpoint, keeping first-seen
// order, for findings that name one service.
func ByServer(recs []*conn.Record) (order []flow.Endpoint, groups map[flow.Endpoint][]*conn.Record) {
	groups = map[flow.Endpoint][]*conn.Record{}
	for _, r := range recs {
		e := flow.Endpoint{Addr: r.ID.RespH, Port: r.ID.RespP}
		if _, ok := groups[e]; !ok {
			order = append(order, e)
		}
		groups[e] = append(groups[e], r)
	}
	return order, groups
}

// CountTo returns how many connections of the dataset went to server, and
// for TCP how many of those were attempted with a SYN: the "out of"
// denominator of a finding about one service.
func CountTo(ds *Dataset, proto conn.Proto, server flow.Endpoint) int {
	n := 0
	for i := range ds.Briefs {
		b := &ds.Briefs[i]
		if b.Proto == proto && b.Resp == server {
			n++
		}
	}
	return n
}
