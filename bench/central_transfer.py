#!/usr/bin/env python3
"""Times one transfer of a central copy with curl, for bench/run's central part.

  bench/central_transfer.py download URL CA HOME RECORD_ID     the record's central copy, through
                                                                both tiers, signed as the client signs
  bench/central_transfer.py sink URL CA FILE                    FILE PUT to bench/tls_sink.py at URL,
                                                                which reads and drops it (the plain
                                                                upload the copy is measured against)

Prints one JSON object: seconds and bytes moved (curl's own figures).
"""
import base64
import glob
import hashlib
import json
import os
import subprocess
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def curl(arguments):
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_download} %{size_upload}"] + arguments,
                         check=True, capture_output=True, text=True).stdout.split()
    return {"status": int(out[0]), "seconds": float(out[1]), "downloaded": int(out[2]), "uploaded": int(out[3])}


def signed_headers(home, method, path):
    key = serialization.load_pem_private_key(open(os.path.join(home, "device.key"), "rb").read(), None)
    token = json.load(open(glob.glob(os.path.join(home, "sessions", "*.json"))[0]))["token"]
    time_ms = str(int(time.time() * 1000))
    nonce = os.urandom(16).hex()
    message = f"coffer request v1\n{method}\n{path}\n{time_ms}\n{nonce}\n{hashlib.sha256(b'').hexdigest()}"
    signature = base64.b64encode(key.sign(message.encode(), ec.ECDSA(hashes.SHA256()))).decode()
    return ["-H", f"Authorization: Bearer {token}", "-H", f"Coffer-Time: {time_ms}", "-H", f"Coffer-Nonce: {nonce}",
            "-H", f"Coffer-Signature: {signature}"]


mode, url, ca = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "download":
    home, record = sys.argv[4], sys.argv[5]
    path = f"/v1/records/{record}/central"
    result = curl(["--cacert", ca] + signed_headers(home, "GET", path) + [url + path])
    result["bytes"] = result["downloaded"]
elif mode == "sink":
    result = curl(["--cacert", ca, "-H", "Content-Type: application/octet-stream", "-H", "Expect:", "-T", sys.argv[4], url + "/sink"])
    result["bytes"] = result["uploaded"]
else:
    sys.exit("usage: central_transfer.py download URL CA HOME RECORD | sink URL CA FILE")
print(json.dumps(result))
