package dns

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// parse decodes a DNS message. It keeps whatever it could read before a
// problem and names the problem in m.Malformed; ok is false only when not
// even the 12-byte header is there.
func parse(m *Message, msg []byte) (ok bool) {
	if len(msg) < 12 {
		m.Malformed = "shorter than a header"
		return false
	}
	m.ID = binary.BigEndian.Uint16(msg)
	flags := binary.BigEndian.Uint16(msg[2:])
	m.Response = flags&0x8000 != 0
	m.Opcode = uint8(flags >> 11 & 0xf)
	m.AA, m.TC, m.RD, m.RA = flags&0x0400 != 0, flags&0x0200 != 0, flags&0x0100 != 0, flags&0x0080 != 0
	m.AD, m.CD = flags&0x0020 != 0, flags&0x0010 != 0
	m.Rcode = Rcode(flags & 0xf)
	m.QDCount = binary.BigEndian.Uint16(msg[4:])
	m.ANCount = binary.BigEndian.Uint16(msg[6:])
	m.NSCount = binary.BigEndian.Uint16(msg[8:])
	m.ARCount = binary.BigEndian.Uint16(msg[10:])
	off := 12
	var buf [MaxName + 8]byte
	m.Questions = make([]Question, 0, min(int(m.QDCount), MaxQuestions))
	m.Records = make([]RR, 0, min(int(m.ANCount)+int(m.NSCount)+int(m.ARCount), MaxRecords))
	for i := 0; i < int(m.QDCount); i++ {
		name, next, err := readName(msg, off, buf[:0])
		if err != nil {
			m.Malformed = "question: " + err.Error()
			return true
		}
		if next+4 > len(msg) {
			m.Malformed = "question: message ends inside it"
			return true
		}
		q := Question{Name: string(name), Type: Type(binary.BigEndian.Uint16(msg[next:])), Class: binary.BigEndian.Uint16(msg[next+2:])}
		if len(m.Questions) < MaxQuestions {
			m.Questions = append(m.Questions, q)
		} else {
			m.Truncated = true
		}
		off = next + 4
	}
	sections := [3]uint16{m.ANCount, m.NSCount, m.ARCount}
	for s, count := range sections {
		for i := 0; i < int(count); i++ {
			var err string
			if off, err = m.record(msg, off, uint8(s+1), buf[:0]); err != "" {
				m.Malformed = err
				return true
			}
		}
	}
	return true
}

// record decodes one resource record at off.
func (m *Message) record(msg []byte, off int, section uint8, buf []byte) (int, string) {
	name, next, err := readName(msg, off, buf)
	if err != nil {
		return off, "record: " + err.Error()
	}
	if next+10 > len(msg) {
		return off, "record: message ends inside it"
	}
	rr := RR{Section: section, Type: Type(binary.BigEndian.Uint16(msg[next:])), Class: binary.BigEndian.Uint16(msg[next+2:]),
		TTL: binary.BigEndian.Uint32(msg[next+4:])}
	rdlen := int(binary.BigEndian.Uint16(msg[next+8:]))
	rdata := next + 10
	end := rdata + rdlen
	if end > len(msg) {
		return off, "record: RDATA longer than the message"
	}
	if rr.Type == TypeOPT {
		// RFC 6891 section 6.1.3: class is the UDP payload size, the TTL's
		// top byte the upper 8 bits of the response code.
		m.EDNS, m.UDPSize = true, rr.Class
		m.Rcode |= Rcode(rr.TTL>>24) << 4
	}
	if len(m.Records) >= MaxRecords {
		m.Truncated = true
		return end, ""
	}
	rr.Name = string(name)
	var derr string
	rr.Addr, rr.Data, derr = rdataText(msg, rdata, end, rr.Type)
	m.Records = append(m.Records, rr)
	if derr != "" && m.Malformed == "" {
		m.Malformed = derr
	}
	return end, ""
}

// rdataText renders the RDATA of the types the decoder reads.
func rdataText(msg []byte, off, end int, t Type) (netip.Addr, string, string) {
	rd := msg[off:end]
	var buf [MaxName + 8]byte
	nameAt := func(at int) (string, string) {
		n, next, err := readName(msg[:end], at, buf[:0])
		if err != nil {
			return "", t.String() + " RDATA: " + err.Error()
		}
		if next > end {
			return "", t.String() + " RDATA: name past its end"
		}
		return string(n), ""
	}
	switch t {
	case TypeA:
		if len(rd) != 4 {
			return netip.Addr{}, "", "A RDATA is not 4 bytes"
		}
		a := netip.AddrFrom4([4]byte(rd))
		return a, a.String(), ""
	case TypeAAAA:
		if len(rd) != 16 {
			return netip.Addr{}, "", "AAAA RDATA is not 16 bytes"
		}
		a := netip.AddrFrom16([16]byte(rd))
		return a, a.String(), ""
	case TypeCNAME, TypeNS, TypePTR, TypeSOA:
		n, err := nameAt(off)
		return netip.Addr{}, n, err
	case TypeMX:
		if len(rd) < 3 {
			return netip.Addr{}, "", "MX RDATA too short"
		}
		n, err := nameAt(off + 2)
		return netip.Addr{}, strconv.Itoa(int(binary.BigEndian.Uint16(rd))) + " " + n, err
	case TypeSRV:
		if len(rd) < 7 {
			return netip.Addr{}, "", "SRV RDATA too short"
		}
		n, err := nameAt(off + 6)
		return netip.Addr{}, strconv.Itoa(int(binary.BigEndian.Uint16(rd[4:]))) + " " + n, err
	case TypeTXT:
		if len(rd) == 0 || int(rd[0]) > len(rd)-1 {
			return netip.Addr{}, "", "TXT RDATA malformed"
		}
		return netip.Addr{}, string(rd[1 : 1+rd[0]]), ""
	}
	return netip.Addr{}, "", ""
}
