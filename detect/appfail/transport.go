package appfail

import (
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/header"
	"github.com/wiresleuth/wiresleuth/pipeline"
	"github.com/wiresleuth/wiresleuth/tcp"
)

// Transport watches what TCP and ICMP said about the requests the
// application decoders report: whether the server's TCP acknowledged a
// client's data, whether the data was retransmitted, who closed or reset
// the connection and when, and which UDP exchanges drew ICMP errors. An
// unanswered request reads differently when the server's stack
// acknowledged it (the application is silent) than when nothing came back
// at all (the path or the host).
var Transport = &detect.Observer{
	Name: "appfail.transport",
	Doc:  "per TCP stream: data acknowledged or not, retransmissions, FIN/RST per side; ICMP errors quoting UDP flows",
	New: func() detect.Observation {
		return &transportObs{tcp: map[int64]*StreamView{}, udp: map[udpKey]*ICMPView{}}
	},
}

// Bounds on what the observer keeps.
const (
	maxStreams = 500_000
	maxUDP     = 100_000
)

// StreamView is what one TCP stream's packets said, per side. Side 0 is
// the stream's first sender (tshark's address A).
type StreamView struct {
	A flow.Endpoint // the first sender
	// Packets counts the packets each side sent.
	Packets [2]int64
	// DataEnd is the relative sequence number after each side's highest
	// data byte; DataLast the frame of its last new data.
	DataEnd  [2]uint32
	HasData  [2]bool
	DataLast [2]conn.Ref
	// Covered is the first frame in which the other side acknowledged
	// everything this side had sent by then (invalid while the latest
	// data is unacknowledged).
	Covered [2]conn.Ref
	// Retransmits counts each side's retransmitted data segments.
	Retransmits [2]int
	FIN, RST    [2]conn.Ref
	Last        [2]conn.Ref

	// recent are each side's last new-data segments and when the other
	// side acknowledged them, for AckOf.
	recent [2][]segAck
}

// segAck is one segment of new data and the ACK that covered it.
type segAck struct {
	frame   int64
	end     uint32
	covered conn.Ref
}

// recentSegments is how many new-data segments per side AckOf remembers.
const recentSegments = 8

// AckOf returns the frame in which the other side acknowledged the data
// segment side sent in frame (invalid if it never did); known is false
// when that segment is not among the side's last recentSegments ones.
func (v *StreamView) AckOf(side int, frame int64) (ack conn.Ref, known bool) {
	for _, s := range v.recent[side] {
		if s.frame == frame {
			return s.covered, true
		}
	}
	return conn.Ref{}, false
}

// Side returns the index of the side whose endpoint is e.
func (v *StreamView) Side(e flow.Endpoint) int {
	if e == v.A {
		return 0
	}
	return 1
}

// ICMPView is the ICMP errors that quoted one UDP flow.
type ICMPView struct {
	Count      int
	First      conn.Ref
	From       flow.Endpoint // who sent the first (a router or the host)
	Type, Code uint8
	V6         bool
}

type udpKey struct{ src, dst flow.Endpoint }

// TransportResult is the observer's result.
type TransportResult struct {
	TCP map[int64]*StreamView
	udp map[udpKey]*ICMPView
}

// ICMP returns the ICMP errors that quoted datagrams from client to
// server, or nil.
func (r *TransportResult) ICMP(client, server flow.Endpoint) *ICMPView {
	if r == nil {
		return nil
	}
	return r.udp[udpKey{client, server}]
}

type transportObs struct {
	tcp map[int64]*StreamView
	udp map[udpKey]*ICMPView
}

func (o *transportObs) Packet(p *pipeline.Packet) {
	switch {
	case p.Packet.TCP != nil && p.TCP != nil && !p.TCP.Quoted:
		o.segment(p)
	case p.ICMP != nil && p.Quoted.Valid && p.Quoted.Proto == header.ProtoUDP:
		k := udpKey{flow.Endpoint{Addr: p.Quoted.Src, Port: p.Quoted.SrcPort}, flow.Endpoint{Addr: p.Quoted.Dst, Port: p.Quoted.DstPort}}
		v := o.udp[k]
		if v == nil {
			if len(o.udp) >= maxUDP {
				return
			}
			v = &ICMPView{First: conn.Ref{Frame: p.Frame, Time: p.Time}, From: flow.Endpoint{Addr: p.Src},
				Type: p.ICMP.Type(), Code: p.ICMP.Code(), V6: p.Src.Is6() && !p.Src.Is4In6()}
			o.udp[k] = v
		}
		v.Count++
	}
}

func (o *transportObs) segment(p *pipeline.Packet) {
	a := p.TCP
	v := o.tcp[a.Stream]
	if v == nil {
		if len(o.tcp) >= maxStreams {
			return
		}
		v = &StreamView{A: flow.Endpoint{Addr: p.Src, Port: p.SrcPort}}
		if !a.FromA {
			v.A = flow.Endpoint{Addr: p.Dst, Port: p.DstPort}
		}
		o.tcp[a.Stream] = v
	}
	s := 1
	if a.FromA {
		s = 0
	}
	ref := conn.Ref{Frame: p.Frame, Time: p.Time}
	v.Packets[s]++
	v.Last[s] = ref
	flags := p.Packet.TCP.Flags()
	if a.SeqLen > 0 && flags&header.FlagSYN == 0 {
		end := a.RelSeq + uint32(a.SeqLen)
		if a.Flags&tcp.Retransmission != 0 {
			v.Retransmits[s]++
		}
		if !v.HasData[s] || int32(end-v.DataEnd[s]) > 0 {
			v.DataEnd[s], v.HasData[s], v.DataLast[s] = end, true, ref
			v.Covered[s] = conn.Ref{}
			r := v.recent[s]
			if len(r) == recentSegments {
				r = append(r[:0], r[1:]...)
			}
			v.recent[s] = append(r, segAck{frame: p.Frame, end: end})
		}
	}
	if flags&header.FlagACK != 0 && v.HasData[1-s] {
		if !v.Covered[1-s].Valid() && int32(a.RelAck-v.DataEnd[1-s]) >= 0 {
			v.Covered[1-s] = ref
		}
		r := v.recent[1-s]
		for i := range r {
			if !r[i].covered.Valid() && int32(a.RelAck-r[i].end) >= 0 {
				r[i].covered = ref
			}
		}
	}
	if flags&header.FlagFIN != 0 && !v.FIN[s].Valid() {
		v.FIN[s] = ref
	}
	if flags&header.FlagRST != 0 && !v.RST[s].Valid() {
		v.RST[s] = ref
	}
}

func (o *transportObs) Finish() any { return &TransportResult{TCP: o.tcp, udp: o.udp} }
