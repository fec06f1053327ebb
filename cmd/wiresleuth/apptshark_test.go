package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/app/http1"
	"github.com/wiresleuth/wiresleuth/app/oncrpc"
	"github.com/wiresleuth/wiresleuth/app/track"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/tshark"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// appFieldSets are the application fields compared with tshark, by
// protocol: every field `packets` has under a tshark name that the
// captures exercise.
var appFieldSets = map[string][]string{
	"http": {"http.request.method", "http.request.uri", "http.request.version", "http.host", "http.connection",
		"http.content_length", "http.transfer_encoding", "http.response.code", "http.response.phrase",
		"http.response.version", "http.request_in", "http.time", "http.request_number"},
	"ftp": {"ftp.request.command", "ftp.request.arg", "ftp.response.code", "ftp.response.arg", "ftp.passive.ip",
		"ftp.passive.port", "ftp.epsv.port", "ftp.active.cip", "ftp.active.port", "ftp.eprt.port"},
	"dns": {"dns.id", "dns.flags.response", "dns.flags.opcode", "dns.flags.truncated", "dns.flags.rcode",
		"dns.count.answers", "dns.qry.name", "dns.qry.type", "dns.qry.class", "dns.resp.name", "dns.resp.type",
		"dns.a", "dns.aaaa", "dns.cname", "dns.response_to", "dns.time", "dns.retransmission",
		"dns.retransmit_request_in"},
	"tls": {"tls.handshake.type", "tls.handshake.version", "tls.handshake.ciphersuite",
		"tls.handshake.extensions_server_name", "tls.handshake.extensions_alpn_str",
		"tls.handshake.extensions.supported_version", "tls.alert_message.level", "tls.alert_message.desc"},
	"rpc": {"rpc.xid", "rpc.msgtyp", "rpc.version", "rpc.program", "rpc.programversion", "rpc.procedure",
		"rpc.auth.flavor", "rpc.auth.uid", "rpc.auth.gid", "rpc.repframe", "rpc.time", "rpc.replystat",
		"rpc.state_accept", "rpc.programversion.min", "rpc.programversion.max", "rpc.state_reject",
		"rpc.version.min", "rpc.version.max", "rpc.state_auth"},
	"rpc programs": {"gluster.op_ret", "gluster.op_errno", "glusterfs.hndsk.proc", "gluster.dump.proc",
		"gluster.pmap.proc", "glusterfs.proc", "nfs.procedure_v3", "nfs.status3", "mount.procedure_v3", "mount.status",
		"mount.path", "nlm.procedure_v4", "nlm.stat", "portmap.procedure_v2", "portmap.procedure_v3",
		"portmap.procedure_v4", "portmap.prog", "portmap.version", "portmap.proto", "portmap.port",
		"portmap.rpcb.prog", "portmap.rpcb.version", "portmap.rpcb.netid", "portmap.uaddr", "gluster.brick",
		"gluster.brick.port", "glusterfs.hndsk.getspec.key"},
}

// appDecodeAs tells tshark the ports the test captures use for protocols
// it would not recognise there (wiresleuth decides by content).
var appDecodeAs = []string{"tcp.port==2811,ftp", "tcp.port==8081,http", "tcp.port==8082,http",
	"tcp.port==8083,http", "tcp.port==4433,tls", "tcp.port==4434,tls", "tcp.port==4435,tls", "tcp.port==4436,tls"}

// appCaptures are the captures of the app packages' testdata and of every
// lab example.
func appCaptures(t *testing.T) []string {
	var files []string
	for _, pkg := range []string{"dns", "ftp", "http1", "oncrpc", "tls"} {
		files = append(files, corpus.Glob(t, corpus.Path(t, "app", pkg, "testdata"))...)
	}
	ents, err := os.ReadDir(corpus.Path(t, "examples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			files = append(files, corpus.Glob(t, corpus.Path(t, "examples", e.Name()))...)
		}
	}
	return files
}

