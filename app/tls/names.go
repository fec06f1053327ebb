package tls

import "strconv"

// Version is a protocol version as sent on the wire (0x0303 is TLS 1.2).
type Version uint16

const (
	SSL30 Version = 0x0300
	TLS10 Version = 0x0301
	TLS11 Version = 0x0302
	TLS12 Version = 0x0303
	TLS13 Version = 0x0304
)

// IsGREASE reports whether v is one of the reserved values clients send to
// keep servers tolerant (RFC 8701): 0x?a?a with equal bytes.
func IsGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

func (v Version) String() string {
	switch v {
	case SSL30:
		return "SSL 3.0"
	case TLS10:
		return "TLS 1.0"
	case TLS11:
		return "TLS 1.1"
	case TLS12:
		return "TLS 1.2"
	case TLS13:
		return "TLS 1.3"
	}
	if IsGREASE(uint16(v)) {
		return "GREASE"
	}
	if v>>8 == 0x7f {
		return "TLS 1.3 draft " + strconv.Itoa(int(v&0xff))
	}
	return hex4(uint16(v))
}

func hex4(v uint16) string {
	const digits = "0123456789abcdef"
	return "0x" + string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

// CipherSuite is a cipher suite number from the IANA registry.
type CipherSuite uint16

// String returns the IANA name of common suites, GREASE, or the number.
func (c CipherSuite) String() string {
	if n, ok := cipherNames[c]; ok {
		return n
	}
	if IsGREASE(uint16(c)) {
		return "GREASE"
	}
	return hex4(uint16(c))
}

// cipherNames holds the suites seen in practice (IANA TLS Cipher Suites
// registry names).
var cipherNames = map[CipherSuite]string{
	0x0000: "TLS_NULL_WITH_NULL_NULL",
	0x0004: "TLS_RSA_WITH_RC4_128_MD5",
	0x0005: "TLS_RSA_WITH_RC4_128_SHA",
	0x000a: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
	0x002f: "TLS_RSA_WITH_AES_128_CBC_SHA",
	0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
	0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
	0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
	0x003c: "TLS_RSA_WITH_AES_128_CBC_SHA256",
	0x003d: "TLS_RSA_WITH_AES_256_CBC_SHA256",
	0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
	0x006b: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
	0x009c: "TLS_RSA_WITH_AES_128_GCM_SHA256",
	0x009d: "TLS_RSA_WITH_AES_256_GCM_SHA384",
	0x009e: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
	0x009f: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
	0x00ff: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	0x1301: "TLS_AES_128_GCM_SHA256",
	0x1302: "TLS_AES_256_GCM_SHA384",
	0x1303: "TLS_CHACHA20_POLY1305_SHA256",
	0x1304: "TLS_AES_128_CCM_SHA256",
	0x1305: "TLS_AES_128_CCM_8_SHA256",
	0x5600: "TLS_FALLBACK_SCSV",
	0xc007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
	0xc009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	0xc00a: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	0xc011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
	0xc012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
	0xc013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	0xc014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	0xc023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
	0xc024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
	0xc027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	0xc028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	0xc02b: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	0xc02c: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	0xc030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	0xcca8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	0xcca9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	0xccaa: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

// AlertLevel is warning (1) or fatal (2).
type AlertLevel uint8

func (l AlertLevel) String() string {
	switch l {
	case 1:
		return "warning"
	case 2:
		return "fatal"
	}
	return "level " + strconv.Itoa(int(l))
}

// AlertDescription is an alert's reason (RFC 8446 section 6, RFC 5246
// section 7.2 and their updates).
type AlertDescription uint8

// String returns the RFC name, e.g. "protocol_version", "unknown_ca".
func (d AlertDescription) String() string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return "alert_" + strconv.Itoa(int(d))
}

var alertNames = map[AlertDescription]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
	22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
	42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
	49: "access_denied", 50: "decode_error", 51: "decrypt_error", 60: "export_restriction",
	70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
	109: "missing_extension", 110: "unsupported_extension", 111: "certificate_unobtainable",
	112: "unrecognized_name", 113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value", 115: "unknown_psk_identity", 116: "certificate_required",
	120: "no_application_protocol",
}

// HandshakeType is a handshake message type.
type HandshakeType uint8

const (
	TypeClientHello HandshakeType = 1
	TypeServerHello HandshakeType = 2
)

func (t HandshakeType) String() string {
	if n, ok := handshakeNames[t]; ok {
		return n
	}
	return "handshake_" + strconv.Itoa(int(t))
}

var handshakeNames = map[HandshakeType]string{
	0: "hello_request", 1: "client_hello", 2: "server_hello", 3: "hello_verify_request",
	4: "new_session_ticket", 5: "end_of_early_data", 8: "encrypted_extensions", 11: "certificate",
	12: "server_key_exchange", 13: "certificate_request", 14: "server_hello_done",
	15: "certificate_verify", 16: "client_key_exchange", 20: "finished", 21: "certificate_url",
	22: "certificate_status", 24: "key_update", 254: "message_hash",
}

// ContentType is a record's type.
type ContentType uint8

const (
	ChangeCipherSpec ContentType = 20
	AlertRecord      ContentType = 21
	HandshakeRecord  ContentType = 22
	ApplicationData  ContentType = 23
	Heartbeat        ContentType = 24
)
