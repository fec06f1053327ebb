#!/usr/bin/env python3
"""A tiny DNS responder and client for capture.sh, standard library only.

server ADDR: answers on UDP and TCP port 53 of ADDR:
  a.test A 10.0.0.1; alias.test CNAME a.test (+ A); v6.test AAAA 2001:db8::1;
  nx.test NXDOMAIN; fail.test SERVFAIL; refused.test REFUSED;
  big.test: 40 A records, truncated (TC) over UDP, whole over TCP;
  slow.test: answered after 0.3 s; drop.test: never answered.
silent ADDR: reads UDP and TCP queries and never answers.
client ADDR: sends the scripted queries (UDP, a TCP retry for big.test, two
  pipelined TCP queries, retransmissions for the unanswered ones)."""
import random, socket, struct, sys, threading, time

A = {"a.test": "10.0.0.1"}


def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question(msg):
    off, labels = 12, []
    while msg[off]:
        labels.append(msg[off + 1:off + 1 + msg[off]].decode())
        off += 1 + msg[off]
    qtype, qclass = struct.unpack("!HH", msg[off + 1:off + 5])
    return ".".join(labels), qtype, qclass, msg[12:off + 5]


def answer(msg, tcp):
    qid, flags = struct.unpack("!HH", msg[:4])
    qname, qtype, _, q = question(msg)
    rcode, rrs, tc = 0, [], 0
    ptr = b"\xc0\x0c"  # compression pointer to the question name
    if qname == "drop.test":
        return None
    if qname == "slow.test":
        time.sleep(0.3)
        rrs = [ptr + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("10.0.0.9")]
    elif qname == "a.test" and qtype == 1:
        rrs = [ptr + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton(A["a.test"])]
    elif qname == "alias.test":
        target = name("a.test")
        rrs = [ptr + struct.pack("!HHIH", 5, 1, 300, len(target)) + target,
               b"\xc0" + bytes([12 + len(q) + 12]) + struct.pack("!HHIH", 1, 1, 300, 4) + socket.inet_aton("10.0.0.1")]
    elif qname == "v6.test":
        rrs = [ptr + struct.pack("!HHIH", 28, 1, 300, 16) + socket.inet_pton(socket.AF_INET6, "2001:db8::1")]
    elif qname == "nx.test":
        rcode = 3
    elif qname == "fail.test":
        rcode = 2
    elif qname == "refused.test":
        rcode = 5
    elif qname == "big.test":
        rrs = [ptr + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([10, 1, 0, i]) for i in range(40)]
        if not tcp:
            rrs, tc = rrs[:20], 1
    else:
        rcode = 3
    hdr = struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x0100) | 0x0080 | (tc << 9) | rcode, 1, len(rrs), 0, 0)
    return hdr + q + b"".join(rrs)


def serve_udp(addr, silent):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        msg, peer = s.recvfrom(4096)
        if silent:
            continue

        def reply(msg=msg, peer=peer):
            r = answer(msg, False)
            if r:
                s.sendto(r, peer)
        threading.Thread(target=reply, daemon=True).start()


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return None
        b += d
    return b


def serve_tcp(addr, silent):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 53))
    s.listen()

    def conn(c):
        while True:
            n = recv_exact(c, 2)
            if not n:
                break
            msg = recv_exact(c, struct.unpack("!H", n)[0])
            if msg is None or silent:
                continue
            r = answer(msg, True)
            if r:
                c.sendall(struct.pack("!H", len(r)) + r)
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()


def query(qname, qtype=1, qid=None):
    qid = qid if qid is not None else random.randrange(65536)
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name(qname) + struct.pack("!HH", qtype, 1)


def client(addr, silent_addr):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)

    def ask(qname, qtype=1, tries=1, server=addr):
        q = query(qname, qtype)
        for _ in range(tries):
            u.sendto(q, (server, 53))
            try:
                r, _ = u.recvfrom(4096)
                return r
            except socket.timeout:
                pass
    for q in ("a.test", "alias.test", "nx.test", "fail.test", "refused.test", "slow.test"):
        ask(q)
    ask("v6.test", 28)
    r = ask("big.test")
    if r and r[2] & 0x02:  # truncated: retry over TCP
        t = socket.create_connection((addr, 53))
        q = query("big.test")
        t.sendall(struct.pack("!H", len(q)) + q)
        n = struct.unpack("!H", recv_exact(t, 2))[0]
        recv_exact(t, n)
        t.close()
    # two pipelined queries on one TCP connection, the answers in order
    t = socket.create_connection((addr, 53))
    q1, q2 = query("a.test"), query("nx.test")
    t.sendall(struct.pack("!H", len(q1)) + q1 + struct.pack("!H", len(q2)) + q2)
    for _ in range(2):
        n = struct.unpack("!H", recv_exact(t, 2))[0]
        recv_exact(t, n)
    t.close()
    u.settimeout(0.4)
    ask("drop.test", tries=2)                      # the server ignores this name
    ask("anything.test", tries=3, server=silent_addr)  # a server that never answers


if __name__ == "__main__":
    role, addr = sys.argv[1], sys.argv[2]
    if role == "client":
        client(addr, sys.argv[3])
    else:
        silent = role == "silent"
        threading.Thread(target=serve_udp, args=(addr, silent), daemon=True).start()
        threading.Thread(target=serve_tcp, args=(addr, silent), daemon=True).start()
        threading.Event().wait()
