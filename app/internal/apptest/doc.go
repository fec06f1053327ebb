// Package apptest feeds application decoders from capture files in tests.
//
// The project's TCP reassembler lives in tcp/ and is not available to app
// (dependencies point down the pipeline), so tests use this small, naive
// stand-in: it reads classic pcap files, follows each TCP connection's two
// sequence spaces and replays them as app.Stream calls (in-order bytes, gaps
// where acknowledged data was never captured, FIN/RST, End), and UDP 4-tuples
// as app.Datagrams calls. It also runs tshark, whose fields the tests compare
// against. Test-only: it trusts its input and is not bounded.
package apptest
