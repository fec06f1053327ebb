package capture

import (
	"strconv"
	"time"
)

// Time is a capture timestamp in nanoseconds since the Unix epoch. It is the
// only clock wiresleuth uses: analysis never looks at the wall clock.
type Time int64

// Sub returns t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// Add returns t+d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// Before reports whether t is earlier than u.
func (t Time) Before(u Time) bool { return t < u }

// UTC returns t as a time.Time in UTC, for display.
func (t Time) UTC() time.Time { return time.Unix(0, int64(t)).UTC() }

// Epoch formats t as seconds since the epoch with nine decimals, as tshark's
// frame.time_epoch does.
func (t Time) Epoch() string {
	var buf [32]byte
	return string(t.AppendEpoch(buf[:0]))
}

// AppendEpoch appends the Epoch form of t to b.
func (t Time) AppendEpoch(b []byte) []byte {
	n := int64(t)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/1e9, 10)
	b = append(b, '.')
	frac := n % 1e9
	for d := int64(1e8); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}

// String formats t as an RFC 3339 UTC time with nanoseconds.
func (t Time) String() string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }
