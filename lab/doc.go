// Package lab recreates network faults on the real Linux TCP stack, captures
// them at every point of the path and records the ground truth, so that
// wiresleuth's diagnosis can be checked against faults whose cause is known.
//
// A scenario builds client — router(s) — server network namespaces joined
// by veth pairs, injects one fault with iptables or a sysctl, runs traffic
// agents (lab/internal/agent) inside the namespaces, and captures with
// tcpdump on every interface along the path. Run writes the captures in path
// order (01-client.pcap, 02-router-in.pcap, …), truth.json (the Result:
// fault, topology, Truth) and lab.log (every command, every agent event).
// Verify reads the captures back with tshark and confirms that the fault
// really happened. Interfaces named -in face the client and -out face the
// server: traffic from the client enters a router at -in and leaves at -out.
//
// Truth says what a perfect diagnosis of all the captures reports. To hold
// a diagnosis against it, load a folder with ReadResult (examples/ holds
// one per scenario, usable without root), run the diagnosis on its
// captures, and pass the findings to Truth.Judge.
//
// Everything is bounded: each scenario has a hard time limit, captures a
// packet cap, agents a lifetime. Namespaces have unique names per process
// and run, and are removed on success, failure, panic and cancellation;
// Sweep removes those of processes that died. Only addresses inside the
// lab's own namespaces (10.99.0.0/16) are used. Running needs root.
//
// Tests: as root, TestScenarios runs every scenario and verifies it;
// -lab.keep keeps the output, -lab.examples DIR rewrites the examples.
package lab
