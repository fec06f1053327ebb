#!/usr/bin/env python3
"""GridFTP-like client for capture.sh: "ok" does the ADAT exchange, SPAS,
SPOR and QUIT; "idle" sends an AUTH GSSAPI the server ignores and waits for
the 421."""
import socket, sys

s = socket.create_connection(("127.0.0.1", 2811))
f = s.makefile("rb")


def reply():
    while True:
        l = f.readline()
        if not l or (len(l) >= 4 and l[:3].isdigit() and l[3:4] == b" "):
            return l


def cmd(c):
    s.sendall(c.encode() + b"\r\n")
    return reply()


reply()  # banner
if sys.argv[1] == "ok":
    cmd("AUTH GSSAPI")
    cmd("ADAT YWJj")
    cmd("ADAT ZGVm")
    cmd("USER :globus-mapping:")
    cmd("SPAS")
    cmd("SPOR 127,0,0,1,200,1 127,0,0,1,200,2")
    cmd("QUIT")
else:
    print(cmd("AUTH GSSAPI idle"), file=sys.stderr)
s.close()
