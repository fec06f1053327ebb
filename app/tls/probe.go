package tls

import "github.com/wiresleuth/wiresleuth/app"

// Protocol describes the decoder to the dispatcher.
var Protocol = app.Protocol{
	Name:       "tls",
	Probe:      Probe,
	NewStream:  func(sink app.Sink) app.Stream { return New(app.Output{Sink: sink}) },
	OpenStream: func(out app.Output) app.Stream { return New(out) },
}

// Probe recognises a first record: a handshake record carrying a
// ClientHello (client) or ServerHello (server), or an alert record, of
// version 3.x and a plausible length, is Likely; an application data or
// ChangeCipherSpec record (a capture that began mid-connection) is Maybe.
// The port is not needed: the pattern is specific.
func Probe(side app.Side, first []byte, serverPort uint16) app.Confidence {
	if len(first) == 0 {
		return app.No
	}
	// Prefix checks as far as bytes go: type, major version, minor version.
	want := byte(HandshakeRecord)
	switch {
	case side == app.Server && first[0] == byte(AlertRecord):
		want = byte(AlertRecord)
	case first[0] == byte(ApplicationData) || first[0] == byte(ChangeCipherSpec):
		// A capture that starts mid-connection: a plausible record
		// header is worth a Maybe.
		want = first[0]
	}
	if first[0] != want || len(first) > 1 && first[1] != 3 || len(first) > 2 && first[2] > 4 {
		return app.No
	}
	if len(first) < 6 {
		return app.Maybe
	}
	length := int(first[3])<<8 | int(first[4])
	if length == 0 || length > MaxRecord {
		return app.No
	}
	if want == byte(ApplicationData) || want == byte(ChangeCipherSpec) {
		return app.Maybe
	}
	if want == byte(AlertRecord) {
		if length == 2 && (len(first) < 7 || first[5] == 1 || first[5] == 2) {
			return app.Likely
		}
		return app.No
	}
	msg := HandshakeType(first[5])
	if side == app.Client && msg == TypeClientHello || side == app.Server && msg == TypeServerHello {
		return app.Likely
	}
	return app.No
}
