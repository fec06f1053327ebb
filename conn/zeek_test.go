package conn_test

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/internal/corpus"
)

// zeekCase is one baseline of ../shared/peers/zeek with the options that
// produced it (INDEX.tsv's zeek_cmd, and the scripts the test @loads, which
// decide likely_server_ports in bare mode).
type zeekCase struct {
	trace, baseline string
	bare            bool     // -b
	noChecksums     bool     // -C
	scripts         []string // @loaded protocol scripts (bare mode); nil in a full run
	ignoreNets      []string // ignore_checksums_nets
	gapsPartial     bool     // report_gaps_for_partial=T
	noExcessive     bool     // tcp_excessive_data_without_further_acks=0
	expect          []map[string]string
}

var zeekCases = []zeekCase{
	{trace: "tcp-missing-syn.pcap", baseline: "tcp-missing-syn.conn.log", bare: true, noChecksums: true, scripts: []string{"http"}},
	{trace: "tcp-missing-syn.pcap", baseline: "tcp-missing-syn.alt-history-flip.conn.log", bare: true, noChecksums: true, scripts: []string{"http"}},
	{trace: "tcp-flip-without-syn.pcapng", baseline: "tcp-flip-without-syn.conn.log"},
	{trace: "tcp-miss-end-data.pcap", baseline: "tcp-miss-end-data.conn.log", bare: true, scripts: []string{"http"}, gapsPartial: true},
	{trace: "tcp-retransmit-fast009.pcap", baseline: "tcp-retransmit-fast009.conn.log", noChecksums: true},
	{trace: "tcp-syn-bad-checksum.pcap", baseline: "tcp-syn-bad-checksum.conn.log", bare: true},
	{trace: "tcp-single-rst.pcap", baseline: "tcp-single-rst.conn.log", bare: true, noChecksums: true},
	{trace: "tcp-syn-then-rst.pcap", baseline: "tcp-syn-then-rst.conn.log", bare: true, noChecksums: true},
	{trace: "tcp-syn-then-ack-then-rst.pcap", baseline: "tcp-syn-then-ack-then-rst.conn.log", bare: true, noChecksums: true},
	{trace: "tcp-syn-then-stuff-then-rst.pcap", baseline: "tcp-syn-then-stuff-then-rst.conn.log", bare: true, noChecksums: true},
	{trace: "tcp-one-sided-2745.pcap", baseline: "tcp-one-sided-2745.conn.log", bare: true, noChecksums: true},
	{trace: "tcp-ctu-64702-888.pcap", baseline: "tcp-ctu-64702-888.conn.log", bare: true, noChecksums: true},
	{trace: "tcp-retransmit-timeout.pcapng", baseline: "tcp-retransmit-timeout.conn.log", bare: true, noChecksums: true},
	{trace: "tcp-ssh-dups.pcap", baseline: "tcp-ssh-dups.conn.log", bare: true, noChecksums: true},
	{trace: "ssh-half-duplex-client.pcap", baseline: "ssh-half-duplex-client.conn.log"},
	{trace: "ssh-half-duplex-server.pcap", baseline: "ssh-half-duplex-server.conn.log"},
	{trace: "ssh-basic.pcap", baseline: "ssh-basic.conn.log"},
	{trace: "teredo.pcap", baseline: "teredo.conn.log", bare: true, scripts: []string{"http", "dns", "dhcp"}},
	{trace: "pop3-basic.pcap", baseline: "pop3-basic.conn.log", bare: true, scripts: []string{"pop3"}},
	{trace: "modbus-nonmodbus-502.pcap", baseline: "modbus-nonmodbus-502.conn.log"},
	{trace: "gtp-different-dl-ul.pcap", baseline: "gtp-different-dl-ul.conn.log", bare: true, noChecksums: true, scripts: []string{"http"}},
	{trace: "wikipedia.pcap", baseline: "wikipedia.conn.log", noChecksums: true},
	{trace: "vlan-mpls.pcap", baseline: "vlan-mpls.conn.log", bare: true, noChecksums: true, scripts: []string{"http"}},
	{trace: "http-to-ssh.pcap", baseline: "http-to-ssh.conn.log"},
	{trace: "https-to-http.pcap", baseline: "https-to-http.conn.log"},
	{trace: "ftp-auth-tls.pcap", baseline: "ftp-auth-tls.conn.log"},
	{trace: "ldap-simpleauth.pcap", baseline: "ldap-simpleauth.conn.log", noChecksums: true},
	{trace: "ldap-ctu-50041.pcap", baseline: "ldap-ctu-50041.conn.log"},
	{trace: "ayiya3.pcap", baseline: "ayiya3.conn.log", bare: true, scripts: []string{"http"}},
	{trace: "teredo-bubble-payload.pcap", baseline: "teredo-bubble-payload.conn.log", bare: true, scripts: []string{"http"}},
	{trace: "vxlan.pcap", baseline: "vxlan.conn.log", bare: true},
	{trace: "geneve.pcap", baseline: "geneve.conn.log", bare: true},
	{trace: "vxlan-encapsulated-http.pcap", baseline: "vxlan-encapsulated-http.conn.log", bare: true, scripts: []string{"http"}},
	{trace: "vxlan-inner-tcp-bad-checksum.pcap", baseline: "vxlan-inner-tcp-bad-checksum.conn.log", bare: true},
	{trace: "geneve-inner-tcp-bad-checksum.pcap", baseline: "geneve-inner-tcp-bad-checksum.conn.log", bare: true},
	{trace: "localhost-bad-chksum.pcap", baseline: "localhost-bad-chksum.conn.log", bare: true},
	{trace: "localhost-bad-chksum.pcap", baseline: "localhost-bad-chksum.alt-ignore-nets.conn.log", bare: true, ignoreNets: []string{"192.168.0.0/16"}},
	{trace: "ftp-bigtransfer.pcap", baseline: "ftp-bigtransfer.conn.log", noExcessive: true},
	{trace: "http-get.pcap", baseline: "http-get.conn.log", bare: true, scripts: []string{"http"}},
	{trace: "ftp-ipv6.pcap", baseline: "ftp-ipv6.conn.log", bare: true, scripts: []string{"ftp"}},
	{trace: "tcp-http-padding.pcap", baseline: "tcp-http-padding.conn.log", noChecksums: true},
	{trace: "local-flip-1080.pcap", baseline: "local-flip-1080.conn.log", bare: true, noChecksums: true, scripts: []string{"http"}},
	{trace: "cisco-fabric-path.pcap", baseline: "cisco-fabric-path.conn.log"},
	{trace: "radiotap.pcap", baseline: "radiotap.conn.log", bare: true, noChecksums: true, scripts: []string{"dns"}},
	{trace: "pppoe.pcap", baseline: "pppoe.conn.log"},
	{trace: "q-in-q.pcap", baseline: "q-in-q.conn.log", bare: true},
	{trace: "tcp-handshake-reorder.pcap", baseline: "tcp-handshake-reorder.conn.log", bare: true},
	// Expected values outside the conn.log files: endpoint records Zeek's
	// tests print (tcp-fin-retransmission.out.txt, tcp-rst-inject.out.txt)
	// and the history in Zeek's core.connection_flipped baseline.
	{trace: "tcp-fin-retransmission.pcap", baseline: "tcp-fin-retransmission.out.txt", bare: true, expect: []map[string]string{{
		"id.orig_h": "10.1.30.117", "id.orig_p": "55344", "id.resp_h": "17.167.193.62", "id.resp_p": "443",
		"orig_pkts": "3", "orig_ip_bytes": "156", "resp_pkts": "2", "resp_ip_bytes": "92",
		"orig_size": "0", "resp_size": "0", "orig_state": "CLOSED", "resp_state": "RESET"}}},
	{trace: "tcp-rst-inject.pcap", baseline: "tcp-rst-inject.out.txt", bare: true, expect: []map[string]string{{
		"id.orig_h": "1.2.0.2", "id.orig_p": "2527", "id.resp_h": "1.2.0.3", "id.resp_p": "6649",
		"orig_pkts": "4", "orig_ip_bytes": "395", "resp_pkts": "5", "resp_ip_bytes": "236",
		"orig_size": "175", "resp_size": "0", "orig_state": "SYN_SENT", "resp_state": "RESET"}}},
	{trace: "tcp-handshake-reorder.pcap", baseline: "zeek:core.connection_flipped/out", bare: true, expect: []map[string]string{{
		"id.orig_h": "141.142.228.5", "id.orig_p": "59856", "id.resp_h": "192.150.187.43", "id.resp_p": "80",
		"history": "Hs^ADadFf"}}},
}

