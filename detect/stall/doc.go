// Package stall recognises connections whose data stops being
// acknowledged and never gets through: right after the handshake (one
// side's first bytes, stall.after-handshake) or in the middle
// (stall.data), retransmitted with back-off until a timeout, an
// application error or a reset.
//
// Package progress's observer follows every stream's sequence and
// acknowledgement numbers in the dataset's single pass. A stall
// shows in two ways: where the stalled bytes passed, as retransmissions of
// the oldest unacknowledged segment that never get acknowledged (the
// sender's view); where they never arrived, as bytes a later segment or
// ACK shows were sent while the receiver's acknowledgements stay below
// them (the receiver's view). With several captures the detectors say at
// which vantage points the bytes were seen and between which two they
// vanished, and they use the application decoding to name the request
// that was lost. For after-handshake stalls they compare, per client, how
// soon each connection started after the previous one: failures that all
// start sooner than every success (the GridFTP burst signature) are
// reported with the threshold.
//
// Not stalls: loss that recovers (the acknowledgements advance again),
// waits for a zero window, keep-alive and window probes, captures that
// show one direction only, and retransmission sequences shorter than
// MinStall or with fewer than MinRexmits retransmissions (a capture that
// ends during ordinary recovery).
package stall
