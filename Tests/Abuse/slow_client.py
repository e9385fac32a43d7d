#!/usr/bin/env python3
"""A TLS client that holds a connection to the transaction tier in one of three ways, and reports
whether the server closed it within 30 s (exit 0) or not (exit 1).

  slow_client.py silent  HOST PORT CAFILE   completes the handshake, then sends nothing
  slow_client.py dribble HOST PORT CAFILE   sends a request head one byte every half second
  slow_client.py active  HOST PORT CAFILE   sends a whole request every second for 6 s; exit 0 if
                                            every one was answered on the same open connection
"""
import socket
import ssl
import sys
import time

mode, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
context = ssl.create_default_context(cafile=cafile)
conn = context.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname="localhost")
conn.settimeout(0.5)
request = b"GET /v1/live HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"


def read_some():
    """Bytes read within half a second; b"" once the server has closed; None if nothing came."""
    try:
        return conn.recv(65536)
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return b""


start = time.monotonic()
if mode == "active":
    for n in range(6):
        conn.sendall(request)
        answer = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            head, _, body = answer.partition(b"\r\n\r\n")
            if _:
                length = [int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
            chunk = read_some()
            if chunk == b"":
                print(f"closed while in use, at request {n + 1}")
                sys.exit(1)
            answer += chunk or b""
        if not answer.startswith(b"HTTP/1.1 200"):
            print(f"request {n + 1} not answered 200: {answer[:80]!r}")
            sys.exit(1)
        time.sleep(1)
    print("six requests answered on one connection")
    sys.exit(0)

sent = 0
while time.monotonic() - start < 30:
    if mode == "dribble" and sent < len(request) - 4:
        try:
            conn.send(request[sent:sent + 1])
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            print(f"closed after {time.monotonic() - start:.1f} s, {sent} bytes sent")
            sys.exit(0)
        sent += 1
    if read_some() == b"":
        print(f"closed after {time.monotonic() - start:.1f} s, {sent} bytes sent")
        sys.exit(0)
print(f"still open after 30 s, {sent} bytes sent")
sys.exit(1)
