#!/usr/bin/env python3
"""An Ethernet bridge between two interfaces that reorders frames.

The test machines' kernel has no netem, so make-captures.sh puts this
userspace bridge between the client's and the server's namespaces to make
the real Linux TCP stacks see segments out of order:

  reorder.py IF_A IF_B PROBABILITY SEED SECONDS

Each frame is, with PROBABILITY, held back until the next frame in the same
direction has been forwarded (or 3 ms have passed): the two swap places.
Deterministic for a given SEED and arrival order.
"""
import random
import select
import socket
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4
HOLD = 0.003


def packet_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    return s


def main():
    a, b, prob, seed, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    rnd = random.Random(seed)
    socks = {a: packet_socket(a), b: packet_socket(b)}
    other = {a: b, b: a}
    held = {a: None, b: None}  # per input interface: (frame, since)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select(list(socks.values()), [], [], HOLD)
        now = time.monotonic()
        for name, s in socks.items():
            if s not in r:
                continue
            frame, addr = s.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING:
                continue  # our own writes
            out = socks[other[name]]
            if held[name] is None and rnd.random() < prob:
                held[name] = (frame, now)
                continue
            out.send(frame)
            if held[name] is not None:
                out.send(held[name][0])
                held[name] = None
        for name in socks:
            if held[name] is not None and now - held[name][1] >= HOLD:
                socks[other[name]].send(held[name][0])
                held[name] = None


if __name__ == "__main__":
    main()
