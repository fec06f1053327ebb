#!/usr/bin/env python3
"""A scripted FTP server for capture.sh. Port 21: enough of RFC 959/2428 for
curl (multi-line banner and FEAT, PASV/EPSV/PORT/EPRT data connections,
LIST, RETR, SIZE, an error reply). Port 2811: a GridFTP-like server that
answers AUTH GSSAPI with ADAT exchanges and SPAS with a multi-line reply;
a client that says "AUTH GSSAPI idle" gets no answer, then a 421 idle
timeout, as in the STAR-BNL story."""
import socket, sys, threading, time

FILES = {"/hello.txt": b"hello over ftp\n" * 20}


def serve(port, handler):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen()
    while True:
        c, a = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


class Control:
    def __init__(self, c):
        self.c, self.f = c, c.makefile("rb")
        self.pasv = None
        self.active = None

    def send(self, text):
        self.c.sendall(text.encode() + b"\r\n")

    def line(self):
        l = self.f.readline()
        if not l:
            return None
        return l.rstrip(b"\r\n").decode("latin-1")

    def listen(self):
        self.pasv = socket.socket()
        self.pasv.bind(("127.0.0.1", 0))
        self.pasv.listen(1)
        return self.pasv.getsockname()[1]

    def data(self):
        if self.pasv:
            d, _ = self.pasv.accept()
            self.pasv.close()
            self.pasv = None
            return d
        d = socket.create_connection(self.active)
        self.active = None
        return d


def ftp21(c):
    k = Control(c)
    k.send("220-Welcome to the wiresleuth test FTP server.\r\n220-Second banner line.\r\n220 Ready.")
    while True:
        l = k.line()
        if l is None:
            return
        verb, _, arg = l.partition(" ")
        verb = verb.upper()
        if verb == "USER":
            k.send("331 Password required for %s." % arg)
        elif verb == "PASS":
            k.send("230 Logged in.")
        elif verb == "PWD":
            k.send('257 "/" is the current directory')
        elif verb == "CWD":
            k.send("250 OK.")
        elif verb == "SYST":
            k.send("215 UNIX Type: L8")
        elif verb == "FEAT":
            k.send("211-Features:\r\n EPSV\r\n EPRT\r\n SIZE\r\n PASV\r\n211 End")
        elif verb == "TYPE":
            k.send("200 Type set to %s." % arg)
        elif verb == "PASV":
            p = k.listen()
            k.send("227 Entering Passive Mode (127,0,0,1,%d,%d)." % (p >> 8, p & 255))
        elif verb == "EPSV":
            p = k.listen()
            k.send("229 Entering Extended Passive Mode (|||%d|)" % p)
        elif verb == "PORT":
            n = [int(x) for x in arg.split(",")]
            k.active = ("%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5])
            k.send("200 PORT command successful.")
        elif verb == "EPRT":
            parts = arg.split(arg[0])
            k.active = (parts[2], int(parts[3]))
            k.send("200 EPRT command successful.")
        elif verb == "SIZE":
            if arg in FILES or "/" + arg in FILES:
                k.send("213 %d" % len(FILES.get(arg, FILES.get("/" + arg))))
            else:
                k.send("550 %s: No such file." % arg)
        elif verb == "MDTM":
            k.send("550 Not available.")
        elif verb in ("RETR", "LIST", "NLST"):
            name = arg if arg.startswith("/") else "/" + arg
            if verb == "RETR" and name not in FILES:
                k.send("550 %s: No such file." % arg)
                continue
            k.send("150 Opening data connection.")
            d = k.data()
            if verb == "RETR":
                d.sendall(FILES[name])
            else:
                d.sendall(b"-rw-r--r-- 1 ftp ftp 300 Jan 01 00:00 hello.txt\r\n")
            d.close()
            k.send("226 Transfer complete.")
        elif verb == "QUIT":
            k.send("221 Goodbye.")
            c.close()
            return
        else:
            k.send("502 %s not implemented." % verb)


def gridftp(c):
    k = Control(c)
    k.send("220 localhost GridFTP Server 6.10 (gcc64, 1590000000-0) [Globus Toolkit 6.0] ready.")
    adat = 0
    while True:
        c.settimeout(2)
        try:
            l = k.line()
        except socket.timeout:
            k.send("421 Idle Timeout: closing control connection.")
            c.close()
            return
        if l is None:
            return
        verb, _, arg = l.partition(" ")
        if l == "AUTH GSSAPI idle":
            continue  # as if the command never arrived
        if verb == "AUTH":
            k.send("334 ADAT must follow")
        elif verb == "ADAT":
            adat += 1
            k.send("335 ADAT=YWJjZGVm" if adat == 1 else "235 ADAT=Z2hp")
        elif verb == "USER":
            k.send("232 User :globus-mapping: logged in.")
        elif verb == "SPAS":
            k.send("229-Entering Striped Passive Mode.\r\n 127,0,0,1,195,80\r\n 127,0,0,1,195,81\r\n229 End")
        elif verb == "SPOR":
            k.send("200 Port command successful.")
        elif verb == "QUIT":
            k.send("221 Goodbye.")
            c.close()
            return
        else:
            k.send("500 Command not understood.")


if __name__ == "__main__":
    threading.Thread(target=serve, args=(21, ftp21), daemon=True).start()
    threading.Thread(target=serve, args=(2811, gridftp), daemon=True).start()
    threading.Event().wait()
