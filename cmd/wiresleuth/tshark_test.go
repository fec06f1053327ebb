package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/internal/corpus"
	"github.com/wiresleuth/wiresleuth/internal/tshark"
)

// wsRun runs the command in-process and returns its stdout.
func wsRun(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("wiresleuth %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// tsharkRef is the file tshark reads for a capture (tshark 4.0 has no zstd).
func tsharkRef(f string) string { return strings.TrimSuffix(f, ".zst") }

var convLine = regexp.MustCompile(`^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+ \S+)\s+(\d+)\s+(\d+ \S+)\s+(\d+)\s+(\d+ \S+)\s+([\d.]+)\s+([\d.]+)\s*$`)

type convKey struct{ a, b, start string }

// TestConvAgainstTshark compares conv with tshark -q -z conv,tcp and
// conv,udp on every capture: the same conversations (endpoints and start
// time), frames each way, and bytes as tshark prints them.
func TestConvAgainstTshark(t *testing.T) {
	files := corpus.All(t)
	var rows, captures int
	for _, file := range files {
		var got struct {
			Conversations []convRow `json:"conversations"`
		}
		if err := json.Unmarshal([]byte(wsRun(t, "conv", "--format", "json", file)), &got); err != nil {
			t.Fatal(err)
		}
		ours := map[string]map[convKey]convRow{"tcp": {}, "udp": {}}
		for _, c := range got.Conversations {
			k := convKey{ep(c.A), ep(c.B), fmt.Sprintf("%.6f", c.RelStart)}
			ours[c.Proto][k] = c
		}
		out := tshark.Run(t, "-r", tsharkRef(file), "-q", "-z", "conv,tcp", "-z", "conv,udp")
		theirs := map[string]map[convKey][]string{"tcp": {}, "udp": {}}
		proto := ""
		for _, line := range strings.Split(out, "\n") {
			switch {
			case strings.HasPrefix(line, "TCP Conversations"):
				proto = "tcp"
			case strings.HasPrefix(line, "UDP Conversations"):
				proto = "udp"
			}
			m := convLine.FindStringSubmatch(line)
			if m == nil || proto == "" {
				continue
			}
			start, _ := strconv.ParseFloat(m[9], 64)
			theirs[proto][convKey{m[1], m[2], fmt.Sprintf("%.6f", start)}] = m[3:]
		}
		captures++
		for _, pr := range []string{"tcp", "udp"} {
			if len(ours[pr]) != len(theirs[pr]) {
				t.Errorf("%s %s: %d conversations, tshark %d", filepath.Base(file), pr, len(ours[pr]), len(theirs[pr]))
			}
			for k, w := range theirs[pr] {
				c, ok := ours[pr][k]
				if !ok {
					t.Errorf("%s %s: tshark conversation %v missing", filepath.Base(file), pr, k)
					continue
				}
				rows++
				// tshark's "<-" columns are B to A, "->" A to B.
				g := []string{strconv.FormatInt(c.BtoA.Frames, 10), si(c.BtoA.Bytes), strconv.FormatInt(c.AtoB.Frames, 10), si(c.AtoB.Bytes),
					strconv.FormatInt(c.Total.Frames, 10), si(c.Total.Bytes)}
				if strings.Join(g, "|") != strings.Join(w[:6], "|") {
					t.Errorf("%s %s %v:\n ours   %v\n tshark %v", filepath.Base(file), pr, k, g, w[:6])
				}
			}
		}
	}
	t.Logf("%d conversations in %d captures agree with tshark", rows, captures)
}

func ep(e endpointJSON) string {
	if strings.Contains(e.Addr, ":") {
		return e.Addr + ":" + strconv.Itoa(int(e.Port))
	}
	return e.Addr + ":" + strconv.Itoa(int(e.Port))
}

var issueFields = []string{
	"frame.number", "frame.time_epoch", "frame.len", "ip.src", "ip.dst", "ip.id", "ip.ttl", "ip.len",
	"tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.ack", "tcp.len", "tcp.flags.str", "tcp.window_size_value", "tcp.stream",
	"udp.srcport", "udp.dstport", "ipv6.src", "ipv6.dst", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin", "tcp.flags.reset",
	"frame.cap_len", "eth.src", "eth.dst", "vlan.id", "tcp.nxtseq", "tcp.window_size", "icmp.type", "icmp.code",
}

// TestPacketsFieldsAgainstTshark compares `packets -T fields` with tshark's
// output for the same fields, byte for byte, on every capture.
func TestPacketsFieldsAgainstTshark(t *testing.T) {
	args := []string{"packets", "-T", "fields"}
	targs := []string{"-T", "fields"}
	for _, f := range issueFields {
		args = append(args, "-e", f)
		targs = append(targs, "-e", f)
	}
	var lines, malformed int
	for _, file := range corpus.All(t) {
		got := strings.Split(wsRun(t, append(args, file)...), "\n")
		want := strings.Split(tshark.Run(t, append([]string{"-r", tsharkRef(file)}, targs...)...), "\n")
		broken := strings.Split(tshark.Run(t, "-r", tsharkRef(file), "-T", "fields", "-e", "_ws.malformed"), "\n")
		if len(got) != len(want) {
			t.Errorf("%s: %d lines, tshark %d", filepath.Base(file), len(got), len(want))
			continue
		}
		bad := 0
		for i := range got {
			lines++
			if i < len(broken) && broken[i] != "" {
				// tshark prints the fields of a header it could read only in
				// part; wiresleuth decodes no layer it does not have whole.
				malformed++
				continue
			}
			if got[i] != want[i] {
				if bad++; bad <= 3 {
					t.Errorf("%s line %d:\n ours   %q\n tshark %q", filepath.Base(file), i+1, got[i], want[i])
				}
			}
		}
	}
	t.Logf("%d lines compared (%d malformed frames skipped)", lines, malformed)
}

// TestFilterAgainstTshark runs the same display filters with -Y in both
// tools and compares which frames match.
func TestFilterAgainstTshark(t *testing.T) {
	filters := []string{
		"tcp", "udp and not icmp", "ip.addr == 10.77.0.2", "ip.src == 10.77.0.0/16 && tcp.port == 8080",
		"tcp.flags.syn == 1 and tcp.flags.ack == 0", "tcp.flags.reset == 1 or tcp.flags.fin == 1",
		"tcp.len > 0", "tcp.len >= 1000", "frame.len < 70", "frame.len <= 60", "udp.port == 53", "ip.ttl != 64",
		"!(tcp.port == 80)", "tcp.analysis.retransmission", "tcp.analysis.duplicate_ack or tcp.analysis.lost_segment",
		"ipv6.addr == fd77::2", "ip.dst eq 10.77.0.1 and tcp.len gt 100", "tcp.stream == 1", "icmp.type == 3",
	}
	files := []string{corpus.Path(t, "testdata", "http-veth.pcap"), corpus.Path(t, "testdata", "icmp.pcap"),
		corpus.Path(t, "testdata", "vxlan.pcap"), filepath.Join(corpus.Peers(t), "wireshark", "vectors", "anomalies.pcap"),
		filepath.Join(corpus.Peers(t), "zeek", "ssh-basic.pcap"), filepath.Join(corpus.Peers(t), "zeek", "wikipedia.pcap")}
	for _, f := range filters {
		for _, file := range files {
			got := wsRun(t, "packets", "-Y", f, "-T", "fields", "-e", "frame.number", file)
			want := tshark.Run(t, "-r", file, "-Y", f, "-T", "fields", "-e", "frame.number")
			if got != want {
				t.Errorf("-Y %q on %s: frames\n ours   %s\n tshark %s", f, filepath.Base(file), short(got), short(want))
			}
		}
	}
}

func short(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", ",")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

var tcpdumpFlags = regexp.MustCompile(`IP6? (\S+)\.\d+ > \S+: Flags \[([^\]]+)\]`)

// TestFlagsAgainstTcpdump compares the flag histogram with one built from
// tcpdump's own lines (the ngrep | cut | sort | uniq -c way).
func TestFlagsAgainstTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Fatal("tcpdump not installed (./scripts/test.sh installs it)")
	}
	for _, file := range corpus.Repo(t) {
		if strings.HasSuffix(file, ".zst") || strings.HasSuffix(file, ".gz") {
			continue // tcpdump reads neither
		}
		out, err := exec.Command("tcpdump", "-n", "-r", file).CombinedOutput()
		if strings.Contains(string(out), "different from the type of the first interface") {
			// libpcap reads a pcapng only while all interfaces share one
			// link type; wiresleuth reads it (TestAgainstTshark covers it).
			t.Logf("%s: tcpdump cannot read it: %s", filepath.Base(file), strings.TrimSpace(string(out)))
			continue
		}
		if err != nil {
			t.Fatalf("tcpdump %s: %v: %s", file, err, out)
		}
		want := map[string]int{}
		for _, line := range strings.Split(string(out), "\n") {
			// Tunnelled packets print outer and inner on one line: the
			// TCP flags are the innermost header's.
			if ms := tcpdumpFlags.FindAllStringSubmatch(line, -1); ms != nil {
				m := ms[len(ms)-1]
				want[m[1]+" "+m[2]]++
			}
		}
		var got struct {
			Flags []struct {
				Sender struct{ Host string }
				Flags  string
				Count  int
			}
		}
		if err := json.Unmarshal([]byte(wsRun(t, "flags", "--format", "json", file)), &got); err != nil {
			t.Fatal(err)
		}
		have := map[string]int{}
		for _, r := range got.Flags {
			have[r.Sender.Host+" "+r.Flags] += r.Count
		}
		if fmt.Sprint(sorted(have)) != fmt.Sprint(sorted(want)) {
			t.Errorf("%s:\n ours    %v\n tcpdump %v", filepath.Base(file), sorted(have), sorted(want))
		}
	}
}

func sorted(m map[string]int) []string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(s)
	return s
}
