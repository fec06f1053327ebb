// Package all lists every detector wiresleuth runs, in report order for
// equal scores. The list is explicit: adding a detector means adding it
// here.
package all

import (
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/appfail"
	"github.com/wiresleuth/wiresleuth/detect/checksum"
	"github.com/wiresleuth/wiresleuth/detect/closing"
	"github.com/wiresleuth/wiresleuth/detect/duplicate"
	"github.com/wiresleuth/wiresleuth/detect/handshake"
	"github.com/wiresleuth/wiresleuth/detect/pmtu"
	"github.com/wiresleuth/wiresleuth/detect/resets"
	"github.com/wiresleuth/wiresleuth/detect/stall"
	"github.com/wiresleuth/wiresleuth/detect/vantage"
)

// Detectors returns the detectors.
func Detectors() []*detect.Detector {
	return []*detect.Detector{
		handshake.Unanswered,
		handshake.ICMPUnreachable,
		handshake.Refused,
		resets.StaleACK,
		resets.SpuriousSYNACK,
		stall.AfterHandshake,
		stall.Data,
		closing.FINMissing,
		closing.NoReuse,
		resets.Forged,
		resets.IdleTimeout,
		resets.Summary,
		pmtu.Blackhole,
		checksum.BadChecksum,
		duplicate.Forwarding,
		appfail.ErrorReply,
		appfail.NoReply,
		appfail.Slow,
		vantage.Lost,
		vantage.Injected,
		vantage.Modified,
		vantage.Latency,
	}
}
