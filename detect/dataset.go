package detect

import (
	"net/netip"

	"github.com/wiresleuth/wiresleuth/app"
	"github.com/wiresleuth/wiresleuth/capture"
	"github.com/wiresleuth/wiresleuth/conn"
	"github.com/wiresleuth/wiresleuth/flow"
	"github.com/wiresleuth/wiresleuth/pipeline"
)

// Dataset is what one capture (one vantage point) yields for detection,
// gathered in a single pass with memory bounded by the caps below.
type Dataset struct {
	Name    string // vantage point name
	File    string
	Summary *pipeline.Summary
	// Conns are the connection records some detector asked to keep
	// (Detector.Keep), in the order they ended, at most MaxKept.
	Conns []*conn.Record
	// Briefs summarise every connection, at most MaxBriefs (beyond that a
	// uniform sample of them; Total counts all).
	Briefs []Brief
	Total  int
	// NotKept counts records a detector wanted but the cap refused.
	NotKept int
	// Apps is the application-level view of each TCP stream and UDP
	// exchange that a decoder recognised, by conn.Record.Stream for TCP.
	Apps map[int64]*AppConn
	// UDPApps are the UDP exchanges' application views.
	UDPApps []*AppConn
	// Transactions are application transactions, all up to
	// MaxTransactions, then only those that did not end OK.
	Transactions []app.Transaction
	// TxnStreams gives, for each transaction, its TCP stream (-1 for UDP).
	TxnStreams []int64
	// TxnApps gives, for each transaction, the TCP stream's or UDP
	// exchange's application view (its client and server).
	TxnApps []*AppConn

	results map[*Observer]any
	marks   map[int64]Outcome // by tcp.stream: outcomes detectors found (Mark)
}

// Caps on what a dataset keeps.
const (
	MaxKept         = 200_000
	MaxBriefs       = 1_000_000
	MaxTransactions = 200_000
)

// Brief is the compact summary kept of every connection.
type Brief struct {
	Proto         conn.Proto
	State         conn.State
	Outcome       Outcome
	Orig, Resp    flow.Endpoint
	Start, End    capture.Time
	Stream        int64 // tcp.stream, -1 if none
	FirstFrame    int64
	OrigPkts      uint64
	RespPkts      uint64
	OrigBytes     uint64
	RespBytes     uint64
	Retransmits   int64 // both sides
	ClosedBy      conn.Role
	CloseHow      conn.CloseKind
	HandshakeDone bool
	OrigHost      netip.Addr
	// OrigTTL and RespTTL are the TTL each side's packets arrived with
	// most often (0: none).
	OrigTTL, RespTTL uint8
	Kept             bool // the full record is in Conns
}

// AppConn is what application decoding made of one TCP stream or UDP
// exchange.
type AppConn struct {
	Protocol string // "http", "ftp", "oncrpc", "tls", "dns"; "" if undecided
	// Summary is the decoder's per-connection summary record, when it
	// has one (*http1.ConnSummary, *ftp.ConnSummary, *tls.ConnSummary).
	Summary      app.Record
	Transactions int
	Errors       int
	NoReply      int
	Client       flow.Endpoint
	Server       flow.Endpoint
}

// Result returns an observer's result for this dataset (nil if it did not
// run).
func (d *Dataset) Result(o *Observer) any { return d.results[o] }

// Outcome is how a connection ended, for the summary.
type Outcome uint8

const (
	Completed  Outcome = iota // closed normally (SF), or UDP/ICMP exchange answered
	Refused                   // SYN answered by RST (REJ)
	Unanswered                // SYN or request never answered (S0)
	Reset                     // established, then reset (RSTO, RSTR)
	OpenAtEnd                 // established and still open when the capture ended (S1) or closed on one side only
	Other                     // partial or unclassifiable (OTH, SH, SHR, RSTOS0, RSTRH)
	// The outcomes below come from detectors (Dataset.Mark), not from
	// the connection state alone.
	Stalled  // data stopped being acknowledged (stall.*), however it ended
	TimedOut // waited idle for something that never came, then gave up (close.fin-missing)
	numOutcomes
)

var outcomeNames = [...]string{"completed", "refused", "unanswered", "reset", "open at end", "other", "stalled", "timed out"}

// Outcomes lists every outcome in summary order.
func Outcomes() []Outcome {
	return []Outcome{Completed, Refused, Unanswered, Reset, Stalled, TimedOut, OpenAtEnd, Other}
}

// Mark records what a detector found out about how the connection with
// tcp.stream stream ended, for the summary; a stall outranks a timeout.
// Brief.Outcome stays what the connection state says, so detectors that
// run later see the same briefs whatever ran before them.
func (d *Dataset) Mark(stream int64, o Outcome) {
	if d.marks == nil {
		d.marks = map[int64]Outcome{}
	}
	if old, ok := d.marks[stream]; !ok || old != Stalled {
		d.marks[stream] = o
	}
}

// FinalOutcome is how b's connection ended, with what detectors found out
// (Mark).
func (d *Dataset) FinalOutcome(b *Brief) Outcome {
	if o, ok := d.marks[b.Stream]; ok && b.Stream >= 0 {
		return o
	}
	return b.Outcome
}

func (o Outcome) String() string { return outcomeNames[o] }

// OutcomeOf classifies a record.
func OutcomeOf(r *conn.Record) Outcome {
	switch r.State {
	case conn.SF:
		return Completed
	case conn.REJ:
		return Refused
	case conn.S0:
		if r.Proto == conn.ProtoTCP || r.RespPkts == 0 {
			return Unanswered
		}
	case conn.RSTO, conn.RSTR:
		return Reset
	case conn.S1, conn.S2, conn.S3:
		return OpenAtEnd
	}
	if r.Proto != conn.ProtoTCP && r.RespPkts > 0 {
		return Completed
	}
	return Other
}

func brief(r *conn.Record) Brief {
	b := Brief{Proto: r.Proto, State: r.State, Outcome: OutcomeOf(r),
		Orig: flow.Endpoint{Addr: r.ID.OrigH, Port: r.ID.OrigP}, Resp: flow.Endpoint{Addr: r.ID.RespH, Port: r.ID.RespP},
		Start: r.Start, End: r.LastSeen, Stream: -1, FirstFrame: r.FirstFrame,
		OrigPkts: r.OrigPkts, RespPkts: r.RespPkts, OrigBytes: r.OrigBytes, RespBytes: r.RespBytes,
		ClosedBy: r.Close.By, CloseHow: r.Close.How, HandshakeDone: r.Handshake.Complete(), OrigHost: r.ID.OrigH,
		OrigTTL: r.Orig.TTL.Dominant(), RespTTL: r.Resp.TTL.Dominant()}
	if r.Annotated {
		b.Stream = r.Stream
	}
	b.Retransmits = r.Orig.Analysis.Count(tcpRetransmission) + r.Resp.Analysis.Count(tcpRetransmission)
	return b
}
