"""Schemathesis hook: signs every request that carries a bearer token with the device key of a
real `coffer` installation, exactly as the client signs (docs/PROTOCOL.md, "Signed requests").

The signature is made over the bytes that go on the wire (a `requests` auth handler sees the
prepared request), with a fresh time and nonce for every send, so schemathesis' own re-sends are
not replays (an upload's streamed bytes are left out, as the client leaves them out). A request without `Authorization` stays unsigned, so that the server's refusal of an
unauthenticated request is what gets checked.

Environment: COFFER_API_STATE (the client's state folder, with device.key).
"""
import base64
import hashlib
import os
import time

import requests
import schemathesis
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

_KEY = serialization.load_pem_private_key(open(os.path.join(os.environ["COFFER_API_STATE"], "device.key"), "rb").read(), None)


class DeviceSignature(requests.auth.AuthBase):
    def __call__(self, request):
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return request
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        # An upload's bytes are streamed, not signed: the signature covers an empty body there.
        if request.method == "PUT" and request.path_url.startswith("/v1/uploads/"):
            body = b""
        time_ms = str(int(time.time() * 1000))
        nonce = os.urandom(16).hex()
        message = f"coffer request v1\n{request.method}\n{request.path_url}\n{time_ms}\n{nonce}\n{hashlib.sha256(body).hexdigest()}"
        request.headers["Coffer-Time"] = time_ms
        request.headers["Coffer-Nonce"] = nonce
        request.headers["Coffer-Signature"] = base64.b64encode(_KEY.sign(message.encode("utf-8"), ec.ECDSA(hashes.SHA256()))).decode()
        return request


_SIGNER = DeviceSignature()


@schemathesis.hook
def before_call(context, case, kwargs):
    kwargs["auth"] = _SIGNER
