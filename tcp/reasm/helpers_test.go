package reasm

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/packet"
)

// event is one app.Stream call, as recorded.
type event struct {
	kind  byte // 'B'ytes, 'G'ap, 'C'lose, 'E'nd
	side  app.Side
	data  string
	n     int64
	reset bool
	at    app.Pos
}

// recorder is an app.Stream that keeps every call and checks the contract.
type recorder struct {
	events []event
	closed [2]bool
	ended  bool
	errs   []string
}

func (r *recorder) check(side app.Side, what string) {
	if r.ended {
		r.errs = append(r.errs, what+" after End")
	}
	if side > app.Server {
		r.errs = append(r.errs, fmt.Sprintf("%s: side %d", what, side))
	} else if r.closed[side] {
		r.errs = append(r.errs, fmt.Sprintf("%s on %s after its Close", what, side))
	}
}

func (r *recorder) Bytes(side app.Side, b []byte, at app.Pos) {
	r.check(side, "Bytes")
	if len(b) == 0 {
		r.errs = append(r.errs, "empty Bytes")
	}
	r.events = append(r.events, event{kind: 'B', side: side, data: string(b), at: at})
}

func (r *recorder) Gap(side app.Side, n int64, at app.Pos) {
	r.check(side, "Gap")
	if n <= 0 {
		r.errs = append(r.errs, fmt.Sprintf("Gap(%d)", n))
	}
	r.events = append(r.events, event{kind: 'G', side: side, n: n, at: at})
}

func (r *recorder) Close(side app.Side, reset bool, at app.Pos) {
	r.check(side, "Close")
	if side <= app.Server {
		r.closed[side] = true
	}
	r.events = append(r.events, event{kind: 'C', side: side, reset: reset, at: at})
}

func (r *recorder) End(at app.Pos) {
	if r.ended {
		r.errs = append(r.errs, "second End")
	}
	r.ended = true
	r.events = append(r.events, event{kind: 'E', at: at})
}

// stream renders what side sent: bytes as they are, gaps as [n], a close
// as |FIN or |RST.
func (r *recorder) stream(side app.Side) string {
	var b strings.Builder
	for _, e := range r.events {
		if e.side != side && e.kind != 'E' {
			continue
		}
		switch e.kind {
		case 'B':
			b.WriteString(e.data)
		case 'G':
			fmt.Fprintf(&b, "[%d]", e.n)
		case 'C':
			if e.reset {
				b.WriteString("|RST")
			} else {
				b.WriteString("|FIN")
			}
		}
	}
	return b.String()
}

// calls renders the calls in order, compactly: c"ab"@3 is client bytes
// "ab" from frame 3, sG2@4 a server gap of 2 reported at frame 4.
func (r *recorder) calls() string {
	var parts []string
	for _, e := range r.events {
		s := "c"
		if e.side == app.Server {
			s = "s"
		}
		switch e.kind {
		case 'B':
			parts = append(parts, fmt.Sprintf("%s%q@%d", s, e.data, e.at.Frame))
		case 'G':
			parts = append(parts, fmt.Sprintf("%sG%d@%d", s, e.n, e.at.Frame))
		case 'C':
			k := "FIN"
			if e.reset {
				k = "RST"
			}
			parts = append(parts, fmt.Sprintf("%s%s@%d", s, k, e.at.Frame))
		case 'E':
			parts = append(parts, fmt.Sprintf("E@%d", e.at.Frame))
		}
	}
	return strings.Join(parts, " ")
}

// seg describes a segment for a test.
type tseg struct {
	side     app.Side
	seq, ack uint32
	flags    uint8
	data     string
	wire     int // on-the-wire payload length when larger than data (snap length)
}

// tcpPacket builds the packet.Packet a decoder would produce for s, in
// frame number frame.
func tcpPacket(frame int64, s tseg) *packet.Packet {
	h := make(header.TCP, header.TCPMinLen+len(s.data))
	binary.BigEndian.PutUint16(h[0:], 40000)
	binary.BigEndian.PutUint16(h[2:], 80)
	if s.side == app.Server {
		binary.BigEndian.PutUint16(h[0:], 80)
		binary.BigEndian.PutUint16(h[2:], 40000)
	}
	binary.BigEndian.PutUint32(h[4:], s.seq)
	binary.BigEndian.PutUint32(h[8:], s.ack)
	h[12] = 5 << 4
	h[13] = s.flags
	binary.BigEndian.PutUint16(h[14:], 65535)
	copy(h[20:], s.data)
	p := &packet.Packet{}
	p.Frame, p.Time = frame, capture.Time(frame*1000)
	p.TCP, p.Payload, p.PayloadLen = h, h[20:], max(len(s.data), s.wire)
	return p
}

// run feeds segs (frames 1, 2, …) to a new Conn and ends it at the frame
// after the last.
func run(opt Options, segs ...tseg) (*recorder, *Conn) {
	r := &recorder{}
	c := New(r, opt)
	for i, s := range segs {
		c.Segment(tcpPacket(int64(i+1), s), s.side)
	}
	c.End(app.Pos{Frame: int64(len(segs) + 1)})
	return r, c
}

const (
	fSYN = header.FlagSYN
	fACK = header.FlagACK
	fFIN = header.FlagFIN
	fRST = header.FlagRST
	fPSH = header.FlagPSH
)

// Short names for the two sides.
const (
	cli = app.Client
	srv = app.Server
)
