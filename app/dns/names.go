package dns

import "strconv"

// Rcode is a response code, extended to 12 bits by EDNS (RFC 6891).
type Rcode uint16

// String returns the registry mnemonic, e.g. "NXDOMAIN".
func (r Rcode) String() string {
	if n, ok := rcodeNames[r]; ok {
		return n
	}
	return "RCODE" + strconv.Itoa(int(r))
}

var rcodeNames = map[Rcode]string{
	0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
	6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 11: "DSOTYPENI",
	16: "BADVERS", 17: "BADKEY", 18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG",
	22: "BADTRUNC", 23: "BADCOOKIE",
}

// Type is a resource record type.
type Type uint16

const (
	TypeA     Type = 1
	TypeNS    Type = 2
	TypeCNAME Type = 5
	TypeSOA   Type = 6
	TypePTR   Type = 12
	TypeMX    Type = 15
	TypeTXT   Type = 16
	TypeAAAA  Type = 28
	TypeSRV   Type = 33
	TypeOPT   Type = 41
)

// String returns the mnemonic, e.g. "AAAA", or "TYPE65280".
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "TYPE" + strconv.Itoa(int(t))
}

var typeNames = map[Type]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA",
	33: "SRV", 35: "NAPTR", 39: "DNAME", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
	50: "NSEC3", 52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF", 251: "IXFR", 252: "AXFR", 255: "ANY",
	257: "CAA",
}

// Opcode names (RFC 1035, 1996, 2136).
func opcodeName(o uint8) string {
	switch o {
	case 0:
		return "QUERY"
	case 1:
		return "IQUERY"
	case 2:
		return "STATUS"
	case 4:
		return "NOTIFY"
	case 5:
		return "UPDATE"
	}
	return "OPCODE" + strconv.Itoa(int(o))
}
