package conn

import (
	"math/bits"

	"github.com/wiresleuth/wiresleuth/tcp"
)

// NumAnalysisFlags is the number of tcp.Flags bits counted.
const NumAnalysisFlags = 15

// Analysis counts per-segment analysis flags (tcp.Annotation.Flags), one
// counter per flag bit.
type Analysis [NumAnalysisFlags]int64

func (a *Analysis) add(f tcp.Flags) {
	for f != 0 {
		i := bits.TrailingZeros32(uint32(f))
		if i < len(a) {
			a[i]++
		}
		f &= f - 1
	}
}

// Count returns the number of segments that carried flag f (a single
// flag).
func (a *Analysis) Count(f tcp.Flags) int64 {
	i := bits.TrailingZeros32(uint32(f))
	if i >= len(a) {
		return 0
	}
	return a[i]
}

// AnalysisFlagNames names the counters as tshark's tcp.analysis fields,
// in bit order.
var AnalysisFlagNames = [NumAnalysisFlags]string{
	"retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
	"lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
	"zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack", "reused_ports",
}
