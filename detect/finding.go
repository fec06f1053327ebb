package detect

import (
	"fmt"

	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/flow"
)

// Severity ranks findings.
type Severity uint8

const (
	Info    Severity = iota // context worth knowing; not a fault
	Warning                 // degraded or suspicious, may explain symptoms
	Error                   // a fault that breaks connections
)

func (s Severity) String() string { return [...]string{"info", "warning", "error"}[s] }

// MarshalText makes severities read as words in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the words back.
func (s *Severity) UnmarshalText(b []byte) error {
	for v := Info; v <= Error; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q", b)
}

// Finding is one recognised fault pattern.
type Finding struct {
	ID       string   `json:"id"`       // stable, dotted lowercase: "handshake.unanswered"
	Severity Severity `json:"severity"` // error, warning or info
	Title    string   `json:"title"`    // one line
	// Explanation says what happened in the terms of this capture:
	// addresses, ports, times, counts.
	Explanation string `json:"explanation"`
	// Affected connections out of OutOf comparable ones (e.g. 12 of 400
	// connections to port 443).
	Affected int `json:"affected"`
	OutOf    int `json:"out_of"`
	// Comparable says what OutOf counts ("connections to 10.0.0.2:80").
	Comparable string `json:"comparable,omitempty"`
	// Connections lists affected connections (at most MaxConnections).
	Connections []Conn `json:"connections"`
	// Evidence are the packets that prove it, the most telling first (at
	// most MaxEvidence).
	Evidence []Evidence `json:"evidence"`
	// NextSteps are what to check or capture next.
	NextSteps []string `json:"next_steps"`
	// Facts are machine-readable specifics ("retry_schedule_s" →
	// "1,2,4,8"), for tests and tools.
	Facts []Fact `json:"facts,omitempty"`
	// Vantages says, when several captures exist, where the packets in
	// question were seen and where not.
	Vantages []string `json:"vantages,omitempty"`
	// Score orders findings: how much of the trouble this explains.
	Score float64 `json:"score"`
	// Key, when a detector reports several findings of one id that may
	// share connections (two error replies on one HTTP connection),
	// tells them apart: findings from several captures merge only when
	// their keys are equal. Not rendered.
	Key string `json:"-"`
}

// Bounds on the lists a finding carries.
const (
	MaxConnections = 20
	MaxEvidence    = 12
)

// Conn identifies a connection in a capture.
type Conn struct {
	Capture string        `json:"capture"`
	Proto   string        `json:"proto"`
	Client  flow.Endpoint `json:"-"`
	Server  flow.Endpoint `json:"-"`
	Start   capture.Time  `json:"-"`
	// ClientAddr etc. are the JSON form.
	ClientAddr string `json:"client"`
	ServerAddr string `json:"server"`
	StartTime  string `json:"start"`
	UID        string `json:"uid,omitempty"` // conn.log uid
}

// NewConn fills a Conn's JSON fields from its typed ones.
func NewConn(capName, proto string, client, server flow.Endpoint, start capture.Time, uid string) Conn {
	return Conn{Capture: capName, Proto: proto, Client: client, Server: server, Start: start,
		ClientAddr: client.String(), ServerAddr: server.String(), StartTime: start.String(), UID: uid}
}

// Evidence is one packet that proves a finding.
type Evidence struct {
	Capture string       `json:"capture"`
	Frame   int64        `json:"frame"`
	Time    capture.Time `json:"-"`
	TimeStr string       `json:"time"`
	// Line is the packet as one tcpdump-style line (package pktline).
	Line string `json:"packet"`
	// Note says why this packet matters ("third SYN retransmission").
	Note string `json:"note,omitempty"`
}

// Fact is a named value.
type Fact struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// AddFact appends a fact.
func (f *Finding) AddFact(key, value string) { f.Facts = append(f.Facts, Fact{key, value}) }

// Fact returns the value of a fact, or "".
func (f *Finding) Fact(key string) string {
	for _, x := range f.Facts {
		if x.Key == key {
			return x.Value
		}
	}
	return ""
}

// AddConn appends a connection, up to MaxConnections.
func (f *Finding) AddConn(c Conn) {
	if len(f.Connections) < MaxConnections {
		f.Connections = append(f.Connections, c)
	}
}

// AddEvidence appends evidence, up to MaxEvidence.
func (f *Finding) AddEvidence(e Evidence) {
	if len(f.Evidence) < MaxEvidence {
		e.TimeStr = e.Time.String()
		f.Evidence = append(f.Evidence, e)
	}
}
