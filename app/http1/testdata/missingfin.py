#!/usr/bin/env python3
"""A server whose response has no length (it ends when the server closes):
it sends the head and body, waits, then closes. capture-missing-fin.sh drops
its FIN, as the OpenStack bridge did."""
import socket, time

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8083))
s.listen()
while True:
    c, _ = s.accept()
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(4096)
        if not d:
            break
        buf += d
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\ncomplete answer, but only the FIN can say so\n")
    time.sleep(0.2)
    c.close()
