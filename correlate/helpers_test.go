package correlate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// record runs one capture file through a Recorder, as a dataset build does.
func record(t testing.TB, file string) *Capture {
	t.Helper()
	r := NewRecorder(Options{})
	_, err := pipeline.Run(file, pipeline.Options{NewDecoder: conn.NewDecoder}, func(p *pipeline.Packet) error {
		r.Packet(p.Packet)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r.Finish()
}

// recordDir records the captures of a lab example folder in path order.
func recordDir(t testing.TB, dir string) []Input {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*.pcap*"))
	sort.Strings(files)
	var in []Input
	for _, f := range files {
		name := filepath.Base(f)
		name = strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".pcap")
		name = name[3:]
		in = append(in, Input{Name: name, Capture: record(t, f)})
	}
	return in
}

// dump writes a correlation's lost and injected packets and segments.
func dump(p *Path) string {
	var b strings.Builder
	for v := range p.Len() {
		c := p.Clock(v)
		fmt.Fprintf(&b, "clock %s: %+v\n", p.Name(v), c)
	}
	for _, s := range p.Segments() {
		fmt.Fprintf(&b, "seg %s-%s conns %d matched %d off %v±%v drift %.2f dir0 %+v dir1 %+v\n", p.Name(s.From), p.Name(s.To), s.Conns, s.Matched, s.Offset, s.Err, s.DriftPPM, s.Dir[0], s.Dir[1])
		for _, tr := range s.Translations {
			fmt.Fprintf(&b, "  nat %+v\n", tr)
		}
	}
	for _, e := range p.Lost() {
		fmt.Fprintf(&b, "lost at %s (not %s) rec=%v %s #%d %v>%v %s len %d\n", p.Name(e.Vantage), p.Name(e.Other), e.Recovered, e.Packet.Kind, e.Packet.Frame, e.Packet.Src, e.Packet.Dst, flagString(e.Packet.Flags), e.Packet.Len)
	}
	for _, e := range p.Injected() {
		fmt.Fprintf(&b, "inj at %s (not %s) %s #%d %v>%v %s len %d\n", p.Name(e.Vantage), p.Name(e.Other), e.Packet.Kind, e.Packet.Frame, e.Packet.Src, e.Packet.Dst, flagString(e.Packet.Flags), e.Packet.Len)
	}
	for _, m := range p.Mods() {
		fmt.Fprintf(&b, "mod %s->%s %s %q→%q pkts %d conns %d\n", p.Name(m.From), p.Name(m.To), m.What, m.Before, m.After, m.Packets, m.Conns)
	}
	return b.String()
}

func TestDumpExamples(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip("DUMP=1 to print")
	}
	dirs, _ := filepath.Glob("../examples/*")
	for _, d := range dirs {
		if os.Getenv("DUMP") != "1" && !strings.Contains(d, os.Getenv("DUMP")) {
			continue
		}
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			continue
		}
		p := correlate(recordDir(t, d))
		t.Logf("== %s\n%s", filepath.Base(d), dump(p))
	}
}

func TestDebugTrace(t *testing.T) {
	if os.Getenv("TRACE") == "" {
		t.Skip()
	}
	var dir string
	var v int
	var frame int64
	fmt.Sscanf(os.Getenv("TRACE"), "%s %d %d", &dir, &v, &frame)
	p := correlate(recordDir(t, dir))
	tr, ok := p.Trace(v, frame)
	x := p.vs[v]
	k, _ := x.index(frame)
	t.Logf("ok %v %+v fate %+v cd %d cu %d", ok, tr, x.fate[k], x.cd[k], x.cu[k])
}

func TestDebugLinks(t *testing.T) {
	if os.Getenv("LINKS") == "" {
		t.Skip()
	}
	var dir string
	var a, b int
	fmt.Sscanf(os.Getenv("LINKS"), "%s %d %d", &dir, &a, &b)
	in := recordDir(t, dir)
	x, y := in[a].Capture, in[b].Capture
	ax, ay := anchorsOf(x), anchorsOf(y)
	links := matchConns(x, y, ax, ay)
	for f := range x.conns {
		ea, eb := x.conns[f].ends()
		t.Logf("x conn %d %v %v n=%v", f, ea, eb, x.conns[f].n)
	}
	for f := range y.conns {
		ea, eb := y.conns[f].ends()
		t.Logf("y conn %d %v %v n=%v", f, ea, eb, y.conns[f].n)
	}
	for _, l := range links {
		t.Logf("link %+v", l)
	}
}
