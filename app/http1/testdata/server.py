#!/usr/bin/env python3
"""HTTP servers for capture.sh: keep-alive (HTTP/1.1) on 8080, HTTP/1.0 on
8081, and a raw socket server on 8082 whose response has no length and ends
when the server closes."""
import http.server, socket, socketserver, sys, threading


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def body(self, code, data, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        p = self.path
        if p.startswith("/len"):
            self.body(200, b"hello, length-delimited\n" * 3, [("Content-Type", "text/plain")])
        elif p.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first chunk\n", b"second, longer chunk of text\n", b"x" * 3000):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif p.startswith("/close"):
            # No Content-Length, no chunking: the body ends when we close.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the server closes\n" * 4)
            self.close_connection = True
        elif p.startswith("/nocontent"):
            self.send_response(204)
            self.end_headers()
        elif p.startswith("/notmodified"):
            self.send_response(304)
            self.send_header("ETag", '"x"')
            self.end_headers()
        elif p.startswith("/fail"):
            self.body(503, b"busy\n")
        else:
            self.body(404, b"no such thing\n")

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        self.body(201, b"got %d bytes\n" % len(data))


class KeepAlive(Handler):
    protocol_version = "HTTP/1.1"


class Threaded(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def raw_close_server(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen()
    while True:
        c, _ = s.accept()
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = c.recv(4096)
            if not d:
                break
            buf += d
        c.sendall(b"HTTP/1.0 200 OK\r\nServer: raw\r\nContent-Type: text/plain\r\n\r\n")
        c.sendall(b"no length here; read until FIN\n" * 3)
        c.close()


if __name__ == "__main__":
    threading.Thread(target=Threaded(("127.0.0.1", 8080), KeepAlive).serve_forever, daemon=True).start()
    threading.Thread(target=Threaded(("127.0.0.1", 8081), Handler).serve_forever, daemon=True).start()
    threading.Thread(target=raw_close_server, args=(8082,), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()
