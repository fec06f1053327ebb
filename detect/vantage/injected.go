package vantage

import (
	"fmt"
	"strings"

	"github.com/wiresleuth/wiresleuth/correlate"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// Injected reports packets seen at one capture point and never at the
// previous one on their way, while that one was capturing: made by
// something between the two (a firewall's RST or ICMP error, a repeated
// SYN-ACK), not by the host whose address they carry.
var Injected = &detect.Detector{
	ID:       "path.injected",
	Doc:      "packets that appear between two points of the path: RSTs and ICMP errors from a firewall, a repeated SYN-ACK, made by a device in between",
	Requires: []*detect.Observer{Observer},
	Run:      runInjected,
}

func runInjected(p *detect.Pass) error {
	path := Path(p.Datasets)
	if path == nil {
		return nil
	}
	order, groups := groupEvents(path.Injected())
	for _, k := range order {
		p.Report(injectedFinding(path, k, groups[k]))
	}
	return nil
}

func injectedFinding(path *correlate.Path, k segKey, es []correlate.Event) detect.Finding {
	at, before := path.Name(k.from), path.Name(k.to)
	kinds := map[correlate.Kind]int{}
	var srcs, dsts []flow.Endpoint
	conns := map[correlate.ConnRef]bool{}
	var order []correlate.ConnRef
	for _, e := range es {
		kinds[e.Packet.Kind]++
		srcs = append(srcs, e.Packet.Src)
		dsts = append(dsts, e.Packet.Dst)
		if !conns[e.Conn] {
			conns[e.Conn] = true
			order = append(order, e.Conn)
		}
	}
	// Compare TTLs with the genuine packets from the same senders at
	// the same point: a device in between starts its own count.
	ttlOwn := map[uint8]int{}
	sender := srcs[0].Addr
	path.Packets(k.from, func(pk correlate.PacketInfo, c correlate.ConnRef, injected bool) {
		if !injected && pk.Src.Addr == sender && pk.Kind != correlate.KindICMP {
			ttlOwn[pk.TTL]++
		}
	})
	f := detect.Finding{
		Severity:   detect.Warning,
		Affected:   len(conns),
		OutOf:      path.Conns(k.from),
		Comparable: "connections seen at " + at,
		Score:      float64(len(conns)),
	}
	f.Title = fmt.Sprintf("%s in the name of %s appeared between %s and %s", plural(len(es), "packet", "packets"), who(srcs), before, at)
	var b strings.Builder
	fmt.Fprintf(&b, "%s from %s to %s %s seen at %s but never at %s, which lies before it on their way and was capturing at the time: %s, on %s. "+
		"They were made between %s and %s — by a device in between (a firewall or proxy answering in an endpoint's name, or duplicating packets), not by %s itself beyond %s.",
		plural(len(es), "packet", "packets"), who(srcs), whoHost(dsts), wasWere(len(es)), at, before, counted(kinds), plural(len(conns), "connection", "connections"),
		before, at, whoHost(srcs), before)
	if len(ttlOwn) > 0 {
		own, n := uint8(0), 0
		for t, c := range ttlOwn {
			if c > n {
				own, n = t, c
			}
		}
		if ttl := es[0].Packet.TTL; ttl != own {
			fmt.Fprintf(&b, " Their TTL (%d) differs from that of %s's own packets at %s (%d): another device set it.", ttl, whoHost(srcs), at, own)
			f.AddFact("ttl_injected", fmt.Sprint(ttl))
			f.AddFact("ttl_genuine", fmt.Sprint(own))
		}
	}
	f.Explanation = b.String()
	for _, c := range order {
		f.AddConn(connOf(path, c))
	}
	for i, e := range es {
		if i >= 8 {
			break
		}
		f.AddEvidence(evidence(path, e.Vantage, e.Packet, fmt.Sprintf("%s: seen at %s, never at %s before it", pktWords(e.Packet), at, before)))
	}
	f.AddFact("segment", before+"→"+at)
	f.AddFact("from", before)
	f.AddFact("to", at)
	f.AddFact("injected", fmt.Sprint(len(es)))
	f.AddFact("kinds", kindsFact(kinds))
	f.AddFact("senders", strings.Join(epStrings(endpoints(srcs)), ","))
	f.NextSteps = []string{
		fmt.Sprintf("Find the device between %s and %s that answers or forwards in %s's name: firewall REJECT rules (iptables -j REJECT --reject-with tcp-reset), IPS/DPI reset actions, load balancers, a second router forwarding the same traffic.", before, at, whoHost(srcs)),
		"Compare the injected packets' TTL, IP ID and MAC address with the genuine ones: a different hop count or MAC points at the device that made them.",
	}
	return f
}
