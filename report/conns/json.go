package conns

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/wiresleuth/wiresleuth/conn"
)

// SchemaVersion is the version of the JSON output; it changes when a field
// changes meaning or goes away (adding fields does not change it).
const SchemaVersion = 1

// The JSON view of a record. Field names are part of the output's
// contract: Zeek's column names where Zeek has the value, snake_case
// otherwise. Times are RFC 3339 in UTC with nanoseconds, durations are
// seconds, absent frame references are null.
type jsonRecord struct {
	UID           string         `json:"uid"`
	ID            jsonID         `json:"id"`
	Proto         string         `json:"proto"`
	IPProto       uint8          `json:"ip_proto"`
	Service       string         `json:"service"`
	TS            string         `json:"ts"`
	LastTime      string         `json:"last_time"`
	Duration      *float64       `json:"duration"` // null when Zeek leaves it unset
	OrigBytes     *uint64        `json:"orig_bytes"`
	RespBytes     *uint64        `json:"resp_bytes"`
	ConnState     string         `json:"conn_state"`
	LocalOrig     *bool          `json:"local_orig"`
	LocalResp     *bool          `json:"local_resp"`
	MissedBytes   uint64         `json:"missed_bytes"`
	History       string         `json:"history"`
	OrigPkts      uint64         `json:"orig_pkts"`
	OrigIPBytes   uint64         `json:"orig_ip_bytes"`
	RespPkts      uint64         `json:"resp_pkts"`
	RespIPBytes   uint64         `json:"resp_ip_bytes"`
	TunnelParents []string       `json:"tunnel_parents"`
	OrigTCPState  string         `json:"orig_tcp_state,omitempty"`
	RespTCPState  string         `json:"resp_tcp_state,omitempty"`
	Ended         string         `json:"ended"`
	EndTime       string         `json:"end_time"`
	FirstFrame    int64          `json:"first_frame"`
	LastFrame     int64          `json:"last_frame"`
	LastSeen      string         `json:"last_seen"`
	ExactDuration float64        `json:"exact_duration"`
	Timestamps    string         `json:"tcp_timestamps"`
	Orig          jsonSide       `json:"orig"`
	Resp          jsonSide       `json:"resp"`
	Handshake     jsonHS         `json:"handshake"`
	Close         jsonClose      `json:"close"`
	Idle          jsonIdle       `json:"idle"`
	ICMPErrors    []jsonICMP     `json:"icmp_errors"`
	ICMPCount     int            `json:"icmp_error_count"`
	Evidence      []jsonEvidence `json:"evidence"`
	Annotated     bool           `json:"annotated"`
}

type jsonID struct {
	OrigH string `json:"orig_h"`
	OrigP uint16 `json:"orig_p"`
	RespH string `json:"resp_h"`
	RespP uint16 `json:"resp_p"`
}

type jsonRef struct {
	Frame int64  `json:"frame"`
	Time  string `json:"time"`
}

func ref(r conn.Ref) *jsonRef {
	if !r.Valid() {
		return nil
	}
	return &jsonRef{Frame: r.Frame, Time: r.Time.String()}
}

type jsonSide struct {
	Packets      int64            `json:"packets"`
	PayloadBytes int64            `json:"payload_bytes"`
	Options      *jsonOptions     `json:"tcp_options"`
	TSSegments   int64            `json:"ts_segments"`
	NoTSSegments int64            `json:"no_ts_segments"`
	TTL          jsonTTL          `json:"ttl"`
	IPID         jsonIPID         `json:"ip_id"`
	Checksums    jsonChecksums    `json:"checksums"`
	Analysis     map[string]int64 `json:"analysis"`
	FirstData    *jsonRef         `json:"first_data"`
	LastData     *jsonRef         `json:"last_data"`
	FIN          *jsonRef         `json:"fin"`
	RST          *jsonRef         `json:"rst"`
}

type jsonOptions struct {
	MSS           *uint16 `json:"mss"`
	WScale        *uint8  `json:"wscale"`
	SACKPermitted bool    `json:"sack_permitted"`
	Timestamps    bool    `json:"timestamps"`
	Malformed     bool    `json:"malformed"`
}

type jsonTTLValue struct {
	TTL   uint8    `json:"ttl"`
	Count int64    `json:"count"`
	First *jsonRef `json:"first"`
}

type jsonTTL struct {
	Constant bool           `json:"constant"`
	Dominant *uint8         `json:"dominant"`
	Values   []jsonTTLValue `json:"values"`
	Other    int64          `json:"other"`
	Changes  int64          `json:"changes"`
}

type jsonOutlier struct {
	jsonRef
	ID       uint16 `json:"id"`
	Expected uint16 `json:"expected"`
}

type jsonIPID struct {
	Class      string        `json:"class"`
	Packets    int64         `json:"packets"`
	Zero       int64         `json:"zero"`
	First      uint16        `json:"first"`
	Last       uint16        `json:"last"`
	InSequence int64         `json:"in_sequence"`
	Outliers   []jsonOutlier `json:"outliers"`
}

