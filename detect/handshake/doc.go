// Package handshake recognises connections that never got established:
// SYNs nobody answered (handshake.unanswered), SYNs answered by an ICMP
// error (handshake.icmp-unreachable) and SYNs answered by a reset from the
// target itself (handshake.refused).
package handshake
