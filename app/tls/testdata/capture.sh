#!/usr/bin/env bash
# Makes tls.pcap: openssl s_client and curl against openssl s_server on the
# loopback of a private network namespace: TLS 1.3 and 1.2 handshakes that
# complete, a protocol_version refusal, an unknown_ca rejection by the
# client, a TLS 1.3 client-certificate refusal (encrypted alert), and a
# ClientHello that is never answered. Run as root from this directory; needs
# openssl, curl, python3, tcpdump, ethtool.
set -euo pipefail
ns=wsappa-tls
tmp=$(mktemp -d)
ip netns add $ns
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; ip netns del $ns; rm -rf "$tmp"; }
trap cleanup EXIT
run() { ip netns exec $ns "$@"; }
run ip link set lo up mtu 600 # small segments: records and messages span several
run ethtool -K lo tso off gso off  # so that the capture sees them as sent
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj /CN=example.test -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
ip netns exec $ns tcpdump -i lo -U -s 0 -w tls.pcap tcp 2>/dev/null &
pids+=($!)
sleep 1
srv() { # port, extra s_server options
	local port=$1; shift
	ip netns exec $ns openssl s_server -quiet -accept "$port" -cert "$tmp/cert.pem" -key "$tmp/key.pem" "$@" </dev/null >/dev/null 2>&1 &
	pids+=($!)
}
srv 4433 -www -alpn http/1.1
srv 4434 -tls1_3
srv 4435 -tls1_3 -Verify 1
ip netns exec $ns python3 silent.py 4436 &
pids+=($!)
for port in 4433 4434 4435 4436; do
	run python3 -c "import socket,time
for i in range(100):
    try: socket.socket().connect(('127.0.0.1',$port)); break
    except OSError: time.sleep(0.1)"
done
cli() { run timeout 5 openssl s_client -connect 127.0.0.1:"$1" "${@:2}" </dev/null >/dev/null 2>&1 || true; }
# TLS 1.3 with SNI and ALPN, then an HTTP request
run curl -sk --resolve example.test:4433:127.0.0.1 https://example.test:4433/ >/dev/null
# TLS 1.2
cli 4433 -tls1_2 -servername example.test
# the server only speaks TLS 1.3: protocol_version
cli 4434 -tls1_2
# the client does not trust the self-signed certificate: unknown_ca
cli 4433 -tls1_2 -verify_return_error -servername example.test
# TLS 1.3 server demands a client certificate: the refusal is encrypted
printf 'GET / HTTP/1.0\r\n\r\n' | run timeout 5 openssl s_client -connect 127.0.0.1:4435 -tls1_3 >/dev/null 2>&1 || true
# nobody answers the ClientHello
run timeout 2 openssl s_client -connect 127.0.0.1:4436 -servername silent.test </dev/null >/dev/null 2>&1 || true
sleep 1
