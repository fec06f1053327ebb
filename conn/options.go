package conn

import (
	"net/netip"
	"time"
)

// Options are the Zeek settings that change conn.log, with Zeek's defaults
// from DefaultOptions (init-bare.zeek and the base scripts of a full run).
type Options struct {
	// IgnoreChecksums is Zeek's -C: no IP, TCP, UDP or ICMP checksum is
	// verified, so no packet is dropped for one and no C/c is written.
	IgnoreChecksums bool
	// IgnoreChecksumNets skips verification for packets whose IP source is
	// in one of these (Zeek's ignore_checksums_nets).
	IgnoreChecksumNets []netip.Prefix
	// ServerPorts is likely_server_ports, which decides who originated a
	// connection whose first packet is not a SYN. FullPorts is what a full
	// Zeek run registers, BarePorts what `zeek -b` has.
	ServerPorts *Ports
	// LocalNets decides local_orig and local_resp (Site::local_nets, which
	// by default holds Site::private_address_space).
	LocalNets []netip.Prefix

	// Inactivity timeouts: UDP's is also TCP's until an endpoint leaves
	// the handshake (TCPAnalyzer::MakeSessionAdapter).
	TCPInactivity, UDPInactivity, ICMPInactivity, UnknownInactivity time.Duration
	// PortInactivity raises the inactivity timeout of an established TCP
	// connection by its service port (Conn::port_inactivity_timeouts).
	PortInactivity map[uint16]time.Duration
	// TCP timers (init-bare.zeek).
	TCPSYNTimeout, TCPSessionTimer, TCPConnectionLinger, TCPAttemptDelay, TCPCloseDelay time.Duration
	// DNSSessionTimeout is the DNS analyzer's UDP expiry, active when
	// 53/udp is in ServerPorts (the DNS scripts are loaded).
	DNSSessionTimeout time.Duration

	// Reassembly limits that switch a direction into skip mode or trim it.
	ExcessiveDataWithoutFurtherAcks int // 0: off
	MaxInitialWindow                int
	MaxAboveHoleWithoutAnyAcks      int
	// ReportGapsForPartial counts gaps in missed_bytes even when an
	// endpoint is not cleanly established (report_gaps_for_partial).
	ReportGapsForPartial bool
	// TunnelMaxChanges is Tunnel::max_changes_per_connection: more changes
	// of a connection's encapsulation than this add X.
	TunnelMaxChanges int
}

// DefaultOptions returns Zeek's defaults for a full run (`zeek -r FILE`).
func DefaultOptions() Options {
	return Options{
		ServerPorts:                     FullPorts(),
		LocalNets:                       PrivateAddressSpace(),
		TCPInactivity:                   5 * time.Minute,
		UDPInactivity:                   time.Minute,
		ICMPInactivity:                  time.Minute,
		UnknownInactivity:               time.Minute,
		PortInactivity:                  map[uint16]time.Duration{21: time.Hour, 22: time.Hour, 23: time.Hour, 513: time.Hour},
		TCPSYNTimeout:                   5 * time.Second,
		TCPSessionTimer:                 6 * time.Second,
		TCPConnectionLinger:             5 * time.Second,
		TCPAttemptDelay:                 5 * time.Second,
		TCPCloseDelay:                   5 * time.Second,
		DNSSessionTimeout:               10 * time.Second,
		ExcessiveDataWithoutFurtherAcks: 10 << 20,
		MaxInitialWindow:                16384,
		MaxAboveHoleWithoutAnyAcks:      16384,
		TunnelMaxChanges:                5,
	}
}

// BareOptions returns the defaults of `zeek -b` with base/protocols/conn
// loaded: only the packet protocols' tunnel ports are likely server ports.
func BareOptions() Options {
	o := DefaultOptions()
	o.ServerPorts = BarePorts()
	return o
}

// Transport protocols of a Ports set.
const (
	TCP uint8 = 6
	UDP uint8 = 17
)

// Ports is a set of transport ports (likely_server_ports), a bitmap so that
// a lookup costs no allocation and no hashing.
type Ports struct{ tcp, udp [1024]uint64 }

// Add adds port/proto (proto TCP or UDP).
func (s *Ports) Add(proto uint8, ports ...uint16) *Ports {
	for _, p := range ports {
		if b := s.bits(proto); b != nil {
			b[p>>6] |= 1 << (p & 63)
		}
	}
	return s
}

// Has reports whether port/proto is in the set.
func (s *Ports) Has(proto uint8, port uint16) bool {
	if s == nil {
		return false
	}
	b := s.bits(proto)
	return b != nil && b[port>>6]&(1<<(port&63)) != 0
}

