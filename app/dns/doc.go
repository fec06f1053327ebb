// Package dns decodes DNS over UDP (app.Datagrams) and over TCP (app.Stream,
// RFC 1035 section 4.2.2: each message behind a 2-byte length). It matches
// responses to queries by ID and question, names the response code
// (NXDOMAIN, SERVFAIL, REFUSED …, extended by EDNS), notices retransmitted
// queries, and reports queries never answered when the exchange ends.
//
// Output, through app.Output: one app.Transaction per query (answered, with
// latency from its first transmission; or StatusNoReply at End), and a
// *Message record per DNS message with tshark's field names (dns.id,
// dns.flags.rcode, dns.qry.name, dns.a, dns.time, dns.response_to …).
//
// Names are decompressed with limits (RFC 1035 section 4.1.4): a pointer
// must point before the label that holds it, at most MaxPointers are
// followed, and a name may not exceed 255 octets; a name that breaks them
// makes the message Malformed, with what was decoded before kept.
//
// Bounded memory: a message keeps at most MaxQuestions questions and
// MaxRecords resource records (the counts say how many there were); at most
// MaxPending queries per exchange wait for answers (beyond that the oldest is
// reported unanswered); a TCP side buffers at most one message (64 KiB).
//
// Gaps (TCP): a gap inside a message of known length loses that message
// only; queries still waiting when the server side had such a gap are
// reported StatusIncomplete rather than unanswered (their answer may be in
// the gap). A gap that reaches past the message loses the framing and stops
// that side.
//
// Bytes from the wire are kept as they are (labels may hold any byte);
// escaping is the renderers' job.
package dns