type jsonChecksums struct {
	Verdict    string    `json:"verdict"`
	Good       int64     `json:"good"`
	Bad        int64     `json:"bad"`
	Zero       int64     `json:"zero"`
	Partial    int64     `json:"partial"`
	Unverified int64     `json:"unverified"`
	IPBad      int64     `json:"ip_bad"`
	Outbound   int64     `json:"outbound"`
	Constant   *uint16   `json:"constant_value"`
	Samples    []jsonRef `json:"samples"`
}

type jsonHS struct {
	SYN     *jsonRef `json:"syn"`
	SYNACK  *jsonRef `json:"syn_ack"`
	ACK     *jsonRef `json:"ack"`
	SYNs    int      `json:"syns"`
	SYNACKs int      `json:"syn_acks"`
	RTT     *float64 `json:"rtt"`
	RespRTT *float64 `json:"resp_rtt"`
	OrigRTT *float64 `json:"orig_rtt"`
}

type jsonClose struct {
	By  string   `json:"by"`
	How string   `json:"how"`
	At  *jsonRef `json:"at"`
}

type jsonIdle struct {
	Gap           float64  `json:"gap"`
	From          *jsonRef `json:"from"`
	To            *jsonRef `json:"to"`
	AfterLastData bool     `json:"after_last_data"`
	EndsWithClose bool     `json:"ends_with_close"`
	ClosedBy      string   `json:"closed_by"`
	Trailing      float64  `json:"trailing"`
}

type jsonICMP struct {
	jsonRef
	From      string  `json:"from"`
	Family    string  `json:"family"`
	Type      uint8   `json:"type"`
	Code      uint8   `json:"code"`
	MTU       int     `json:"mtu,omitempty"`
	About     string  `json:"about"`
	QuotedSeq *uint32 `json:"quoted_seq"`
	QuotedTTL uint8   `json:"quoted_ttl"`
}

type jsonEvidence struct {
	jsonRef
	Kind string `json:"kind"`
	From string `json:"from"`
}

func secs(d time.Duration) float64 { return d.Seconds() }

func secsPtr(d time.Duration, ok bool) *float64 {
	if !ok {
		return nil
	}
	v := d.Seconds()
	return &v
}

func jsonView(r *conn.Record) *jsonRecord {
	j := &jsonRecord{
		UID:           safe(r.UID),
		ID:            jsonID{r.ID.OrigH.String(), r.ID.OrigP, r.ID.RespH.String(), r.ID.RespP},
		Proto:         r.Proto.String(),
		IPProto:       r.IPProto,
		Service:       safe(r.Service),
		TS:            r.Start.String(),
		LastTime:      r.LastTime.String(),
		ConnState:     r.State.String(),
		MissedBytes:   r.MissedBytes,
		History:       safe(r.History),
		OrigPkts:      r.OrigPkts,
		OrigIPBytes:   r.OrigIPBytes,
		RespPkts:      r.RespPkts,
		RespIPBytes:   r.RespIPBytes,
		TunnelParents: []string{},
		Ended:         r.Ended.String(),
		EndTime:       r.EndTime.String(),
		FirstFrame:    r.FirstFrame,
		LastFrame:     r.LastFrame,
		LastSeen:      r.LastSeen.String(),
		ExactDuration: secs(r.Duration()),
		Timestamps:    r.Timestamps().String(),
		Orig:          jsonSideView(&r.Orig, r.Proto == conn.ProtoTCP),
		Resp:          jsonSideView(&r.Resp, r.Proto == conn.ProtoTCP),
		ICMPErrors:    []jsonICMP{},
		ICMPCount:     r.ICMPErrorCount,
		Evidence:      []jsonEvidence{},
		Annotated:     r.Annotated,
	}
	if r.HasDuration() {
		j.Duration = secsPtr(r.ZeekDuration(), true)
		ob, rb := r.OrigBytes, r.RespBytes
		j.OrigBytes, j.RespBytes = &ob, &rb
	}
	if r.LocalKnown {
		lo, lr := r.LocalOrig, r.LocalResp
		j.LocalOrig, j.LocalResp = &lo, &lr
	}
	for _, p := range r.TunnelParents {
		j.TunnelParents = append(j.TunnelParents, safe(p))
	}
	if r.Proto == conn.ProtoTCP {
		j.OrigTCPState, j.RespTCPState = r.OrigTCP.String(), r.RespTCP.String()
	}
	h := &r.Handshake
	j.Handshake = jsonHS{SYN: ref(h.SYN), SYNACK: ref(h.SYNACK), ACK: ref(h.ACK), SYNs: h.SYNs, SYNACKs: h.SYNACKs,
		RTT:     secsPtr(h.RTT, h.SYN.Valid() && h.ACK.Valid()),
		RespRTT: secsPtr(h.RespRTT(), h.SYN.Valid() && h.SYNACK.Valid()),
		OrigRTT: secsPtr(h.OrigRTT(), h.SYNACK.Valid() && h.ACK.Valid())}
	j.Close = jsonClose{By: r.Close.By.String(), How: r.Close.How.String(), At: ref(r.Close.At)}
	id := &r.Idle
	j.Idle = jsonIdle{Gap: secs(id.Gap), From: ref(id.From), To: ref(id.To), AfterLastData: id.AfterLastData,
		EndsWithClose: id.EndsWithClose, ClosedBy: id.ClosedBy.String(), Trailing: secs(id.Trailing)}
	for _, e := range r.ICMPErrors {
		fam := "icmp"
		if e.V6 {
			fam = "icmp6"
		}
		x := jsonICMP{jsonRef: *ref(e.Ref), From: e.From.String(), Family: fam, Type: e.Type, Code: e.Code, MTU: e.MTU,
			About: e.About.String(), QuotedTTL: e.QuotedTTL}
		if e.HasSeq {
			s := e.QuotedSeq
			x.QuotedSeq = &s
		}
		j.ICMPErrors = append(j.ICMPErrors, x)
	}
	for _, e := range r.Evidence {
		j.Evidence = append(j.Evidence, jsonEvidence{jsonRef: *ref(e.Ref), Kind: e.Kind.String(), From: e.From.String()})
	}
	return j
}

