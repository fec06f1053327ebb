// Package appfail recognises application-level failures in the
// transactions the app decoders report (detect.Dataset.Transactions):
//
//   - app.error-reply: error replies, grouped by protocol, operation and
//     error, with what the error means for the user's operation, how
//     serious it is among the other replies, and the first examples as
//     evidence (request and reply frames). Expected failures are left out:
//     an RPC version probe answered PROG_MISMATCH and then retried with a
//     version the server has, an HTTP 401 challenge followed by a success,
//     NXDOMAIN for a resolver search-list expansion.
//   - app.no-reply: requests never answered, per server, saying whether
//     the transport itself answered (the server's TCP acknowledged the
//     request; an ICMP error came back; nothing came back at all), how
//     long the client waited and how it gave up. Requests answered by a
//     reset or a close, requests the capture ended too soon after, and
//     requests whose answer another vantage point saw are not reported.
//   - app.slow: latency outliers of one operation against that
//     operation's own distribution (median and median absolute deviation),
//     only with enough samples, saying whether the slow ones were on
//     connections that retransmitted.
//
// Severity follows what an expert would flag: errors that break the
// user's operation are errors (a SETVOLUME refused with EACCES, an FTP 421,
// a TLS fatal alert, a REFUSED resolver); an HTTP 404 among many 200s is
// info.
package appfail
