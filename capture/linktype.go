package capture

import "strconv"

// LinkType is a libpcap LINKTYPE_ value: how each frame's bytes begin.
type LinkType uint16

// Link types wiresleuth decodes. Others are read and counted, not decoded.
const (
	LinkNull       LinkType = 0   // BSD loopback: 4-byte address family in host order
	LinkEthernet   LinkType = 1   // Ethernet II / 802.3, possibly VLAN tagged
	LinkRaw        LinkType = 101 // raw IPv4 or IPv6, version from the first nibble
	LinkLoop       LinkType = 108 // OpenBSD loopback: 4-byte address family in network order
	LinkLinuxSLL   LinkType = 113 // Linux cooked capture v1 (tcpdump -i any)
	LinkIPv4       LinkType = 228 // raw IPv4
	LinkIPv6       LinkType = 229 // raw IPv6
	LinkLinuxSLL2  LinkType = 276 // Linux cooked capture v2 (tcpdump -i any, libpcap >= 1.10)
	LinkIEEE802_11 LinkType = 105
	LinkRadiotap   LinkType = 127
)

var linkNames = map[LinkType]string{
	LinkNull:       "null",
	LinkEthernet:   "ethernet",
	LinkRaw:        "raw",
	LinkLoop:       "loop",
	LinkLinuxSLL:   "linux-sll",
	LinkIPv4:       "ipv4",
	LinkIPv6:       "ipv6",
	LinkLinuxSLL2:  "linux-sll2",
	LinkIEEE802_11: "ieee802.11",
	LinkRadiotap:   "radiotap",
}

func (l LinkType) String() string {
	if s, ok := linkNames[l]; ok {
		return s
	}
	return "linktype-" + strconv.Itoa(int(l))
}
