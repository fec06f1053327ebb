package lab

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// pkt is what the checks need of one frame, as tshark decodes it. tshark
// is the independent reference here: the lab must not check captures with
// the code it exists to test.
type pkt struct {
	N        int
	T        float64 // seconds since the epoch
	Len      int     // frame length
	EthSrc   string
	Src, Dst string // outer IPv4 addresses
	InnerDst string // for ICMP errors: the destination of the quoted packet
	TTL, ID  int
	IPLen    int
	Proto    int // outer IP protocol
	Sport    int // TCP ports; for ICMP errors those of the quoted segment
	Dport    int
	Flags    int
	Seq, Ack uint32 // raw sequence numbers
	TCPLen   int
	MSS      int  // 0 when absent
	TS       bool // timestamps option present
	ICMPType int  // -1 when not ICMP
	ICMPCode int
	FTPCode  int // FTP reply code, 0 when none
	HTTPCode int // HTTP status, 0 when none
	RPCState int // ONC RPC accept_stat of a reply, -1 when none
	RPCLow   int // PROG_MISMATCH: lowest and highest version supported
	RPCHigh  int
}

// TCP flag bits.
const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
)

var tsharkFields = []string{
	"frame.number", "frame.time_epoch", "frame.len", "eth.src", "ip.src", "ip.dst", "ip.ttl", "ip.id",
	"ip.len", "ip.proto", "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
	"tcp.len", "tcp.options.mss_val", "tcp.options.timestamp.tsval",
	"icmp.type", "icmp.code", "ftp.response.code", "http.response.code", "rpc.state_accept",
	"rpc.programversion.min", "rpc.programversion.max",
}

// readCapture decodes a capture with tshark. Any complaint from tshark (a
// file cut short, a bad record) is an error: the lab's captures must be
// whole.
func readCapture(ctx context.Context, path string) ([]pkt, error) {
	args := []string{"-r", path, "-n", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=/t",
		"-d", "tcp.port==2811,ftp", "-o", "tcp.relative_sequence_numbers:FALSE"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.CommandContext(ctx, "tshark", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	stderr := strings.TrimSpace(strings.ReplaceAll(errb.String(), "Running as user \"root\" and group \"root\". This could be dangerous.", ""))
	if err != nil || stderr != "" {
		return nil, fmt.Errorf("tshark -r %s: %v: %s", path, err, stderr)
	}
	var ps []pkt
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != len(tsharkFields) {
			return nil, fmt.Errorf("tshark -r %s: %d fields in %q", path, len(f), line)
		}
		ps = append(ps, parsePkt(f))
	}
	return ps, nil
}

func parsePkt(f []string) pkt {
	first := func(i int) string { s, _, _ := strings.Cut(f[i], ","); return s }
	num := func(i int) int {
		s := first(i)
		base := 10
		if h, ok := strings.CutPrefix(s, "0x"); ok {
			s, base = h, 16
		}
		n, err := strconv.ParseInt(s, base, 64)
		if err != nil {
			return 0
		}
		return int(n)
	}
	opt := func(i, none int) int {
		if first(i) == "" {
			return none
		}
		return num(i)
	}
	t, _ := strconv.ParseFloat(first(1), 64)
	p := pkt{
		N: num(0), T: t, Len: num(2), EthSrc: first(3), Src: first(4), Dst: first(5),
		TTL: num(6), ID: num(7), IPLen: num(8), Proto: num(9), Sport: num(10), Dport: num(11),
		Flags: num(12), Seq: uint32(num(13)), Ack: uint32(num(14)), TCPLen: num(15), MSS: num(16),
		TS: first(17) != "", ICMPType: opt(18, -1), ICMPCode: opt(19, -1),
		FTPCode: num(20), HTTPCode: num(21), RPCState: opt(22, -1), RPCLow: num(23), RPCHigh: num(24),
	}
	if ds := strings.Split(f[5], ","); len(ds) > 1 {
		p.InnerDst = ds[1]
	}
	return p
}

// Predicates over packets, for the checks.

func (p pkt) tcp() bool         { return p.Proto == 6 && p.ICMPType < 0 }
func (p pkt) syn() bool         { return p.tcp() && p.Flags&(fSYN|fACK) == fSYN }
func (p pkt) synAck() bool      { return p.tcp() && p.Flags&(fSYN|fACK) == fSYN|fACK }
func (p pkt) rst() bool         { return p.tcp() && p.Flags&fRST != 0 }
func (p pkt) fin() bool         { return p.tcp() && p.Flags&fFIN != 0 }
func (p pkt) data() bool        { return p.tcp() && p.TCPLen > 0 }
func (p pkt) bareAck() bool     { return p.tcp() && p.Flags == fACK && p.TCPLen == 0 }
func (p pkt) icmpUnreach() bool { return p.Proto == 1 && p.ICMPType == 3 }

// from and to match a TCP endpoint; port 0 matches any port.
func (p pkt) from(addr string, port int) bool {
	return p.tcp() && p.Src == addr && (port == 0 || p.Sport == port)
}
func (p pkt) to(addr string, port int) bool {
	return p.tcp() && p.Dst == addr && (port == 0 || p.Dport == port)
}

// conn matches both directions of the connection with the given client port.
func (p pkt) conn(cport, sport int) bool {
	return p.tcp() && (p.Sport == cport && p.Dport == sport || p.Sport == sport && p.Dport == cport)
}
