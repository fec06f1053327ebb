package conn_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/synth"
	"github.com/wiresleuth/wiresleuth/packet"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// records runs a scenario through a Tracker (full Zeek defaults unless
// opt is given) and returns its TCP records.
func records(t *testing.T, name string, opt ...conn.Options) []*conn.Record {
	t.Helper()
	o := conn.DefaultOptions()
	if len(opt) > 0 {
		o = opt[0]
	}
	var out []*conn.Record
	for _, r := range run(t, scenarioByName(t, name).write(t, t.TempDir()), o) {
		if r.Proto == conn.ProtoTCP {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no TCP records", name)
	}
	return out
}

func one(t *testing.T, name string, opt ...conn.Options) *conn.Record {
	t.Helper()
	rs := records(t, name, opt...)
	if len(rs) != 1 {
		t.Fatalf("%s: %d TCP records, want 1", name, len(rs))
	}
	return rs[0]
}

func TestHandshakeRTTAndOptions(t *testing.T) {
	r := one(t, "clean")
	h := r.Handshake
	if !h.Complete() || h.RTT != 10*time.Millisecond || h.RespRTT() != 10*time.Millisecond || h.OrigRTT() != 0 {
		t.Errorf("handshake %+v: want SYN→ACK 10 ms, all of it on the server side (captured at the client)", h)
	}
	if h.SYNs != 1 || h.SYNACKs != 1 {
		t.Errorf("SYNs %d SYN-ACKs %d", h.SYNs, h.SYNACKs)
	}
	for _, s := range []conn.Side{r.Orig, r.Resp} {
		o := s.Options
		if !o.Seen || o.MSS != 1460 || !o.HasWScale || o.WScale != 7 || !o.SACKPermitted || !o.Timestamps {
			t.Errorf("options %+v", o)
		}
	}
	if r.Timestamps() != conn.Both {
		t.Errorf("timestamps %v", r.Timestamps())
	}
	// Captured in the middle, each half of the round trip shows.
	m := records(t, "loss-after")[0].Handshake
	if m.RespRTT() != 5*time.Millisecond || m.OrigRTT() != 5*time.Millisecond {
		t.Errorf("middle vantage: SYN→SYN-ACK %v, SYN-ACK→ACK %v, want 5 ms each", m.RespRTT(), m.OrigRTT())
	}
}

func TestTimestampsOnOneSide(t *testing.T) {
	r := one(t, "ts-one-side")
	if !r.Orig.Options.Timestamps || r.Resp.Options.Timestamps {
		t.Errorf("options: orig %+v resp %+v", r.Orig.Options, r.Resp.Options)
	}
	if got := r.Timestamps(); got != conn.OrigOnly {
		t.Errorf("timestamps %v, want orig only", got)
	}
	// Negotiated off: only the SYN carries them.
	if r.Orig.TSPackets != 1 || r.Resp.TSPackets != 0 || r.Orig.NoTSPackets == 0 {
		t.Errorf("segments with timestamps: orig %d/%d resp %d/%d", r.Orig.TSPackets, r.Orig.NoTSPackets, r.Resp.TSPackets, r.Resp.NoTSPackets)
	}
	// The F5 case: neither side.
	if got := records(t, "stale-ack")[0].Timestamps(); got != conn.Neither {
		t.Errorf("stale-ack timestamps %v, want neither", got)
	}
}

func TestIPBehaviourClasses(t *testing.T) {
	r := one(t, "clean")
	if r.Orig.IPID.Class != conn.IDIncrementing || r.Resp.IPID.Class != conn.IDIncrementing {
		t.Errorf("clean: IP ID classes %v %v", r.Orig.IPID.Class, r.Resp.IPID.Class)
	}
	if r.Resp.IPID.Zero != 1 {
		t.Errorf("clean: the Linux server's SYN-ACK should be its one zero ID, got %d", r.Resp.IPID.Zero)
	}
	if !r.Orig.TTL.Constant() || r.Orig.TTL.Dominant() != 64 {
		t.Errorf("clean: TTL %+v", r.Orig.TTL)
	}
	r = one(t, "ts-one-side")
	if r.Orig.IPID.Class != conn.IDZero || r.Resp.IPID.Class != conn.IDRandom {
		t.Errorf("ts-one-side: IP ID classes %v %v, want zero and random", r.Orig.IPID.Class, r.Resp.IPID.Class)
	}
	// IPv6 has no IP ID.
	r = one(t, "ipv6-reorder")
	if r.Orig.IPID.Class != conn.IDUnknown || r.Orig.IPID.Packets != 0 {
		t.Errorf("ipv6: %+v", r.Orig.IPID)
	}
}

// TestForgedRSTDoesNotFit: a RST injected five hops closer than the server
// stands out by its TTL and by an IP ID off the server's counter.
func TestForgedRSTDoesNotFit(t *testing.T) {
	r := one(t, "forged-rst")
	if r.Close.By != conn.RespRole || r.Close.How != conn.ByRST {
		t.Fatalf("close %+v", r.Close)
	}
	ttl := r.Resp.TTL
	if len(ttl.Values) != 2 || ttl.Dominant() != 58 || ttl.Values[1].TTL != 62 || ttl.Values[1].Count != 1 || ttl.Values[1].First != r.Close.At {
		t.Errorf("TTLs %+v: want 58 from the server and 62 once, on the RST", ttl)
	}
	id := r.Resp.IPID
	if id.Class != conn.IDIncrementing || len(id.Outliers) != 1 || id.Outliers[0].Ref != r.Close.At || id.Outliers[0].ID != 47123 {
		t.Errorf("IP ID %+v: want an incrementing server with the RST as outlier", id)
	}
	if o := r.Orig.IPID; len(o.Outliers) != 0 || o.Class != conn.IDIncrementing {
		t.Errorf("client IP ID %+v", o)
	}
}

// TestChecksumOffloadVersusCorruption: partial checksums on the capturing
// host's own packets are offload; bad checksums on packets that arrived
// are corruption.
func TestChecksumOffloadVersusCorruption(t *testing.T) {
	opt := conn.DefaultOptions()
	opt.IgnoreChecksums = true // -C: one record, as Zeek with -C
	r := one(t, "offload", opt)
	if r.Orig.Checksums.Verdict != conn.ChecksumsOffload || r.Orig.Checksums.Partial != r.Orig.Packets || r.Orig.Checksums.Good != 0 {
		t.Errorf("offload, client side: %+v", r.Orig.Checksums)
	}
	if r.Resp.Checksums.Verdict != conn.ChecksumsOK || r.Resp.Checksums.Good != r.Resp.Packets {
		t.Errorf("offload, server side: %+v", r.Resp.Checksums)
	}
	if r.History != "ShADdFaf" || r.State != conn.SF {
		t.Errorf("with -C the connection is whole: %s %v", r.History, r.State)
	}
	// Without -C, Zeek drops the client's packets: two records (the SYN's,
	// then one from the SYN-ACK on), and still the offload verdict.
	rs := records(t, "offload")
	if len(rs) != 2 || rs[0].History != "C" || rs[1].History != "^hCdaf" || rs[1].Orig.Checksums.Verdict != conn.ChecksumsOffload {
		t.Errorf("offload without -C: %d records %q", len(rs), hist(rs))
	}

	r = one(t, "corrupt")
	c := r.Resp.Checksums
	if c.Verdict != conn.ChecksumsCorrupt || c.Bad != 2 || len(c.Samples) != 2 || c.Constant {
		t.Errorf("corrupt, server side: %+v", c)
	}
	if r.Orig.Checksums.Verdict != conn.ChecksumsOK {
		t.Errorf("corrupt, client side: %+v", r.Orig.Checksums)
	}
	if r.History != "ShADdctFaf" {
		t.Errorf("corrupt history %s: the bad segments are c, their resends t", r.History)
	}
}

func hist(rs []*conn.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.History)
	}
	return out
}

