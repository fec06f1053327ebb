// Package lab recreates network faults on the real Linux TCP stack, captures
// them at every point of the path and records the ground truth, so that
// wiresleuth's diagnosis can be checked against faults whose cause is known.
//
// A scenario builds client — router(s) — server network namespaces joined
// by veth pairs, injects one fault with iptables or a sysctl, runs traffic
// agents (lab/internal/agent) inside the namespaces, and captures with
// tcpdump on every interface along the path. Run writes the captures in path
// order (01-client.pcap, 02-router-in.pcap, …) and truth.json; Verify reads
// the captures back with tshark and confirms that the fault really happened.
//
// Interfaces named -in face the client and -out face the server: traffic
// from the client enters a router at -in and leaves at -out.
//
// Everything is bounded: namespaces have unique names per process and run,
// are removed on success, failure, panic and cancellation, and Sweep removes
// those left by processes that died. Only addresses inside the lab's own
// namespaces (10.99.0.0/16) are ever used. Running needs root.
package lab
