package synth

import "time"

// Frame is one captured frame as the writers take it.
type Frame struct {
	Time time.Time
	Data []byte // the frame as on the wire; writers cut it to their snap length
	// OrigLen is the length on the wire when Data is already shorter;
	// 0 means len(Data).
	OrigLen   int
	Interface int    // pcapng interface id (from AddInterface)
	Comment   string // pcapng EPB comment
	Flags     uint32 // pcapng epb_flags: Inbound or Outbound, and more
}

// epb_flags direction values.
const (
	Inbound  = 1
	Outbound = 2
)

func (f *Frame) origLen() int {
	if f.OrigLen > len(f.Data) {
		return f.OrigLen
	}
	return len(f.Data)
}
