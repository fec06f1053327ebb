#!/usr/bin/env python3
"""Client and server of the transfers in this package's lab captures.

A tiny protocol whose bytes the tests can predict: the client sends
"GET n label\\n" and the server answers n bytes of pattern(label), or
"PUT n label\\n" followed by n bytes of pattern(label) and the server
answers "OK n\\n". pattern(label) is the lines "label:00000000\\n",
"label:00000001\\n", ... cut to n bytes (tcp/reasm's lab_test.go makes the
same).

  traffic.py server ADDR PORT [--rcvbuf N --stall S]
  traffic.py client ADDR PORT SCRIPT...   SCRIPT: get:N:LABEL put:N:LABEL
                                          close new idle:S keepalive
"""
import socket
import sys
import threading
import time


def pattern(label, n):
    out = bytearray()
    k = 0
    while len(out) < n:
        out += b"%s:%08d\n" % (label.encode(), k)
        k += 1
    return bytes(out[:n])


def readline(f):
    line = f.readline()
    if not line:
        raise EOFError
    return line.decode().split()


def serve(conn, stall):
    if stall:
        time.sleep(stall)  # let the client fill our small window
    f = conn.makefile("rb")
    try:
        while True:
            op, n, label = readline(f)
            n = int(n)
            if op == "GET":
                conn.sendall(pattern(label, n))
            else:
                got = f.read(n)
                if got != pattern(label, n):
                    sys.stderr.write("traffic.py: PUT %s: bad data\n" % label)
                conn.sendall(b"OK %d\n" % n)
    except EOFError:
        pass
    conn.close()


def server(addr, port, opts):
    rcvbuf = int(opts.get("--rcvbuf", 0))
    stall = float(opts.get("--stall", 0))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((addr, port))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, stall), daemon=True).start()


def client(addr, port, script):
    s, f = None, None

    def connect():
        c = socket.create_connection((addr, port), timeout=20)
        return c, c.makefile("rb")

    s, f = connect()
    for step in script:
        op, _, rest = step.partition(":")
        if op == "get":
            n, label = rest.split(":")
            s.sendall(b"GET %s %s\n" % (n.encode(), label.encode()))
            got = f.read(int(n))
            assert got == pattern(label, int(n)), "GET " + label
        elif op == "put":
            n, label = rest.split(":")
            s.sendall(b"PUT %s %s\n" % (n.encode(), label.encode()) + pattern(label, int(n)))
            assert readline(f) == ["OK", n], "PUT " + label
        elif op == "keepalive":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        elif op == "idle":
            time.sleep(float(rest))
        elif op == "close":
            s.close()
            s = None
        elif op == "new":
            s, f = connect()
    if s:
        s.close()


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "server":
        args = sys.argv[4:]
        server(addr, port, dict(zip(args[::2], args[1::2])))
    else:
        client(addr, port, sys.argv[4:])


if __name__ == "__main__":
    main()