func (s *Ports) bits(proto uint8) *[1024]uint64 {
	switch proto {
	case TCP:
		return &s.tcp
	case UDP:
		return &s.udp
	}
	return nil
}

// scriptPorts are the server ports each of Zeek's base protocol scripts
// registers (Analyzer::register_for_ports), at the commit of the peer
// baselines (docs/zeek-conn-rules.md §6.2).
var scriptPorts = map[string]struct{ tcp, udp []uint16 }{
	"dce-rpc":    {tcp: []uint16{135}},
	"dhcp":       {udp: []uint16{67, 4011}},
	"dnp3":       {tcp: []uint16{20000}, udp: []uint16{20000}},
	"dns":        {tcp: []uint16{53}, udp: []uint16{53, 137, 5353, 5355}},
	"finger":     {tcp: []uint16{79}},
	"ftp":        {tcp: []uint16{21, 2811}},
	"http":       {tcp: []uint16{80, 81, 631, 1080, 3128, 8000, 8080, 8888}},
	"imap":       {tcp: []uint16{143}},
	"irc":        {tcp: []uint16{6666, 6667, 6668, 6669}},
	"krb":        {tcp: []uint16{88}, udp: []uint16{88}},
	"ldap":       {tcp: []uint16{389, 3268}, udp: []uint16{389}},
	"modbus":     {tcp: []uint16{502}},
	"mqtt":       {tcp: []uint16{1883}},
	"mysql":      {tcp: []uint16{1434, 3306}},
	"ntp":        {udp: []uint16{123}},
	"pop3":       {},
	"postgresql": {tcp: []uint16{5432}},
	"radius":     {udp: []uint16{1812}},
	"rdp":        {tcp: []uint16{3389}, udp: []uint16{3389}},
	"redis":      {tcp: []uint16{6379}},
	"sip":        {udp: []uint16{5060}},
	"smb":        {tcp: []uint16{139, 445}},
	"smtp":       {tcp: []uint16{25, 587}},
	"snmp":       {udp: []uint16{161, 162}},
	"socks":      {tcp: []uint16{1080}},
	"ssh":        {tcp: []uint16{22}},
	"ssl":        {tcp: []uint16{443, 465, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223}, udp: []uint16{443}},
	"syslog":     {tcp: []uint16{514}, udp: []uint16{514}},
	"xmpp":       {tcp: []uint16{5222, 5269}},
}

// BarePorts returns the likely server ports every Zeek run has, even with
// -b: those of the tunnel packet analyzers (AYIYA, Geneve, VXLAN, Teredo,
// GTPv1).
func BarePorts() *Ports {
	return new(Ports).Add(UDP, 5072, 6081, 4789, 3544, 2152, 2123)
}

// FullPorts returns the likely server ports of a full run (all base
// protocol scripts loaded).
func FullPorts() *Ports {
	s := BarePorts()
	for _, sp := range scriptPorts {
		s.Add(TCP, sp.tcp...)
		s.Add(UDP, sp.udp...)
	}
	return s
}

// ScriptPorts returns BarePorts plus the ports of the named base protocol
// scripts ("http", "dns", …), as a `zeek -b` run that @loads them has. An
// unknown name is reported as false.
func ScriptPorts(scripts ...string) (*Ports, bool) {
	s := BarePorts()
	for _, name := range scripts {
		sp, ok := scriptPorts[name]
		if !ok {
			return s, false
		}
		s.Add(TCP, sp.tcp...)
		s.Add(UDP, sp.udp...)
	}
	return s, true
}

// PrivateAddressSpace returns Zeek's Site::private_address_space, which a
// default run treats as local (Site::private_address_space_is_local).
func PrivateAddressSpace() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "2002::/24", "10.0.0.0/8", "2002:a00::/24", "100.64.0.0/10", "2002:6440::/26",
		"127.0.0.0/8", "2002:7f00::/24", "169.254.0.0/16", "2002:a9fe::/32", "172.16.0.0/12", "2002:ac10::/28",
		"192.0.0.0/24", "2002:c000::/40", "192.0.2.0/24", "2002:c000:200::/40", "192.168.0.0/16", "2002:c0a8::/32",
		"198.18.0.0/15", "2002:c612::/31", "198.51.100.0/24", "2002:c633:6400::/40", "203.0.113.0/24",
		"2002:cb00:7100::/40", "224.0.0.0/24", "2002:e000::/40", "239.0.0.0/8", "2002:ef00::/24", "240.0.0.0/4",
		"2002:f000::/20", "255.255.255.255/32", "2002:ffff:ffff::/48", "::/128", "::1/128", "64:ff9b:1::/48",
		"100::/64", "2001::/23", "2001:2::/48", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
