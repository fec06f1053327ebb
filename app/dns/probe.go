package dns

import (
	"encoding/binary"

	"github.com/wiresleuth/wiresleuth/app"
)

// Protocol describes the decoders to the dispatcher: DNS runs over UDP and
// TCP.
var Protocol = app.Protocol{
	Name:          "dns",
	Probe:         Probe,
	NewStream:     func(sink app.Sink) app.Stream { return NewStream(app.Output{Sink: sink}) },
	NewDatagrams:  func(sink app.Sink) app.Datagrams { return NewDatagrams(app.Output{Sink: sink}) },
	OpenStream:    func(out app.Output) app.Stream { return NewStream(out) },
	OpenDatagrams: func(out app.Output) app.Datagrams { return NewDatagrams(out) },
}

// Probe recognises a DNS message: over TCP (first holds a 2-byte length
// matching what follows, as far as it goes) or over UDP (a datagram). A
// message whose header is plausible and whose first question parses is
// Likely on the DNS ports (53, 5353, 5355) and for a standard query of a
// name other than the root, Maybe otherwise; a question whose class is none
// DNS uses is No. UDP datagrams are told from TCP streams by the length prefix:
// the dispatcher probes datagrams one by one. NetBIOS name service (port
// 137) is DNS-shaped but not DNS: No.
func Probe(side app.Side, first []byte, serverPort uint16) app.Confidence {
	if serverPort == 137 {
		// NetBIOS name service (RFC 1002) has DNS's format but is another
		// protocol, with its own name encoding.
		return app.No
	}
	port := serverPort == 53 || serverPort == 5353 || serverPort == 5355
	best := probeMessage(first, port)
	if len(first) >= 2 {
		if n := int(binary.BigEndian.Uint16(first)); n >= 12 && (len(first)-2 >= n || len(first) >= 14) {
			msg := first[2:]
			if len(msg) > n {
				msg = msg[:n]
			}
			best = max(best, probeMessage(msg, port))
		}
	}
	return best
}

func probeMessage(msg []byte, port bool) app.Confidence {
	if len(msg) < 12 {
		return app.No
	}
	flags := binary.BigEndian.Uint16(msg[2:])
	opcode := flags >> 11 & 0xf
	qd := binary.BigEndian.Uint16(msg[4:])
	an := binary.BigEndian.Uint16(msg[6:])
	response := flags&0x8000 != 0
	if opcode > 6 || opcode == 3 || flags&0x0040 != 0 || qd > 4 || qd == 0 && (!response || an == 0) {
		// Only a response may come without a question (mDNS
		// announcements do), and then it carries answers.
		return app.No
	}
	name, next, err := readName(msg, 12, nil)
	if err != nil && err != errShort || err == nil && len(name) == 0 {
		return app.No
	}
	if err == errShort || next+4 > len(msg) {
		// A TCP stream may not have brought the whole question yet.
		if port {
			return app.Maybe
		}
		return app.No
	}
	if !plausibleClass(binary.BigEndian.Uint16(msg[next+2:])) {
		// Another protocol's bytes that happen to parse as a header and a
		// name (an ONC RPC record mark and XID read as a query for the
		// root, class 0xa900).
		return app.No
	}
	if port || !response && opcode == 0 && qd == 1 && an == 0 && string(name) != "." {
		return app.Likely
	}
	return app.Maybe
}

// plausibleClass reports whether a question's class is one DNS uses: IN,
// CH, HS, NONE, ANY; mDNS sets the top bit (unicast response wanted).
func plausibleClass(c uint16) bool {
	switch c & 0x7fff {
	case 1, 3, 4, 254, 255:
		return true
	}
	return false
}