func jsonSideView(s *conn.Side, isTCP bool) jsonSide {
	j := jsonSide{
		Packets: s.Packets, PayloadBytes: s.PayloadBytes, TSSegments: s.TSPackets, NoTSSegments: s.NoTSPackets,
		FirstData: ref(s.FirstData), LastData: ref(s.LastData), FIN: ref(s.FIN), RST: ref(s.RST),
		Analysis: map[string]int64{},
	}
	if o := s.Options; o.Seen {
		jo := &jsonOptions{SACKPermitted: o.SACKPermitted, Timestamps: o.Timestamps, Malformed: o.Malformed}
		if o.HasMSS {
			v := o.MSS
			jo.MSS = &v
		}
		if o.HasWScale {
			v := o.WScale
			jo.WScale = &v
		}
		j.Options = jo
	}
	j.TTL = jsonTTL{Constant: s.TTL.Constant(), Values: []jsonTTLValue{}, Other: s.TTL.Other, Changes: s.TTL.Changes}
	if len(s.TTL.Values) > 0 {
		d := s.TTL.Dominant()
		j.TTL.Dominant = &d
	}
	for _, v := range s.TTL.Values {
		j.TTL.Values = append(j.TTL.Values, jsonTTLValue{TTL: v.TTL, Count: v.Count, First: ref(v.First)})
	}
	id := &s.IPID
	j.IPID = jsonIPID{Class: id.Class.String(), Packets: id.Packets, Zero: id.Zero, First: id.First, Last: id.Last,
		InSequence: id.InSequence, Outliers: []jsonOutlier{}}
	for _, o := range id.Outliers {
		j.IPID.Outliers = append(j.IPID.Outliers, jsonOutlier{jsonRef: *ref(o.Ref), ID: o.ID, Expected: o.Expected})
	}
	c := &s.Checksums
	j.Checksums = jsonChecksums{Verdict: c.Verdict.String(), Good: c.Good, Bad: c.Bad, Zero: c.Zero, Partial: c.Partial,
		Unverified: c.Unverified, IPBad: c.IPBad, Outbound: c.Outbound, Samples: []jsonRef{}}
	if c.Constant {
		v := c.Value
		j.Checksums.Constant = &v
	}
	for _, r := range c.Samples {
		j.Checksums.Samples = append(j.Checksums.Samples, *ref(r))
	}
	if isTCP {
		for i, name := range conn.AnalysisFlagNames {
			j.Analysis[name] = s.Analysis[i]
		}
	}
	return j
}

// jsonWriter streams {"schema": …, "connections": [ … ]}.
type jsonWriter struct {
	w   io.Writer
	n   int
	err error
}

func newJSON(w io.Writer) *jsonWriter { return &jsonWriter{w: w} }

func (j *jsonWriter) write(s string) {
	if j.err == nil {
		_, j.err = io.WriteString(j.w, s)
	}
}

func (j *jsonWriter) Write(r *conn.Record) error {
	if j.n == 0 {
		j.write("{\"schema\":\"wiresleuth.conns\",\"version\":" + strconv.Itoa(SchemaVersion) + ",\"connections\":[\n")
	} else {
		j.write(",\n")
	}
	j.n++
	b, err := json.Marshal(jsonView(r))
	if err != nil {
		return err
	}
	j.write(string(b))
	return j.err
}

func (j *jsonWriter) Close() error {
	if j.n == 0 {
		j.write("{\"schema\":\"wiresleuth.conns\",\"version\":" + strconv.Itoa(SchemaVersion) + ",\"connections\":[")
	} else {
		j.write("\n")
	}
	j.write("]}\n")
	return j.err
}
