// Package progress is the packet observer that follows every TCP stream's
// sequence and acknowledgement numbers during a dataset's single pass:
// per direction, how far the data got and how far the other side
// acknowledged it, the retransmissions of the oldest unacknowledged
// segment, bytes this vantage point never saw, and each side's FINs and
// whether they were acknowledged. Detector families read its Result
// (packages stall and closing); state is bounded (MaxLive streams at once,
// MaxFlows kept).
package progress
