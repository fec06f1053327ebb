// Package tls decodes the clear-text part of TLS (SSL 3.0 to TLS 1.3) on a
// TCP connection, without decrypting anything: the record layer (records may
// span segments, several may share one), the ClientHello (SNI, offered
// versions including supported_versions, ALPN, cipher suites), the
// ServerHello (chosen version and cipher, HelloRetryRequest), the other
// handshake message types while they are in clear, alerts (level and
// description by name; encrypted ones are counted as such), and whether the
// handshake completed.
//
// Output, through app.Output: one app.Transaction per connection for the
// handshake (OK once established, StatusError with the alert's name on a
// fatal alert, StatusNoReply when no ServerHello came, StatusIncomplete when
// it stopped half-way), and the typed records *ClientHello, *ServerHello,
// *Handshake (other clear-text handshake messages), *Alert and, at End,
// *ConnSummary, with tshark's field names (tls.handshake.type,
// tls.handshake.extensions_server_name, tls.alert_message.desc …).
//
// When is a handshake complete? Up to TLS 1.2: once both sides have sent
// ChangeCipherSpec followed by their (encrypted) Finished. In TLS 1.3 the
// server's flight and all later alerts are encrypted, and the client
// finishes before the server has judged its certificate: the handshake
// counts as complete when, after the client's first encrypted record, the
// server sends one longer than an encrypted alert (a session ticket or
// data). A short one instead is taken for an encrypted alert (Alert.Inferred)
// unless a longer one follows; with neither by End, a finished client counts
// as complete. An encrypted alert cannot be named: the transaction then says
// "encrypted_alert".
//
// Bounded memory per connection: a record longer than MaxRecord bytes means
// the side is not (or no longer) TLS and its decoding stops; a ClientHello
// or ServerHello keeps at most MaxHello bytes (longer ones are parsed as far
// as kept and flagged Truncated); other handshake messages (certificates)
// are skipped, never stored; kept lists are capped (MaxList entries) and
// names at MaxName bytes.
//
// Gaps: inside a record of known length the gap is skipped (a hello it cuts
// is parsed as far as it got and flagged); a gap that reaches past the
// current record loses the record boundaries, and that side's decoding
// stops (ConnSummary.Lost).
package tls
