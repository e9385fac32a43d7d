#!/usr/bin/env python3
"""A TLS proxy in front of the transaction tier that changes one answer.

It stands for a server whose served module was swapped: everything is forwarded to the real tier
(so the identity challenge and the signed manifest are the real ones), except the change named:
a module PATH gets a comment appended; `manifest-signature` serves the manifest with another
signature; `manifest-index` serves it naming the audit entry after its own. Usage:
tampering_proxy.py CERT KEY CA UPSTREAM_PORT CHANGE; prints its port on the first line of standard
output, then serves until killed.
"""
import base64
import http.client
import http.server
import json
import socketserver
import ssl
import sys

cert, key, ca, upstream, changed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
context_up = ssl.create_default_context(cafile=ca)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream_connection = http.client.HTTPSConnection("127.0.0.1", upstream, context=context_up)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        headers["Host"] = f"127.0.0.1:{upstream}"
        upstream_connection.request(self.command, self.path, body=body, headers=headers)
        answer = upstream_connection.getresponse()
        data = answer.read()
        if self.path == changed:
            data += b"\n// changed by whoever controls the server\n"
        elif self.path == "/v1/web/manifest" and changed.startswith("manifest-"):
            answer_json = json.loads(data)
            if changed == "manifest-signature":
                signature = bytearray(base64.b64decode(answer_json["signature"]))
                signature[-1] ^= 0x01
                answer_json["signature"] = base64.b64encode(bytes(signature)).decode()
            elif changed == "manifest-index" and answer_json.get("auditIndex") is not None:
                answer_json["auditIndex"] += 1
            data = json.dumps(answer_json).encode()
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = forward

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0), Proxy)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
