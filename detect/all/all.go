// Package all lists every detector wiresleuth runs, in report order for
// equal scores. The list is explicit: adding a detector means adding it
// here.
package all

import (
	"github.com/wiresleuth/wiresleuth/detect"
	"github.com/wiresleuth/wiresleuth/detect/handshake"
	"github.com/wiresleuth/wiresleuth/detect/vantage"
)

// Detectors returns the detectors.
func Detectors() []*detect.Detector {
	return []*detect.Detector{
		handshake.Unanswered,
		handshake.ICMPUnreachable,
		handshake.Refused,
		vantage.Lost,
		vantage.Injected,
		vantage.Modified,
		vantage.Latency,
	}
}