// TestAppFieldsAgainstTshark compares `packets -T fields` for application
// fields with tshark's output for the same fields, cell by cell (frame,
// field), byte for byte, on the app packages' captures and every lab
// example. Each disagreement must have a reason; the reasons are tshark's
// known limits, listed in explainApp.
func TestAppFieldsAgainstTshark(t *testing.T) {
	var names []string
	for _, set := range slices.Sorted(maps.Keys(appFieldSets)) {
		names = append(names, appFieldSets[set]...)
	}
	var total appAgreement
	files := appCaptures(t)
	for _, file := range files {
		total.add(compareAppFields(t, file, names, appFactsOf(t, file)))
	}
	t.Logf("%d captures, %d fields: %v", len(files), len(names), total)
	for why, n := range total.reasons {
		t.Logf("  %d explained: %s", n, why)
	}
	if total.values < 2000 {
		t.Errorf("only %d values compared", total.values)
	}
}

// appAgreement counts compared cells.
type appAgreement struct {
	lines, cells, values, agree, explained int
	reasons                                map[string]int
}

func (a *appAgreement) add(b appAgreement) {
	a.lines += b.lines
	a.cells += b.cells
	a.values += b.values
	a.agree += b.agree
	a.explained += b.explained
	for k, v := range b.reasons {
		if a.reasons == nil {
			a.reasons = map[string]int{}
		}
		a.reasons[k] += v
	}
}

func (a appAgreement) String() string {
	return fmt.Sprintf("%d lines; %d non-empty cells (%d values): %d identical, %d explained disagreements",
		a.lines, a.cells, a.values, a.agree, a.explained)
}

func compareAppFields(t *testing.T, file string, names []string, facts *appFacts) appAgreement {
	t.Helper()
	args := []string{"packets", "-T", "fields", "-e", "frame.number"}
	targs := []string{"-r", tsharkRef(file), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "frame.number"}
	for _, d := range appDecodeAs {
		targs = append(targs, "-d", d)
	}
	// wiresleuth reassembles segments that arrive ahead of a hole once
	// the hole is filled; tshark does only with this preference (off by
	// default in 4.0), and otherwise never shows such a response.
	targs = append(targs, "-o", "tcp.reassemble_out_of_order:TRUE")
	for _, n := range names {
		args = append(args, "-e", n)
		targs = append(targs, "-e", n)
	}
	got := strings.Split(wsRun(t, append(args, file)...), "\n")
	want := strings.Split(tshark.Run(t, targs...), "\n")
	base := filepath.Join(filepath.Base(filepath.Dir(file)), filepath.Base(file))
	var a appAgreement
	if len(got) != len(want) {
		t.Errorf("%s: %d lines, tshark %d", base, len(got), len(want))
		return a
	}
	for i := range got {
		a.lines++
		g, w := strings.Split(got[i], "\t"), strings.Split(want[i], "\t")
		if len(g) != len(w) || len(g) != len(names)+1 {
			if got[i] != "" || want[i] != "" {
				t.Errorf("%s line %d: %d columns, tshark %d", base, i+1, len(g), len(w))
			}
			continue
		}
		if g[0] != w[0] {
			t.Errorf("%s line %d: frame %s, tshark %s", base, i+1, g[0], w[0])
			continue
		}
		var frame int64
		fmt.Sscan(g[0], &frame)
		for j, n := range names {
			ours, theirs := g[j+1], w[j+1]
			if ours == "" && theirs == "" {
				continue
			}
			a.cells++
			a.values += strings.Count(ours, ",") + 1
			if ours == theirs {
				a.agree++
				continue
			}
			why := facts.explain(frame, n, ours, theirs)
			if why == "" {
				t.Errorf("%s frame %d %s: ours %q, tshark %q", base, frame, n, ours, theirs)
				continue
			}
			a.explained++
			if a.reasons == nil {
				a.reasons = map[string]int{}
			}
			a.reasons[why]++
			t.Logf("%s frame %d %s: ours %q, tshark %q: %s", base, frame, n, ours, theirs, why)
		}
	}
	return a
}

