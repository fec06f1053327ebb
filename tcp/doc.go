// Package tcp follows TCP connections the way Wireshark does and annotates
// every segment with tshark's tcp.analysis.* verdicts: retransmissions (and
// fast and spurious ones), out-of-order and lost segments, duplicate ACKs,
// window conditions, keep-alives, port reuse, RTTs, bytes in flight and
// conversation completeness. The rules are Wireshark 4.0's, specified in
// ../shared/peers/wireshark/TCP-ANALYSIS-RULES.md and checked against
// tshark on every capture in the test corpus.
//
// An Analyzer keeps per-conversation state keyed by the 4-tuple (tcp.stream
// semantics: a new SYN with a new ISN starts a new stream). State is bounded
// by live conversations, not by capture size: a conversation closed for
// Config.Linger, or idle for Config.IdleTimeout, is released.
package tcp
