package app

// Records let a decoder hand out more than transactions: every message it
// decodes (a request, a reply, a TLS hello or alert, a DNS message), typed by
// its package and located in the capture, so that per-frame views (tshark's
// -T fields and -Y) and detectors that need protocol detail (keep-alive, data
// connections, response framing) can use it without a type-asserted state
// blob per connection.

// FieldKind says how to interpret a Field's value.
type FieldKind uint8

const (
	FieldString   FieldKind = iota // Str holds bytes from the wire: not escaped, maybe not UTF-8
	FieldUint                      // Num holds the value
	FieldBool                      // Num is 0 or 1
	FieldDuration                  // Num holds nanoseconds (tshark's relative times, e.g. http.time)
	FieldAddr                      // Str holds an IP address in its text form
	FieldHex                       // Num holds the value, shown in hexadecimal as tshark does (0x0303), Width digits
	FieldInt                       // Num holds a signed value's bits (int64(Num))
)

// Field is one display-filter field of a decoded message, named as tshark
// names it where tshark has the field (http.response.code), otherwise in the
// same style under the protocol's prefix.
type Field struct {
	Name  string
	Kind  FieldKind
	Str   string
	Num   uint64
	Width uint8 // FieldHex: digits shown, zero-padded
}

// String, Uint, Bool, Duration, Addr, Int and Hex build fields of each kind.
func String(name, v string) Field      { return Field{Name: name, Kind: FieldString, Str: v} }
func Uint(name string, v uint64) Field { return Field{Name: name, Kind: FieldUint, Num: v} }
func Bool(name string, v bool) Field {
	f := Field{Name: name, Kind: FieldBool}
	if v {
		f.Num = 1
	}
	return f
}
func Duration(name string, nanos int64) Field {
	return Field{Name: name, Kind: FieldDuration, Num: uint64(nanos)}
}
func Addr(name, text string) Field { return Field{Name: name, Kind: FieldAddr, Str: text} }

// Int builds a signed field (gluster.op_ret -1).
func Int(name string, v int64) Field { return Field{Name: name, Kind: FieldInt, Num: uint64(v)} }

// Hex builds a field tshark shows in hexadecimal with width digits.
func Hex(name string, v uint64, width uint8) Field {
	return Field{Name: name, Kind: FieldHex, Num: v, Width: width}
}

// Record is one decoded message at its place in the capture. Each decoder
// package defines its own record types (for example *http1.Request); callers
// that need the detail switch on the concrete type, everyone else uses At and
// Fields.
type Record interface {
	// At is the frame that carried the message's first byte.
	At() Pos
	// Done is the frame that carried its last byte: where tshark, which
	// reassembles first, shows the message.
	Done() Pos
	// Fields yields the message's display-filter fields in a stable order.
	Fields(yield func(Field) bool)
}

// RecordSink receives records as decoders produce them. A record is owned by
// the receiver: decoders never modify it after the call.
type RecordSink func(Record)

// Output is where a decoder sends what it decodes. It is a struct so that a
// new kind of output never changes every constructor's signature.
type Output struct {
	Sink   Sink       // transactions; nil discards them
	Record RecordSink // typed records; nil discards them
}

// Emit sends t to o.Sink if there is one.
func (o Output) Emit(t Transaction) {
	if o.Sink != nil {
		o.Sink(t)
	}
}

// EmitRecord sends r to o.Record if there is one.
func (o Output) EmitRecord(r Record) {
	if o.Record != nil {
		o.Record(r)
	}
}

// Stream returns p's decoder for one TCP connection, preferring OpenStream,
// or nil if p does not run over TCP.
func (p Protocol) Stream(out Output) Stream {
	switch {
	case p.OpenStream != nil:
		return p.OpenStream(out)
	case p.NewStream != nil:
		return p.NewStream(out.Sink)
	}
	return nil
}

// Datagrams returns p's decoder for one UDP exchange, preferring
// OpenDatagrams, or nil if p does not run over UDP.
func (p Protocol) Datagrams(out Output) Datagrams {
	switch {
	case p.OpenDatagrams != nil:
		return p.OpenDatagrams(out)
	case p.NewDatagrams != nil:
		return p.NewDatagrams(out.Sink)
	}
	return nil
}
