package diagnose

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/all"
	"github.com/wiresleuth/wiresleuth/detect/vantage"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

func datasetsOf(t *testing.T, example string) []*detect.Dataset {
	t.Helper()
	in, _, err := Inputs([]string{corpus.Path(t, "examples/"+example)})
	if err != nil {
		t.Fatal(err)
	}
	var dss []*detect.Dataset
	for _, i := range in {
		ds, err := detect.Build(detect.BuildOptions{Name: i.Name, File: i.File, Detectors: all.Detectors(), NoApp: true, Captures: len(in)})
		if err != nil {
			t.Fatal(err)
		}
		dss = append(dss, ds)
	}
	return dss
}

func ep(s string) flow.Endpoint {
	ap := netip.MustParseAddrPort(s)
	return flow.Endpoint{Addr: ap.Addr(), Port: ap.Port()}
}

// TestMergeFates: a single-capture finding about SYNs says where along the
// path they were seen and where they vanished.
func TestMergeFates(t *testing.T) {
	dss := datasetsOf(t, "syn-drop")
	fs, err := detect.Run(all.Detectors(), dss)
	if err != nil {
		t.Fatal(err)
	}
	merged := mergeVantages(fs, dss, vantage.Path(dss))
	for _, f := range merged {
		if f.ID != "handshake.unanswered" {
			continue
		}
		got := strings.Join(f.Vantages, "\n")
		for _, want := range []string{
			"shows at client, router-in; the connections never appear at router-out, server",
			"10.99.0.2:40002 sent SYN 3 times: all 3 reached client, router-in; none reached router-out, server",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("vantage lines lack %q:\n%s", want, got)
			}
		}
		if !strings.Contains(f.Evidence[0].Note, "never at router-out") {
			t.Errorf("evidence note %q", f.Evidence[0].Note)
		}
		return
	}
	t.Fatal("no handshake.unanswered finding")
}

// TestMergeNAT: the same finding reported before and behind a source NAT
// is one finding: the connection is recognised under its translated
// addresses.
func TestMergeNAT(t *testing.T) {
	dss := datasetsOf(t, "snat-mss-clamp")
	p := vantage.Path(dss)
	before := detect.Finding{ID: "test.fault", Connections: []detect.Conn{detect.NewConn("router-in", "tcp", ep("10.99.0.2:40001"), ep("10.99.1.2:80"), dss[1].Summary.Start, "")}}
	// The translated port is whatever the router chose: read it from the
	// server's capture.
	var after detect.Finding
	for _, b := range dss[3].Briefs {
		if b.Resp == ep("10.99.1.2:80") {
			after = detect.Finding{ID: "test.fault", Connections: []detect.Conn{detect.NewConn("server", "tcp", b.Orig, b.Resp, b.Start, "")}}
		}
	}
	if after.ID == "" {
		t.Fatal("no connection at the server")
	}
	merged := mergeVantages([]detect.Finding{after, before}, dss, p)
	if len(merged) != 1 {
		t.Fatalf("%d findings after merging", len(merged))
	}
	f := merged[0]
	if f.Connections[0].Capture != "router-in" {
		t.Errorf("kept the view of %s, want the upstream one", f.Connections[0].Capture)
	}
	if !strings.Contains(f.Vantages[0], "shows at router-in, server") || !strings.Contains(f.Vantages[0], "router-out (as 10.99.1.1:") {
		t.Errorf("%q", f.Vantages[0])
	}
}