func TestICMPErrorMatched(t *testing.T) {
	r := one(t, "icmp-prohibited")
	if r.ICMPErrorCount != 2 || len(r.ICMPErrors) != 2 {
		t.Fatalf("%d ICMP errors", r.ICMPErrorCount)
	}
	e := r.ICMPErrors[0]
	if e.From != fwAddr || e.Type != 3 || e.Code != 13 || e.About != conn.OrigRole || !e.HasSeq || e.QuotedSeq != 1000 {
		t.Errorf("ICMP error %+v", e)
	}
	if e.Ref.Frame != 2 || r.State != conn.S0 || r.History != "S" {
		t.Errorf("frame %d, state %v %s", e.Ref.Frame, r.State, r.History)
	}
	n := 0
	for _, ev := range r.Evidence {
		if ev.Kind == conn.EvICMPError {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d ICMP errors among the evidence", n)
	}
}

// TestIdleGapBeforeClose: the OpenStack case (the server's FIN lost: the
// client idles, then resets) and a plain idle minute before a FIN.
func TestIdleGapBeforeClose(t *testing.T) {
	r := one(t, "lost-fin")
	id := r.Idle
	if id.Gap < 60*time.Second || !id.AfterLastData || !id.EndsWithClose || id.ClosedBy != conn.OrigRole {
		t.Errorf("lost-fin idle %+v", id)
	}
	if r.Close.By != conn.OrigRole || r.Close.How != conn.ByRST || r.Close.At != id.To || r.Resp.FIN.Valid() {
		t.Errorf("lost-fin close %+v, server FIN %+v", r.Close, r.Resp.FIN)
	}
	if id.From != r.Resp.LastData && id.From.Time < r.Resp.LastData.Time {
		t.Errorf("the gap starts before the last data: %+v vs %+v", id.From, r.Resp.LastData)
	}
	r = one(t, "idle-close")
	id = r.Idle
	if id.Gap < 59*time.Second || id.Gap > 61*time.Second || !id.AfterLastData || !id.EndsWithClose || r.Close.How != conn.ByFIN || r.Close.By != conn.OrigRole {
		t.Errorf("idle-close idle %+v close %+v", id, r.Close)
	}
	// A busy connection has no long gap and the close is not after one.
	r = one(t, "clean")
	if r.Idle.Gap > 20*time.Millisecond || r.Idle.EndsWithClose {
		t.Errorf("clean idle %+v", r.Idle)
	}
}

func TestEvidenceBounded(t *testing.T) {
	r := one(t, "clean")
	want := []conn.EvidenceKind{conn.EvSYN, conn.EvSYNACK, conn.EvFirstData, conn.EvFirstData, conn.EvFIN, conn.EvFIN}
	if len(r.Evidence) != len(want) {
		t.Fatalf("evidence %+v", r.Evidence)
	}
	for i, k := range want {
		if r.Evidence[i].Kind != k {
			t.Errorf("evidence %d is %v, want %v", i, r.Evidence[i].Kind, k)
		}
	}
	if r.Evidence[0].From != conn.OrigRole || r.Evidence[1].From != conn.RespRole || r.FirstFrame != 1 || r.LastFrame != 28 {
		t.Errorf("evidence %+v frames %d-%d", r.Evidence[:2], r.FirstFrame, r.LastFrame)
	}
	// Zeek's retransmission rule stands in without annotations.
	n := 0
	for _, ev := range records(t, "loss-after")[0].Evidence {
		if ev.Kind == conn.EvRetransmission {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d retransmissions among the evidence, want 2", n)
	}
	// A long connection never keeps more than MaxEvidence.
	for _, s := range scenarios() {
		for _, r := range run(t, s.write(t, t.TempDir()), conn.DefaultOptions()) {
			if len(r.Evidence) > conn.MaxEvidence || len(r.ICMPErrors) > conn.MaxICMPErrors {
				t.Errorf("%s: %d evidence, %d ICMP errors", s.name, len(r.Evidence), len(r.ICMPErrors))
			}
		}
	}
}

// TestAnalysisCounters feeds annotations such as tcp.Analyzer produces
// and checks they are counted per side and cited.
func TestAnalysisCounters(t *testing.T) {
	path := scenarioByName(t, "clean").write(t, t.TempDir())
	rd, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var got []*conn.Record
	tr := conn.New(conn.DefaultOptions(), func(r *conn.Record) { got = append(got, r) })
	d := conn.NewDecoder()
	var p packet.Packet
	for f, err := range rd.Frames() {
		if err != nil {
			t.Fatal(err)
		}
		d.Decode(f, &p)
		a := &tcp.Annotation{}
		switch p.Frame {
		case 6:
			a.Flags = tcp.Retransmission | tcp.FastRetransmission
		case 7, 8:
			a.Flags = tcp.DuplicateAck
		case 9:
			a.Flags = tcp.ZeroWindow
		}
		tr.Observe(&p, a)
	}
	tr.Finish()
	r := got[0]
	if !r.Annotated {
		t.Fatal("not annotated")
	}
	all := r.Orig.Analysis
	for i, v := range r.Resp.Analysis {
		all[i] += v
	}
	if all.Count(tcp.Retransmission) != 1 || all.Count(tcp.FastRetransmission) != 1 || all.Count(tcp.DuplicateAck) != 2 || all.Count(tcp.ZeroWindow) != 1 || all.Count(tcp.KeepAlive) != 0 {
		t.Errorf("counts %v", all)
	}
	kinds := map[conn.EvidenceKind]int64{}
	for _, ev := range r.Evidence {
		kinds[ev.Kind] = ev.Frame
	}
	if kinds[conn.EvRetransmission] != 6 || kinds[conn.EvZeroWindow] != 9 {
		t.Errorf("evidence %+v", r.Evidence)
	}
}

// TestTunnelParents: the inner connection names the outer UDP tunnel.
func TestTunnelParents(t *testing.T) {
	var frames []synth.Frame
	outerA, outerB := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i, fl := range []uint8{synth.SYN, synth.SYN | synth.ACK, synth.ACK} {
		src, dst, sp, dp := cliAddr.Addr(), srvAddr.Addr(), cliAddr.Port(), srvAddr.Port()
		osrc, odst := outerA, outerB
		if i == 1 {
			src, dst, sp, dp = dst, src, dp, sp
			osrc, odst = outerB, outerA
		}
		b := synth.Encode(nil, &synth.Ethernet{Src: cliMAC, Dst: srvMAC}, &synth.IPv4{Src: osrc, Dst: odst},
			&synth.UDP{SrcPort: 40000 + uint16(i&1), DstPort: 4789}, &synth.VXLAN{VNI: 42},
			&synth.Ethernet{Src: cliMAC, Dst: srvMAC}, &synth.IPv4{Src: src, Dst: dst},
			&synth.TCP{SrcPort: sp, DstPort: dp, Seq: 1000 + uint32(i), Ack: uint32(i), Flags: fl, Window: 1000})
		frames = append(frames, synth.Frame{Time: t0.Add(time.Duration(i) * time.Millisecond), Data: b})
	}
	path := scenario{"vxlan", frames}.write(t, t.TempDir())
	rs := run(t, path, conn.DefaultOptions())
	var inner *conn.Record
	outer := map[string]*conn.Record{}
	for _, r := range rs {
		if r.Proto == conn.ProtoTCP {
			inner = r
		} else {
			outer[r.UID] = r
		}
	}
	if inner == nil || len(outer) != 2 || len(inner.TunnelParents) != 2 {
		t.Fatalf("records %d, parents %v", len(rs), inner)
	}
	for _, p := range inner.TunnelParents {
		o := outer[p]
		if o == nil || o.Service != "vxlan" || o.ID.RespP != 4789 || o.History != "D" {
			t.Errorf("parent %s: %+v", p, o)
		}
	}
	if inner.History != "ShA" || inner.State != conn.S1 {
		t.Errorf("inner %s %v", inner.History, inner.State)
	}
}

// TestGREInner: Zeek's GRE analyzer decapsulates; the inner connection is
// logged with the tunnel as its parent and the GRE packets make no
// connection of their own (the Python model differs here; see
// modelDeviations).
func TestGREInner(t *testing.T) {
	opt := conn.DefaultOptions()
	opt.IgnoreChecksums = true
	rs := run(t, corpus.Path(t, "testdata", "gre.pcap"), opt)
	uids := map[string]bool{}
	var inner *conn.Record
	for _, r := range rs {
		uids[r.UID] = true
		if r.Proto == conn.ProtoUnknown {
			t.Errorf("GRE logged as a connection: %+v", r.ID)
		}
		if r.Proto == conn.ProtoTCP {
			inner = r
		}
	}
	if inner == nil || inner.State != conn.SF || inner.History != "ShADadfF" || len(inner.TunnelParents) != 1 || uids[inner.TunnelParents[0]] {
		t.Fatalf("inner TCP %+v", inner)
	}
}

// TestWithAnalyzer runs tcp.Analyzer in front of the Tracker, as the
// pipeline does: every flag the analyzer sets lands in exactly one
// record's counters, on the side that sent the segment.
func TestWithAnalyzer(t *testing.T) {
	path := scenarioByName(t, "loss-after").write(t, t.TempDir())
	rd, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var recs []*conn.Record
	tr := conn.New(conn.DefaultOptions(), func(r *conn.Record) { recs = append(recs, r) })
	an := tcp.NewAnalyzer(tcp.Config{})
	d := conn.NewDecoder()
	var p packet.Packet
	var ann tcp.Annotation
	var want, fromServer conn.Analysis
	for f, err := range rd.Frames() {
		if err != nil {
			t.Fatal(err)
		}
		d.Decode(f, &p)
		a := &ann
		if !an.Analyze(&p, a) {
			a = nil
		}
		tr.Observe(&p, a)
		if a != nil && p.TCP != nil {
			for i := range conn.NumAnalysisFlags {
				if a.Flags&(1<<i) != 0 {
					want[i]++
					if p.SrcPort == srvAddr.Port() {
						fromServer[i]++
					}
				}
			}
		}
	}
	tr.Finish()
	if len(recs) != 1 || !recs[0].Annotated {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	var got conn.Analysis
	for i := range got {
		got[i] = r.Orig.Analysis[i] + r.Resp.Analysis[i]
	}
	if got != want || r.Resp.Analysis != fromServer {
		t.Errorf("counters %v (server %v), analyzer flagged %v (server %v)", got, r.Resp.Analysis, want, fromServer)
	}
	if want[0] == 0 {
		t.Error("the scenario has no retransmission: the test proves nothing")
	}
}
