package vantage

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/correlate"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
)

// connOf identifies a correlated connection for a finding, as capture v
// saw it.
func connOf(p *correlate.Path, c correlate.ConnRef) detect.Conn {
	v := p.View(c)
	proto := map[uint8]string{6: "tcp", 17: "udp", 1: "icmp", 58: "icmp"}[v.Proto]
	if proto == "" {
		proto = fmt.Sprint(v.Proto)
	}
	return detect.NewConn(p.Name(c.V), proto, v.A, v.B, v.Start, "")
}

// evidence cites a packet.
func evidence(p *correlate.Path, v int, pk correlate.PacketInfo, note string) detect.Evidence {
	return detect.Evidence{Capture: p.Name(v), Frame: pk.Frame, Time: pk.Time, Note: note}
}

// counted writes "12 FIN, 2 bare ACK" in kind order.
func counted(n map[correlate.Kind]int) string {
	var ks []correlate.Kind
	for k := range n {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%d %s", n[k], kindWord(k, n[k])))
	}
	return strings.Join(parts, ", ")
}

// kindsFact writes "FIN=12,bare ACK=2".
func kindsFact(n map[correlate.Kind]int) string {
	var ks []correlate.Kind
	for k := range n {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n[k]))
	}
	return strings.Join(parts, ",")
}

func kindWord(k correlate.Kind, n int) string {
	s := k.String()
	if n == 1 {
		if k == correlate.KindData {
			return "data segment"
		}
		return s
	}
	switch k {
	case correlate.KindSYN, correlate.KindSYNACK, correlate.KindFIN, correlate.KindRST, correlate.KindACK:
		return s + "s"
	case correlate.KindData:
		return "data segments"
	case correlate.KindICMP:
		return "ICMP messages"
	case correlate.KindUDP:
		return "UDP datagrams"
	}
	return s + " packets"
}

// hosts lists the distinct addresses, most frequent first.
func hosts(addrs []netip.Addr) []netip.Addr {
	n := map[netip.Addr]int{}
	for _, a := range addrs {
		n[a]++
	}
	var out []netip.Addr
	for a := range n {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int {
		if c := cmp.Compare(n[b], n[a]); c != 0 {
			return c
		}
		return a.Compare(b)
	})
	return out
}

// endpoints lists the distinct endpoints, most frequent first.
func endpoints(eps []flow.Endpoint) []flow.Endpoint {
	n := map[flow.Endpoint]int{}
	for _, e := range eps {
		n[e]++
	}
	var out []flow.Endpoint
	for e := range n {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b flow.Endpoint) int {
		if c := cmp.Compare(n[b], n[a]); c != 0 {
			return c
		}
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	return out
}

// who names one sender or several: "10.99.1.2:80", "10.99.1.2", "3 hosts".
func who(eps []flow.Endpoint) string {
	es := endpoints(eps)
	if len(es) == 1 {
		if es[0].Port == 0 {
			return es[0].Addr.String()
		}
		return es[0].String()
	}
	var as []netip.Addr
	for _, e := range eps {
		as = append(as, e.Addr)
	}
	hs := hosts(as)
	if len(hs) == 1 {
		return hs[0].String()
	}
	return fmt.Sprintf("%d hosts", len(hs))
}

func whoHost(eps []flow.Endpoint) string {
	var as []netip.Addr
	for _, e := range eps {
		as = append(as, e.Addr)
	}
	hs := hosts(as)
	if len(hs) == 1 {
		return hs[0].String()
	}
	return fmt.Sprintf("%d hosts", len(hs))
}

// pktWords describes a packet briefly: "FIN from 10.99.1.2:80 (40 bytes)".
func pktWords(pk correlate.PacketInfo) string {
	src := pk.Src.String()
	if pk.Src.Port == 0 {
		src = pk.Src.Addr.String()
	}
	return fmt.Sprintf("%s from %s (%d bytes)", pk.Kind, src, pk.IPLen)
}

func timeOf(p *correlate.Path, v int, t capture.Time) string {
	return t.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
