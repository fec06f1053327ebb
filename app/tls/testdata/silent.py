#!/usr/bin/env python3
"""Accepts connections on the given port, reads, never answers: a server
whose ServerHello never comes."""
import socket, sys, threading

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()


def drain(c):
    while c.recv(4096):
        pass


while True:
    c, _ = s.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