// knownDisagreements lists baseline rows (trace, baseline row index) that
// are allowed to differ, with the reason. The test fails if one of them
// starts to agree (the entry is stale) or if any other row differs.
var knownDisagreements = map[string]string{}

// compared are the columns checked wherever a baseline has them.
var compared = []string{"duration", "orig_bytes", "resp_bytes", "conn_state", "missed_bytes", "history",
	"orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "orig_size", "resp_size", "orig_state", "resp_state"}

func (zc *zeekCase) options(t *testing.T) conn.Options {
	opt := conn.DefaultOptions()
	if zc.bare {
		ports, ok := conn.ScriptPorts(zc.scripts...)
		if !ok {
			t.Fatalf("unknown script in %v", zc.scripts)
		}
		opt.ServerPorts = ports
	}
	opt.IgnoreChecksums = zc.noChecksums
	for _, n := range zc.ignoreNets {
		opt.IgnoreChecksumNets = append(opt.IgnoreChecksumNets, netip.MustParsePrefix(n))
	}
	opt.ReportGapsForPartial = zc.gapsPartial
	if zc.noExcessive {
		opt.ExcessiveDataWithoutFurtherAcks = 0
	}
	return opt
}

// parseBaseline reads any of the peer conn.log formats (README.md): a Zeek
// log with #fields, or a first non-comment line naming the columns.
func parseBaseline(t *testing.T, path string) []map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cols []string
	var rows []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#fields\t") {
			cols = strings.Split(line, "\t")[1:]
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if cols == nil {
			cols = strings.Split(line, "\t")
			continue
		}
		row := map[string]string{}
		for i, v := range strings.Split(line, "\t") {
			if i < len(cols) {
				row[cols[i]] = v
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// zeekFields renders a record as the baseline columns.
func zeekFields(r *conn.Record) map[string]string {
	m := map[string]string{
		"id.orig_h": r.ID.OrigH.String(), "id.orig_p": strconv.Itoa(int(r.ID.OrigP)),
		"id.resp_h": r.ID.RespH.String(), "id.resp_p": strconv.Itoa(int(r.ID.RespP)),
		"proto": r.Proto.String(), "duration": "-", "orig_bytes": "-", "resp_bytes": "-",
		"conn_state": r.State.String(), "missed_bytes": strconv.FormatUint(r.MissedBytes, 10),
		"history": r.History, "orig_pkts": strconv.FormatUint(r.OrigPkts, 10),
		"orig_ip_bytes": strconv.FormatUint(r.OrigIPBytes, 10), "resp_pkts": strconv.FormatUint(r.RespPkts, 10),
		"resp_ip_bytes": strconv.FormatUint(r.RespIPBytes, 10),
	}
	if r.History == "" {
		m["history"] = "-"
	}
	if r.HasDuration() {
		m["duration"] = fmt.Sprintf("%.6f", r.ZeekDuration().Seconds())
		m["orig_bytes"] = strconv.FormatUint(r.OrigBytes, 10)
		m["resp_bytes"] = strconv.FormatUint(r.RespBytes, 10)
	}
	if r.Proto == conn.ProtoTCP {
		o, rs := r.OrigBytes, r.RespBytes
		m["orig_size"], m["resp_size"] = strconv.FormatUint(o, 10), strconv.FormatUint(rs, 10)
		m["orig_state"], m["resp_state"] = r.OrigTCP.String(), r.RespTCP.String()
	}
	return m
}

func sameTuple(e, m map[string]string) bool {
	for _, k := range []string{"id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"} {
		if v, ok := e[k]; ok && v != m[k] {
			return false
		}
	}
	return true
}

func diffs(e, m map[string]string) []string {
	var out []string
	for _, k := range compared {
		if v, ok := e[k]; ok && v != m[k] {
			out = append(out, fmt.Sprintf("%s: zeek %q, wiresleuth %q", k, v, m[k]))
		}
	}
	return out
}

// TestZeekConformance compares every baseline row of ../shared/peers/zeek,
// joined on the 5-tuple and then the order of removal, as docs/
// zeek-conn-model/compare.py does.
func TestZeekConformance(t *testing.T) {
	dir := filepath.Join(corpus.Peers(t), "zeek")
	total, agree := 0, 0
	for _, zc := range zeekCases {
		exp := zc.expect
		if exp == nil {
			exp = parseBaseline(t, filepath.Join(dir, zc.baseline))
		}
		recs := run(t, filepath.Join(dir, zc.trace), zc.options(t))
		got := make([]map[string]string, len(recs))
		for i, r := range recs {
			got[i] = zeekFields(r)
		}
		used := make([]bool, len(got))
		n := 0
		for i, e := range exp {
			best := -1
			for j, m := range got {
				if used[j] || !sameTuple(e, m) {
					continue
				}
				if best < 0 {
					best = j
				}
				if len(diffs(e, m)) == 0 {
					best = j
					break
				}
			}
			key := fmt.Sprintf("%s#%d", zc.baseline, i)
			reason, known := knownDisagreements[key]
			var d []string
			if best < 0 {
				d = []string{"no such connection"}
			} else {
				used[best] = true
				d = diffs(e, got[best])
			}
			total++
			switch {
			case len(d) == 0:
				agree++
				n++
				if known {
					t.Errorf("%s agrees now: remove it from knownDisagreements (%s)", key, reason)
				}
			case !known:
				t.Errorf("%s: %s %s:%s > %s:%s: %s", key, zc.trace, e["id.orig_h"], e["id.orig_p"], e["id.resp_h"], e["id.resp_p"], strings.Join(d, "; "))
			}
		}
		extra := 0
		for _, u := range used {
			if !u {
				extra++
			}
		}
		t.Logf("%-48s %3d/%3d rows agree (%d rows only in wiresleuth)", zc.baseline, n, len(exp), extra)
	}
	t.Logf("TOTAL %d/%d rows agree (%.1f%%)", agree, total, 100*float64(agree)/float64(total))
	if agree*100 < total*95 {
		t.Errorf("agreement %d/%d is below 95%%", agree, total)
	}
}
