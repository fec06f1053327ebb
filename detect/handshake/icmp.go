package handshake

import (
	"fmt"
	"net/netip"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
)

// ICMPUnreachable reports SYNs answered by ICMP destination unreachable:
// a firewall REJECT, a router without a route, or a host that refuses by
// ICMP. Who sent the error matters: often a firewall, not the target.
var ICMPUnreachable = &detect.Detector{
	ID:   "handshake.icmp-unreachable",
	Doc:  "SYN answered by ICMP destination unreachable: the code and who sent it",
	Keep: icmpRefused,
	Run:  runICMP,
}

func icmpRefused(r *conn.Record) bool {
	if r.Proto != conn.ProtoTCP || r.Handshake.SYNACKs > 0 || r.ICMPErrorCount == 0 {
		return false
	}
	for _, e := range r.ICMPErrors {
		if e.About == conn.OrigRole && unreachable(e) {
			return true
		}
	}
	return false
}

func unreachable(e conn.ICMPError) bool {
	if e.V6 {
		return e.Type == 1
	}
	return e.Type == 3
}

// codeName words an ICMP destination-unreachable code (RFC 792, RFC 1812;
// RFC 4443 for ICMPv6).
func codeName(e conn.ICMPError) string {
	v4 := map[uint8]string{0: "network unreachable", 1: "host unreachable", 2: "protocol unreachable", 3: "port unreachable",
		4: "fragmentation needed", 5: "source route failed", 6: "destination network unknown", 7: "destination host unknown",
		9: "network administratively prohibited", 10: "host administratively prohibited", 13: "communication administratively prohibited",
		14: "host precedence violation", 15: "precedence cutoff"}
	v6 := map[uint8]string{0: "no route to destination", 1: "communication administratively prohibited", 2: "beyond scope of source address",
		3: "address unreachable", 4: "port unreachable", 5: "source address failed ingress/egress policy", 6: "reject route to destination"}
	m := v4
	if e.V6 {
		m = v6
	}
	if s, ok := m[e.Code]; ok {
		return s
	}
	return fmt.Sprintf("code %d", e.Code)
}

type icmpKey struct {
	from   netip.Addr
	v6     bool
	code   uint8
	server string
}

func runICMP(p *detect.Pass) error {
	for _, ds := range p.Datasets {
		var order []icmpKey
		groups := map[icmpKey][]*conn.Record{}
		errs := map[icmpKey]conn.ICMPError{}
		for _, r := range ds.Conns {
			if !icmpRefused(r) {
				continue
			}
			for _, e := range r.ICMPErrors {
				if e.About != conn.OrigRole || !unreachable(e) {
					continue
				}
				k := icmpKey{e.From, e.V6, e.Code, fmt.Sprintf("%s:%d", r.ID.RespH, r.ID.RespP)}
				if _, ok := groups[k]; !ok {
					order = append(order, k)
					errs[k] = e
				}
				groups[k] = append(groups[k], r)
				break
			}
		}
		for _, k := range order {
			recs := groups[k]
			e := errs[k]
			r := recs[0]
			srv := r.ID
			byTarget := e.From == srv.RespH
			who := fmt.Sprintf("%s, not the target %s: a firewall or router on the path", e.From, srv.RespH)
			if byTarget {
				who = fmt.Sprintf("the target %s itself", e.From)
			}
			f := detect.Finding{
				Severity:   detect.Error,
				Title:      fmt.Sprintf("SYNs to %s answered by ICMP %s from %s", k.server, codeName(e), e.From),
				Affected:   len(recs),
				Comparable: "connections to " + k.server,
				Score:      float64(len(recs)),
			}
			for i := range ds.Briefs {
				if b := &ds.Briefs[i]; b.Proto == conn.ProtoTCP && fmt.Sprintf("%s:%d", b.Resp.Addr, b.Resp.Port) == k.server {
					f.OutOf++
				}
			}
			for _, x := range recs {
				f.AddConn(detect.ConnOf(ds, x))
			}
			f.AddEvidence(detect.Packet(ds, r.Handshake.SYN, "SYN"))
			f.AddEvidence(detect.Packet(ds, e.Ref, fmt.Sprintf("ICMP %s from %s quoting the SYN", codeName(e), e.From)))
			typ := "ICMP"
			if e.V6 {
				typ = "ICMPv6"
			}
			f.Explanation = fmt.Sprintf("In %s, %s to %s got an %s destination unreachable (type %d code %d, %s) instead of a SYN-ACK. "+
				"The error was sent by %s. The quoted header inside it is the client's SYN, so the error is about these connections.",
				ds.Name, detect.Plural(len(recs), "connection"), k.server, typ, e.Type, e.Code, codeName(e), who)
			if !e.V6 && (e.Code == 9 || e.Code == 10 || e.Code == 13) || e.V6 && e.Code == 1 {
				f.Explanation += " Administratively prohibited is what a firewall rule with REJECT sends (iptables --reject-with icmp-admin-prohibited, a Cisco ACL): the path forbids this traffic."
			}
			f.AddFact("icmp_type", fmt.Sprint(e.Type))
			f.AddFact("icmp_code", fmt.Sprint(e.Code))
			f.AddFact("icmp_from", e.From.String())
			f.AddFact("server", k.server)
			f.NextSteps = []string{
				fmt.Sprintf("Find the device with address %s and the rule that rejects traffic to %s (its counters will grow with each attempt).", e.From, k.server),
			}
			if !byTarget {
				f.NextSteps = append(f.NextSteps, fmt.Sprintf("The target %s may be fine: the error comes from %s before it.", srv.RespH, e.From))
			} else {
				f.NextSteps = append(f.NextSteps, fmt.Sprintf("Check the host firewall on %s (iptables/nftables REJECT rules).", srv.RespH))
			}
			if !e.V6 && (e.Code == 0 || e.Code == 1) {
				f.NextSteps = append(f.NextSteps, fmt.Sprintf("Check routing towards %s on %s (ip route get).", srv.RespH, e.From))
			}
			p.Report(f)
		}
	}
	return nil
}