// appFacts is what decoding says about a capture's frames, for the rules
// that explain where tshark shows something else.
type appFacts struct {
	// Per frame where a record ends.
	httpCut        map[int64]bool // a response that never completed (gap, or close-delimited without FIN)
	httpPipelined  map[int64]bool // a frame of a connection where one frame carried several requests
	httpInterim    map[int64]bool // an interim (1xx) response sent before its request's body
	httpAfterEarly map[int64]bool // a request preceded by an interim response sent before its body
	rpcNotV2       map[int64]bool // a call with an RPC version other than 2, or its reply
	rpcReusedXID   map[int64]bool // a reply whose XID an earlier, answered call on the exchange also used
	rpcPortmapDump map[int64]bool // a portmap DUMP reply
	rpcGlusterFOP  map[int64]bool // a GlusterFS file operation numbered 41 or more
}

// appFactsOf decodes file with the same pipeline `packets` uses and
// collects the facts.
func appFactsOf(t *testing.T, file string) *appFacts {
	t.Helper()
	f := &appFacts{httpCut: map[int64]bool{}, httpPipelined: map[int64]bool{}, httpInterim: map[int64]bool{},
		httpAfterEarly: map[int64]bool{}, rpcNotV2: map[int64]bool{}, rpcReusedXID: map[int64]bool{},
		rpcPortmapDump: map[int64]bool{}, rpcGlusterFOP: map[int64]bool{}}
	type recOf struct {
		conn *track.Conn
		rec  app.Record
	}
	var recs []recOf
	tr, err := track.New(track.Options{Protocols: track.Protocols(), Output: func(c *track.Conn) app.Output {
		return app.Output{Record: func(r app.Record) { recs = append(recs, recOf{c, r}) }}
	}})
	if err != nil {
		t.Fatal(err)
	}
	streamOf := map[int64]int64{}
	if _, err := pipeline.Run(file, pipeline.Options{}, func(p *pipeline.Packet) error {
		if p.TCP != nil && !p.TCP.Quoted {
			streamOf[p.Frame] = p.TCP.Stream
		}
		tr.Packet(p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tr.Finish()
	perFrame := map[*track.Conn]map[int64]int{}
	pipelined := map[*track.Conn]bool{}
	early := map[*track.Conn]map[app.Pos]bool{} // requests (by first byte) with an interim response before their body
	answered := map[*track.Conn]map[uint32]bool{}
	for _, r := range recs {
		switch m := r.rec.(type) {
		case *http1.Request:
			if perFrame[r.conn] == nil {
				perFrame[r.conn] = map[int64]int{}
			}
			if perFrame[r.conn][m.End.Frame]++; perFrame[r.conn][m.End.Frame] > 1 {
				pipelined[r.conn] = true
			}
		case *http1.Response:
			if m.Interim && m.RequestDone == m.RequestAt {
				if early[r.conn] == nil {
					early[r.conn] = map[app.Pos]bool{}
				}
				early[r.conn][m.RequestAt] = true
			}
		}
	}
	for frame, stream := range streamOf {
		for c := range pipelined {
			if c.Stream == stream {
				f.httpPipelined[frame] = true
			}
		}
	}
	for _, r := range recs {
		frame := r.rec.Done().Frame
		switch m := r.rec.(type) {
		case *http1.Request:
			f.httpAfterEarly[frame] = f.httpAfterEarly[frame] || early[r.conn][m.Start]
		case *http1.Response:
			f.httpCut[frame] = f.httpCut[frame] || (!m.Complete || m.BodyGap) && !m.Interim
			f.httpInterim[frame] = f.httpInterim[frame] || m.Interim && m.RequestDone == m.RequestAt
		case *oncrpc.MessageRecord:
			msg := &m.Msg
			if msg.Type == oncrpc.Call && msg.RPCVersion != 2 || msg.Type == oncrpc.Reply && msg.Matched && msg.RPCVersion != 2 {
				f.rpcNotV2[frame] = true
			}
			if msg.Type == oncrpc.Reply && msg.Matched {
				if answered[r.conn] == nil {
					answered[r.conn] = map[uint32]bool{}
				}
				if answered[r.conn][msg.XID] {
					f.rpcReusedXID[frame] = true
				}
				answered[r.conn][msg.XID] = true
				if msg.Program == oncrpc.ProgPortmap && msg.Procedure == 4 {
					f.rpcPortmapDump[frame] = true
				}
			}
			if msg.Program == oncrpc.ProgGlusterFS && msg.Procedure >= 41 {
				f.rpcGlusterFOP[frame] = true
			}
		}
	}
	return f
}

// explain returns why tshark shows theirs where wiresleuth shows ours, or
// "" if it should not differ.
func (f *appFacts) explain(frame int64, field, ours, theirs string) string {
	switch {
	case strings.HasPrefix(field, "http."):
		switch {
		case f.httpCut[frame] && theirs == "":
			return "HTTP response with body bytes missing from the capture, or close-delimited without a FIN: tshark waits for the rest of the reassembly and never shows it"
		case f.httpPipelined[frame]:
			return "pipelined HTTP requests: tshark keeps one request per conversation, so it pairs no response after the first (http.request_in, http.time) and takes the HEAD response to have a body, which swallows the next response"
		case f.httpInterim[frame] && theirs == "" && (field == "http.request_in" || field == "http.time"):
			return "100 Continue sent before the request body: tshark has not dissected the request yet and pairs the interim response with nothing"
		case f.httpAfterEarly[frame] && field == "http.request_number":
			return "tshark numbers the interim 100 Continue response as its own request slot"
		}
	case strings.HasPrefix(field, "rpc."), strings.Contains(field, "."):
		switch {
		case f.rpcNotV2[frame] && ours != "" && theirs == "":
			return "ONC RPC version other than 2 (answered RPC_MISMATCH): tshark's heuristic takes only version 2 calls for RPC"
		case f.rpcReusedXID[frame] && (field == "rpc.repframe" || field == "rpc.time"):
			return "a second call reusing an answered XID: tshark pairs every reply with the first call that had the XID"
		case f.rpcPortmapDump[frame] && strings.HasPrefix(field, "portmap.") && ours == "":
			return "portmap DUMP reply: tshark lists every mapping (portmap.prog, .version, .proto, .port); wiresleuth counts them"
		case f.rpcGlusterFOP[frame] && strings.HasPrefix(field, "gluster") && theirs == "":
			return "GlusterFS procedure 41 and up: Wireshark 4.0's table inserts FORGET at 41 and shifts the rest, so it decodes the reply as another procedure without op_ret/op_errno"
		}
	}
	return ""
}

// frameReason returns why a display filter may select frame in one tool
// and not the other: any of the reasons a field may differ there.
func (f *appFacts) frameReason(frame int64) string {
	switch {
	case f.httpCut[frame]:
		return "HTTP response tshark never completes"
	case f.httpPipelined[frame]:
		return "pipelined HTTP connection tshark does not follow"
	case f.rpcNotV2[frame]:
		return "RPC version other than 2, not RPC to tshark"
	case f.rpcGlusterFOP[frame]:
		return "GlusterFS procedure Wireshark 4.0 numbers differently"
	case f.rpcPortmapDump[frame]:
		return "portmap DUMP reply: tshark has every mapping's fields"
	}
	return ""
}

// TestAppFilterAgainstTshark runs display filters on application fields
// in both tools and compares the frames they select, on the captures of
// the filter's protocol (its first field's prefix).
func TestAppFilterAgainstTshark(t *testing.T) {
	filters := []string{
		`http.request.method == "GET"`, "http.request.method == HEAD", `http.request.uri contains "len"`,
		"http.response.code >= 400", "http.response.code == 200 and tcp.srcport == 8080", `http.host matches "^127\\."`,
		`http.request and http.connection == "close"`, "http.transfer_encoding == chunked",
		"ftp.response.code == 421", `ftp.request.command == "AUTH"`, "ftp.response.code >= 500 || ftp.response.code == 421",
		"ftp.passive.port", "ftp.request.command == PASV or ftp.request.command == EPSV",
		"dns", "dns.flags.rcode != 0", `dns.qry.name == "nx.test"`, "dns.flags.response == 0 and dns.qry.type == 1",
		"dns.a == 10.0.0.0/24", "dns.time > 0.1",
		"rpc.xid", "rpc.msgtyp == 1 and rpc.replystat == 0 and rpc.state_accept != 0", "rpc.replystat == 1",
		"glusterfs.hndsk.proc && rpc.msgtyp == 1", "gluster.op_errno == 13", "gluster.op_ret < 0",
		"rpc.program == 100000 and rpc.programversion > 4", "nfs.status3 != 0", "mount.status", "rpc.xid == 0x00000004",
		"tls.alert_message.desc", `tls.handshake.extensions_server_name == "example.test"`, "tls.handshake.type == 1",
		"tls.handshake.version == 0x0303 and tls.handshake.type == 2",
	}
	byProto := map[string][]string{}
	for _, f := range appCaptures(t) {
		dir := filepath.Base(filepath.Dir(f))
		if filepath.Base(filepath.Dir(dir)) == "examples" || strings.Contains(f, "examples") && !strings.Contains(f, "01-client") {
			continue
		}
		switch {
		case strings.Contains(f, "app/http1/") || strings.Contains(f, "examples/http-"):
			byProto["http"] = append(byProto["http"], f)
		case strings.Contains(f, "app/ftp/") || strings.Contains(f, "examples/burst-drop"):
			byProto["ftp"] = append(byProto["ftp"], f)
		case strings.Contains(f, "app/dns/"):
			byProto["dns"] = append(byProto["dns"], f)
		case strings.Contains(f, "app/tls/"):
			byProto["tls"] = append(byProto["tls"], f)
		case strings.Contains(f, "app/oncrpc/") || strings.Contains(f, "examples/oncrpc"):
			for _, p := range []string{"rpc", "glusterfs", "gluster", "nfs", "mount"} {
				byProto[p] = append(byProto[p], f)
			}
		}
	}
	facts := map[string]*appFacts{}
	var selected, explained, runs int
	for _, flt := range filters {
		proto, _, _ := strings.Cut(strings.TrimLeft(flt, "( "), ".")
		files := byProto[proto]
		if len(files) == 0 {
			t.Fatalf("no captures for %q", flt)
		}
		n := 0
		for _, file := range files {
			if facts[file] == nil {
				facts[file] = appFactsOf(t, file)
			}
			targs := []string{"-r", tsharkRef(file), "-Y", flt, "-T", "fields", "-e", "frame.number"}
			for _, d := range appDecodeAs {
				targs = append(targs, "-d", d)
			}
			got := strings.Fields(wsRun(t, "packets", "-Y", flt, "-T", "fields", "-e", "frame.number", file))
			want := strings.Fields(tshark.Run(t, targs...))
			n += len(got)
			runs++
			for _, d := range symmetricDiff(got, want) {
				var frame int64
				fmt.Sscan(d, &frame)
				why := facts[file].frameReason(frame)
				if why == "" {
					t.Errorf("-Y %q on %s: frame %d selected by one tool only (ours %v, tshark %v)", flt, filepath.Base(file), frame, short(strings.Join(got, "\n")), short(strings.Join(want, "\n")))
					continue
				}
				explained++
				t.Logf("-Y %q on %s: frame %d selected by one tool only: %s", flt, filepath.Base(file), frame, why)
			}
		}
		if n == 0 {
			t.Errorf("-Y %q selects nothing in any capture", flt)
		}
		selected += n
	}
	t.Logf("%d filters, %d runs: %d frames selected, %d explained differences", len(filters), runs, selected, explained)
}

func symmetricDiff(a, b []string) []string {
	in := func(s []string, x string) bool { return slices.Contains(s, x) }
	var out []string
	for _, x := range a {
		if !in(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !in(a, x) {
			out = append(out, x)
		}
	}
	return out
}
