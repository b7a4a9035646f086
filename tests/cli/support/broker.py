"""The namespace lab's broker: TLS on 443 presenting the given chain, plain TCP on 9000.

Runs inside the lab's zen namespace (tests/cli/support/netlab.rs), where a Rust test thread
cannot listen. Usage: broker.py CHAIN.pem KEY.pem; prints "ready" once both ports listen.
"""
import socket
import ssl
import sys
import threading

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    return s


def serve(conn):
    conn.settimeout(5)
    try:
        context.wrap_socket(conn, server_side=True).close()
    except (OSError, ssl.SSLError):
        conn.close()


tls = listen(443)
plain = listen(9000)  # the kernel completes handshakes; nothing is ever read
print("ready", flush=True)
while True:
    client, _ = tls.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
