// Package vantage holds the detectors that compare captures taken at
// several points of one path (package correlate does the matching):
// path.lost (packets that vanish between two points), path.injected
// (packets that appear between two points), path.modified (packets
// changed on the way beyond routing: NAT, MSS clamping, stripped options,
// rewritten fields) and path.latency (queueing between two points).
//
// Its observer records every packet's signature during each capture's
// single pass; it runs only when several captures are diagnosed together.
package vantage
