"""The namespace lab's HTTPS host: TLS on 443, plain TCP on 9000, QUIC-shaped answers on UDP/443.

Runs inside the lab's zen namespace (tests/cli/support/netlab.rs), where a Rust test thread
cannot listen. Usage: broker.py CHAIN.pem KEY.pem [SNI=CHAIN.pem,KEY.pem ...]: the first pair is
the default; an SNI entry serves another name (a control host) with its own chain. After the
handshake an HTTP request gets "200 OK" with a Date header from this process's clock (which
the lab may fake with libfaketime). Prints "ready" once both ports listen.
"""
import socket
import ssl
import sys
import threading
from email.utils import formatdate


def context(chain, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    return ctx


default = context(sys.argv[1], sys.argv[2])
by_name = {}
for spec in sys.argv[3:]:
    name, files = spec.split("=", 1)
    chain, key = files.split(",", 1)
    by_name[name] = context(chain, key)


def pick(sock, server_name, _ctx):
    if server_name in by_name:
        sock.context = by_name[server_name]


default.sni_callback = pick


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    # A backlog in the thousands: a burst of connects must never be the lab's bottleneck
    # (LAB.md pitfall 11).
    s.listen(4096)
    return s


def serve(conn):
    conn.settimeout(5)
    try:
        tls = default.wrap_socket(conn, server_side=True)
        request = tls.recv(4096)
        if request.startswith(b"GET /ip "):
            # An echo page, like ip.zscaler.com: the address the request arrives from.
            body = "Your request is arriving at this server from the IP address %s" % tls.getpeername()[0]
            head = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
            tls.sendall((head + body).encode())
        elif request.startswith((b"HEAD ", b"GET ")):
            head = "HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            tls.sendall((head % formatdate(usegmt=True)).encode())
        tls.close()
    except (OSError, ssl.SSLError):
        conn.close()


def drain(sock):
    # Accept and close at once: a connection left in the accept queue would fill it, and a
    # full queue drops SYNs (the benchmark makes thousands of connects).
    while True:
        client, _ = sock.accept()
        client.close()


def quic(sock):
    # UDP/443 answers any datagram with a QUIC Version Negotiation packet (RFC 9000 §17.2.1):
    # long header, version 0, the client's connection IDs swapped, one supported version.
    while True:
        data, peer = sock.recvfrom(2048)
        if len(data) < 7:
            continue
        dcid_len = data[5]
        dcid = data[6:6 + dcid_len]
        scid_len = data[6 + dcid_len] if len(data) > 6 + dcid_len else 0
        scid = data[7 + dcid_len:7 + dcid_len + scid_len]
        reply = bytes([0x80]) + b"\0\0\0\0" + bytes([len(scid)]) + scid + bytes([len(dcid)]) + dcid + b"\0\0\0\1"
        sock.sendto(reply, peer)


tls_listener = listen(443)
plain = listen(9000)
threading.Thread(target=drain, args=(plain,), daemon=True).start()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", 443))
threading.Thread(target=quic, args=(udp,), daemon=True).start()
print("ready", flush=True)
while True:
    client, _ = tls_listener.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
