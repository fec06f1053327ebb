package lab

import (
	"fmt"
	"net/netip"
	"strings"
)

// Node names and the addresses every scenario uses. The client and the
// server keep their addresses in every topology so that truths and
// captures read the same across scenarios.
const (
	client = "client"
	router = "router"
	r1     = "r1"
	r2     = "r2"
	server = "server"
	swtch  = "switch"

	clientAddr = "10.99.0.2"
	serverAddr = "10.99.1.2"
	// gateways: the router interface on the client LAN and on the server LAN
	clientGW = "10.99.0.1"
	serverGW = "10.99.1.1"
	// the link between two routers
	r1Mid = "10.99.2.1"
	r2Mid = "10.99.2.2"
	// the second router on the server LAN (duplicate forwarding)
	r2LAN = "10.99.1.3"
)

// iface is one end of a link: a device in a node with an optional /24
// address.
type iface struct {
	node, dev, addr string
}

// link is a veth pair.
type link struct {
	a, b iface
	mtu  int // 0: the default 1500
}

type route struct {
	node, dst, via string
}

// vantage is a capture point.
type vantage struct {
	name, node, dev string
}

// topology is a set of namespaces and how they are wired.
type topology struct {
	nodes    []string
	routers  []string // forward IPv4
	links    []link
	bridge   []iface // ports enslaved to br0 in the switch node
	routes   []route
	vantages []vantage // in path order, client side first
}

// oneRouter is client — router — server.
func oneRouter() *topology {
	return &topology{
		nodes:   []string{client, router, server},
		routers: []string{router},
		links: []link{
			{a: iface{client, "eth0", clientAddr}, b: iface{router, "in0", clientGW}},
			{a: iface{router, "out0", serverGW}, b: iface{server, "eth0", serverAddr}},
		},
		routes: []route{{client, "default", clientGW}, {server, "default", serverGW}},
		vantages: []vantage{
			{"client", client, "eth0"}, {"router-in", router, "in0"},
			{"router-out", router, "out0"}, {"server", server, "eth0"},
		},
	}
}

// twoRouters is client — r1 — r2 — server with the given MTU on the r1—r2
// link.
func twoRouters(midMTU int) *topology {
	return &topology{
		nodes:   []string{client, r1, r2, server},
		routers: []string{r1, r2},
		links: []link{
			{a: iface{client, "eth0", clientAddr}, b: iface{r1, "in0", clientGW}},
			{a: iface{r1, "out0", r1Mid}, b: iface{r2, "in0", r2Mid}, mtu: midMTU},
			{a: iface{r2, "out0", serverGW}, b: iface{server, "eth0", serverAddr}},
		},
		routes: []route{
			{client, "default", clientGW}, {server, "default", serverGW},
			{r1, "10.99.1.0/24", r2Mid}, {r2, "10.99.0.0/24", r1Mid},
		},
		vantages: []vantage{
			{"client", client, "eth0"}, {"r1-in", r1, "in0"}, {"r1-out", r1, "out0"},
			{"r2-in", r2, "in0"}, {"r2-out", r2, "out0"}, {"server", server, "eth0"},
		},
	}
}

// sharedLAN is client — r1 — switch — server, with a second router r2 on
// the server's LAN: two devices that can forward the same traffic, as the
// two firewalls of the pfsync story did.
func sharedLAN() *topology {
	return &topology{
		nodes:   []string{client, r1, r2, swtch, server},
		routers: []string{r1, r2},
		links: []link{
			{a: iface{client, "eth0", clientAddr}, b: iface{r1, "in0", clientGW}},
			{a: iface{r1, "out0", serverGW}, b: iface{swtch, "p1", ""}},
			{a: iface{r2, "eth0", r2LAN}, b: iface{swtch, "p2", ""}},
			{a: iface{server, "eth0", serverAddr}, b: iface{swtch, "p3", ""}},
		},
		bridge: []iface{{swtch, "p1", ""}, {swtch, "p2", ""}, {swtch, "p3", ""}},
		routes: []route{
			{client, "default", clientGW}, {server, "default", serverGW}, {r2, "default", serverGW},
		},
		vantages: []vantage{
			{"client", client, "eth0"}, {"r1-in", r1, "in0"}, {"r1-out", r1, "out0"},
			{"r2", r2, "eth0"}, {"server", server, "eth0"},
		},
	}
}

// mac gives each interface a fixed, locally administered address so that
// captures from different runs compare: 02:00 and the IPv4 address, or
// 02:01:… and the port number for bridge ports.
func (i iface) mac() string {
	if a, err := netip.ParseAddr(i.addr); err == nil {
		b := a.As4()
		return fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
	}
	var n int
	fmt.Sscanf(strings.TrimLeft(i.dev, "abcdefghijklmnopqrstuvwxyz"), "%d", &n)
	return fmt.Sprintf("02:01:00:00:00:%02x", n)
}

// devs lists the devices of a node.
func (t *topology) devs(node string) []string {
	var ds []string
	for _, l := range t.links {
		for _, i := range []iface{l.a, l.b} {
			if i.node == node {
				ds = append(ds, i.dev)
			}
		}
	}
	return ds
}

// addrOf returns the address of a node's device.
func (t *topology) addrOf(node, dev string) string {
	for _, l := range t.links {
		for _, i := range []iface{l.a, l.b} {
			if i.node == node && i.dev == dev {
				return i.addr
			}
		}
	}
	return ""
}

// String lists the links for truth.json and the log.
func (t *topology) String() string {
	end := func(i iface) string {
		s := i.node + " " + i.dev
		if i.addr != "" {
			s += " " + i.addr
		}
		return s
	}
	var parts []string
	for _, l := range t.links {
		p := end(l.a) + " <-> " + end(l.b)
		if l.mtu != 0 {
			p += fmt.Sprintf(" (MTU %d)", l.mtu)
		}
		parts = append(parts, p)
	}
	if len(t.bridge) > 0 {
		var ports []string
		for _, b := range t.bridge {
			ports = append(ports, b.dev)
		}
		parts = append(parts, "switch bridges "+strings.Join(ports, ", "))
	}
	return strings.Join(parts, "; ")
}
