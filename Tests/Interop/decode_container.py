#!/usr/bin/env python3
"""An independent decoder of the Coffer container format v1, written from docs/FORMAT.md.

It shares no code with Coffer: it uses the `cryptography` package (OpenSSL) for HPKE,
HKDF, HMAC and AES-GCM. Usage:

    decode_container.py VECTOR.json          check a test vector (container, decodeKey, plaintext)
    decode_container.py CONTAINER KEYHEX     print the plaintext of a container to stdout

Exit status 0 when the container opens and matches; 1 otherwise.
"""
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAGIC = b"COFFER\x00\x01"
CHUNK = 65536
TAG = 16


def hkdf(ikm, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def decode(container: bytes, decode_key: bytes) -> bytes:
    if container[:8] != MAGIC:
        raise ValueError("not a Coffer v1 container")
    pos = 8
    suite, chunk_size = struct.unpack(">HI", container[pos:pos + 6])
    pos += 6
    if suite != 1 or chunk_size != CHUNK:
        raise ValueError("unknown suite or chunk size")
    record_id = container[pos:pos + 16]; pos += 16
    key_id = container[pos:pos + 32]; pos += 32
    salt = container[pos:pos + 32]; pos += 32
    bound_prefix = container[:pos]
    enc = container[pos:pos + 65]; pos += 65
    (wrapped_len,) = struct.unpack(">H", container[pos:pos + 2]); pos += 2
    wrapped = container[pos:pos + wrapped_len]; pos += wrapped_len
    (receipt_len,) = struct.unpack(">I", container[pos:pos + 4]); pos += 4
    receipt = container[pos:pos + receipt_len]; pos += receipt_len
    authenticated = container[:pos]
    mac = container[pos:pos + 32]; pos += 32

    private_key = ec.derive_private_key(int.from_bytes(decode_key, "big"), ec.SECP256R1())
    public_point = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    h = hashes.Hash(hashes.SHA256()); h.update(public_point)
    if h.finalize() != key_id:
        raise ValueError("decode key does not match the encode key id")

    suite_ = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    file_key = suite_.decrypt(enc + wrapped, private_key, info=b"coffer v1 file key" + bound_prefix)

    h = hmac.HMAC(hkdf(file_key, salt, b"coffer v1 header"), hashes.SHA256())
    h.update(authenticated)
    h.verify(mac)

    aead = AESGCM(hkdf(file_key, salt, b"coffer v1 payload"))
    payload = container[pos:]
    out = bytearray()
    counter = 0
    while True:
        sealed = payload[:CHUNK + TAG]
        payload = payload[CHUNK + TAG:]
        last = len(payload) == 0
        nonce = counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        out += aead.decrypt(nonce, sealed, mac)
        counter += 1
        if last:
            return bytes(out)


def main(argv):
    if len(argv) == 2:
        vector = json.load(open(argv[1]))
        plaintext = decode(bytes.fromhex(vector["container"]), bytes.fromhex(vector["decodeKey"]))
        if plaintext != vector["plaintext"].encode():
            print("plaintext mismatch", file=sys.stderr)
            return 1
        print("ok: the vector decodes to its plaintext")
        return 0
    if len(argv) == 3:
        sys.stdout.buffer.write(decode(open(argv[1], "rb").read(), bytes.fromhex(argv[2])))
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as error:  # any failure to decode is a refusal
        print(f"refused: {error}", file=sys.stderr)
        sys.exit(1)
