// Package checksum recognises TCP checksums that are really wrong
// (tcp.bad-checksum) and tells them from the artefacts of checksum offload
// on the capturing host, which are not faults.
//
// The observer Verdicts verifies every TCP segment and keeps, per direction
// (source host to destination host), how many were wrong and what the wrong
// ones have in common: Ethernet padding, frame size, flags (bare ACK, FIN,
// RST, SYN, data), and whether the checksum would verify if the padding
// were part of the segment (the mistake of a device that takes the frame
// length for the packet's). It also watches what the receiver did with each
// wrong segment that carried sequence space: acknowledged without a resend
// (the receiver got a good copy, so the checksum was completed after the
// capture point: offload), or sent again by the sender (the receiver
// dropped it: corruption).
//
// Offload artefacts — a sender's own capture showing only the pseudo-header
// sum (partial), a zero field, packets the capture marks as outgoing, one
// constant value, or wrong checksums the receiver accepted — are never
// reported as a fault; the detector says at most, as information, that the
// capture host offloads checksums and that its outgoing checksums cannot be
// judged.
package checksum
