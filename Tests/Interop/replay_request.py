#!/usr/bin/env python3
"""Sends device-signed requests twice, byte for byte, as an attacker who captured them would:
a history read and a save.

Usage: replay_request.py HOST:PORT CA_FILE STATE_DIR USER
Prints the two HTTP statuses of each request, one per line. Uses only Python's standard library
and `cryptography`.
"""
import base64
import glob
import hashlib
import http.client
import json
import os
import ssl
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def main(server, ca, state, user):
    host, port = server.rsplit(":", 1)
    session = json.load(open(glob.glob(os.path.join(state, "sessions", f"{user}@*.json"))[0]))
    key = serialization.load_pem_private_key(open(os.path.join(state, "device.key"), "rb").read(), None)
    context = ssl.create_default_context(cafile=ca)
    save = json.dumps({"fileName": "captured.txt", "sha256": hashlib.sha256(b"x").hexdigest(), "size": 1}).encode()
    for method, path, body in [("GET", "/v1/history", b""), ("POST", "/v1/save", save)]:
        time_ms = str(int(time.time() * 1000))
        nonce = os.urandom(16).hex()
        message = f"coffer request v1\n{method}\n{path}\n{time_ms}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()
        signature = base64.b64encode(key.sign(message, ec.ECDSA(hashes.SHA256()))).decode()
        headers = {
            "Authorization": f"Bearer {session['token']}",
            "Coffer-Time": time_ms,
            "Coffer-Nonce": nonce,
            "Coffer-Signature": signature,
            "Content-Type": "application/json",
        }
        for _ in range(2):
            connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
            connection.request(method, path, body=body or None, headers=headers)
            print(connection.getresponse().status)
            connection.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
