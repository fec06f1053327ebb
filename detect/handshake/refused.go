package handshake

import (
	"fmt"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
)

// Refused reports SYNs answered by a reset from the target itself: nothing
// listens on that port. A reset that does not come from the target (a
// firewall forging one, telling TTL) is reset.forged's, not this.
var Refused = &detect.Detector{
	ID:   "handshake.refused",
	Doc:  "SYN answered by RST from the target itself: nothing listening on the port",
	Keep: refused,
	Run:  runRefused,
}

func refused(r *conn.Record) bool {
	return r.Proto == conn.ProtoTCP && r.State == conn.REJ && r.Handshake.SYNACKs == 0 && r.Resp.RST.Valid()
}

// fromTarget reports whether the responder's reset fits the responder: a
// forged reset arrives with another TTL than the responder's other
// packets. With the reset as the responder's only packet there is nothing
// to compare within the connection; the detector compares with other
// connections to the same host (see hostTTL).
func fromTarget(r *conn.Record, hostTTL map[string]uint8) bool {
	ttl := r.Resp.TTL.Dominant()
	want, ok := hostTTL[r.ID.RespH.String()]
	return !ok || want == ttl
}

func runRefused(p *detect.Pass) error {
	for _, ds := range p.Datasets {
		hostTTL := establishedTTLs(ds)
		var hit []*conn.Record
		for _, r := range ds.Conns {
			if refused(r) && fromTarget(r, hostTTL) {
				hit = append(hit, r)
			}
		}
		order, groups := detect.ByServer(hit)
		for _, srv := range order {
			recs := groups[srv]
			outOf := detect.CountTo(ds, conn.ProtoTCP, srv)
			f := detect.Finding{
				Severity:   detect.Error,
				Title:      fmt.Sprintf("%s refused the connection: nothing listens on port %d", srv.Addr, srv.Port),
				Affected:   len(recs),
				OutOf:      outOf,
				Comparable: fmt.Sprintf("connections to %s", srv),
				Score:      float64(len(recs)),
			}
			for _, r := range recs {
				f.AddConn(detect.ConnOf(ds, r))
			}
			r := recs[0]
			f.AddEvidence(detect.Packet(ds, r.Handshake.SYN, "SYN"))
			f.AddEvidence(detect.Packet(ds, r.Resp.RST, fmt.Sprintf("RST from %s, TTL %d", srv.Addr, r.Resp.TTL.Dominant())))
			f.Explanation = fmt.Sprintf("In %s, %s to %s were answered at once with a reset (RST-ACK) instead of a SYN-ACK. "+
				"The reset comes from the target host itself (its TTL matches the host's other packets, or there are none to compare), "+
				"which is what an operating system sends when no socket listens on the port.", ds.Name, detect.Plural(len(recs), "SYN"), srv)
			f.AddFact("server", srv.String())
			f.AddFact("ttl", fmt.Sprint(r.Resp.TTL.Dominant()))
			f.NextSteps = []string{
				fmt.Sprintf("Check that the service runs and listens on %s (ss -ltnp on the host).", srv),
				"Check the client's configuration: host and port, and whether the service moved.",
				"If the service listens only on some addresses (127.0.0.1, another interface), fix its bind address.",
			}
			p.Report(f)
		}
	}
	return nil
}

// establishedTTLs returns, per host, the TTL its packets arrived with in
// connections where it completed a handshake: the TTL a genuine reset from
// it would have too.
func establishedTTLs(ds *detect.Dataset) map[string]uint8 {
	out := map[string]uint8{}
	for i := range ds.Briefs {
		if b := &ds.Briefs[i]; b.HandshakeDone && b.RespTTL != 0 {
			out[b.Resp.Addr.String()] = b.RespTTL
		}
	}
	return out
}
