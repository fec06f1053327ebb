package lab

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// build creates the namespaces, links, addresses and routes.
func (l *lab) build(ctx context.Context) error {
	t := l.topo
	for _, n := range t.nodes {
		if err := l.sh(ctx, "", "ip", "netns", "add", l.ns(n)); err != nil {
			return err
		}
		// No IPv6: its neighbour discovery would only add noise.
		if err := l.shf(ctx, n, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1"); err != nil {
			return err
		}
		if err := l.shf(ctx, n, "ip link set lo up"); err != nil {
			return err
		}
	}
	for _, k := range t.links {
		mtu := k.mtu
		if mtu == 0 {
			mtu = 1500
		}
		m := fmt.Sprint(mtu)
		if err := l.sh(ctx, "", "ip", "link", "add", k.a.dev, "netns", l.ns(k.a.node), "address", k.a.mac(), "mtu", m,
			"type", "veth", "peer", "name", k.b.dev, "netns", l.ns(k.b.node), "address", k.b.mac(), "mtu", m); err != nil {
			return err
		}
	}
	if len(t.bridge) > 0 {
		node := t.bridge[0].node
		if err := l.shf(ctx, node, "ip link add br0 type bridge"); err != nil {
			return err
		}
		for _, p := range t.bridge {
			if err := l.shf(ctx, node, "ip link set "+p.dev+" master br0"); err != nil {
				return err
			}
		}
		if err := l.shf(ctx, node, "ip link set br0 up"); err != nil {
			return err
		}
	}
	for _, n := range t.nodes {
		devs := t.devs(n)
		if err := l.sh(ctx, n, l.agent("offload", devs...)...); err != nil {
			return err
		}
		for _, d := range devs {
			if a := t.addrOf(n, d); a != "" {
				if err := l.shf(ctx, n, "ip addr add "+a+"/24 dev "+d); err != nil {
					return err
				}
			}
			if err := l.shf(ctx, n, "ip link set "+d+" up"); err != nil {
				return err
			}
		}
	}
	for _, r := range t.routers {
		if err := l.shf(ctx, r, "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0"); err != nil {
			return err
		}
	}
	for _, r := range t.routes {
		if err := l.shf(ctx, r.node, "ip route add "+r.dst+" via "+r.via); err != nil {
			return err
		}
	}
	return nil
}

// freeze stops every node from sending (stalled connections retransmit
// until the end), then waits until packets in flight have crossed the path
// and every tcpdump has written what it received. Without it the captures
// would end at slightly different moments, and a packet caught by one
// capture point but not yet by the next would look lost.
//
// ARP is not IP: switching it off on every interface keeps neighbour
// probes from crossing the moment the captures stop.
func (l *lab) freeze(ctx context.Context) error {
	for _, n := range l.topo.nodes {
		if err := l.shf(ctx, n, "iptables -I OUTPUT 1 -j DROP"); err != nil {
			return fmt.Errorf("freezing: %w", err)
		}
		for _, d := range l.topo.devs(n) {
			if err := l.shf(ctx, n, "ip link set "+d+" arp off"); err != nil {
				return fmt.Errorf("freezing: %w", err)
			}
		}
	}
	l.logf("traffic frozen (locally generated packets dropped, ARP off everywhere)")
	return l.waitCapturesIdle(ctx)
}

// stopProcs ends the agents and servers still running.
func (l *lab) stopProcs() {
	l.mu.Lock()
	ps := l.procs
	l.procs = nil
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop(time.Second)
		}()
	}
	wg.Wait()
}

// teardown stops everything and deletes the namespaces. It runs on every
// exit path of Run, including a panic; it uses its own context because the
// run's may have expired.
func (l *lab) teardown() {
	l.stopProcs()
	for _, t := range l.dumps {
		if t != nil {
			t.cmd.Process.Kill()
			<-t.done
		}
	}
	l.dumps = nil
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range l.topo.nodes {
		if err := deleteNetns(ctx, l.nsOf[n]); err != nil {
			l.logf("teardown: %v", err)
		}
	}
}
