#!/usr/bin/env python3
"""Sends pipelined requests in one write (what printf | nc does) and reads
until the server closes."""
import socket, sys

port = int(sys.argv[1])
reqs = (
    b"GET /len/1 HTTP/1.1\r\nHost: pipe.test\r\n\r\n"
    b"HEAD /len/2 HTTP/1.1\r\nHost: pipe.test\r\n\r\n"
    b"GET /chunked HTTP/1.1\r\nHost: pipe.test\r\n\r\n"
    b"GET /nocontent HTTP/1.1\r\nHost: pipe.test\r\n\r\n"
    b"GET /missing HTTP/1.1\r\nHost: pipe.test\r\nConnection: close\r\n\r\n"
)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(reqs)
while s.recv(65536):
    pass
s.close()
