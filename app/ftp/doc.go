// Package ftp decodes FTP control connections (RFC 959, RFC 2228 security
// extensions, RFC 2428 EPSV/EPRT), GridFTP's included (port 2811, AUTH
// GSSAPI with ADAT, striped SPAS/SPOR). It assembles multi-line replies
// ("123-" … "123 "), pairs commands with replies (preliminary 1yz replies do
// not end a command), tells the greeting (220, 120, or a 421 refusal) from
// unsolicited replies such as a 421 idle timeout, and parses PASV, EPSV and
// SPAS replies and PORT, EPRT and SPOR commands into the data-connection
// endpoints they announce, so that a data connection can be linked to its
// control connection (DataEndpoint.Resolve).
//
// Output, through app.Output: an app.Transaction per command (and one for the
// greeting, one per unsolicited reply; latency runs from the command to its
// final reply, so for RETR and STOR it includes the transfer; each *Reply
// has its own), and the typed records *Command,
// *Reply and, at End, *ConnSummary, with tshark's field names
// (ftp.request.command, ftp.response.code, ftp.passive.port …).
//
// Bounded memory per connection: a line keeps at most MaxLine bytes (longer
// ones are truncated, decoding stays in step); a reply keeps at most MaxText
// bytes of its continuation lines, however many lines it has; at most
// MaxPending commands wait for replies (beyond that the oldest is forgotten
// and counted in ConnSummary.Dropped); at most MaxData endpoints are kept.
//
// Gaps: FTP is line-based, so decoding resumes at the first line after a gap
// that looks like a command (client) or a reply (server); a multi-line reply
// cut by a gap is reported incomplete. Commands or replies lost in a gap can
// shift the pairing: everything decoded after a gap carries AfterGap.
// After AUTH TLS (or SSL) is accepted with 234 the control channel is
// encrypted and decoding stops (ConnSummary.TLS).
//
// Bytes from the wire are kept as they are (maybe not UTF-8, maybe control
// bytes); escaping is the renderers' job.
package ftp
