#!/usr/bin/env python3
"""An independent decoder of the Coffer container format, versions 1 and 2, written from docs/FORMAT.md.

It shares no code with Coffer: it uses the `cryptography` package (OpenSSL) for ECDH, HPKE, HKDF,
HMAC and AES-GCM. Usage:

    decode_container.py VECTOR.json...            check test vectors: the container (file named by
                                                  containerFile, beside the vector) opens with
                                                  decodeKey to the plaintext, and every intermediate
                                                  value (file key, header key, payload key, HPKE
                                                  shared secret) is the published one
    decode_container.py --open CONTAINER KEYHEX   print the plaintext of a container to stdout

Exit status 0 when every container opens and matches; 1 otherwise.
"""
import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CHUNK = 65536
TAG = 16
MAX_RECEIPT = 65536
MAX_PLAINTEXT_V2 = 1 << 53
HEADER_V2 = 253


def hkdf(ikm, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def hmac_sha256(key, data):
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


def sealed_size(n):
    """Bytes of sealed payload for n bytes of plaintext: one tag per chunk, at least one chunk."""
    return n + TAG * max(1, -(-n // CHUNK))


class Header:
    """The fields of a container header, and where its payload lies."""


def parse(container):
    if container[:7] != b"COFFER\x00":
        raise ValueError("not a Coffer container")
    if len(container) < 8 or container[7] not in (1, 2):
        raise ValueError("unsupported version")
    h = Header()
    h.version = container[7]
    pos = 8
    suite, chunk_size = struct.unpack(">HI", container[pos:pos + 6]); pos += 6
    if suite != 1 or chunk_size != CHUNK:
        raise ValueError("unknown suite or chunk size")
    if h.version == 1:
        h.record_id = container[pos:pos + 16]; pos += 16
        h.key_id = container[pos:pos + 32]; pos += 32
        h.salt = container[pos:pos + 32]; pos += 32
    else:
        h.salt = container[pos:pos + 32]; pos += 32
        h.payload_prefix = container[:pos]
        (h.size,) = struct.unpack(">Q", container[pos:pos + 8]); pos += 8
        if h.size > MAX_PLAINTEXT_V2:
            raise ValueError("plaintext size too large")
        h.record_id = container[pos:pos + 16]; pos += 16
        h.key_id = container[pos:pos + 32]; pos += 32
    h.bound_prefix = container[:pos]
    h.enc = container[pos:pos + 65]; pos += 65
    (wrapped_len,) = struct.unpack(">H", container[pos:pos + 2]); pos += 2
    if wrapped_len != 48:
        raise ValueError("wrapped key length is not 48")
    h.wrapped = container[pos:pos + 48]; pos += 48
    (receipt_len,) = struct.unpack(">I", container[pos:pos + 4]); pos += 4
    if receipt_len > MAX_RECEIPT:
        raise ValueError("receipt too long")
    if h.version == 1:
        h.receipt = container[pos:pos + receipt_len]; pos += receipt_len
        h.authenticated = container[:pos]
        h.mac = container[pos:pos + 32]; pos += 32
        if len(container) < pos:
            raise ValueError("truncated inside the header")
        h.payload = container[pos:]
        h.aad = h.mac
    else:
        fixed = container[:pos]
        h.mac = container[pos:pos + 32]; pos += 32
        payload_end = HEADER_V2 + sealed_size(h.size)
        if len(container) != payload_end + receipt_len:
            raise ValueError("the container's size is not what its header declares")
        h.receipt = container[payload_end:]
        h.authenticated = fixed + h.receipt
        h.payload = container[HEADER_V2:payload_end]
        h.aad = h.payload_prefix
    return h


def hpke_shared_secret(private_key, enc):
    """RFC 9180 4.1: DHKEM(P-256, HKDF-SHA256) Decap, from ECDH and HKDF alone."""
    suite_id = b"KEM" + (0x0010).to_bytes(2, "big")
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), enc)
    dh = private_key.exchange(ec.ECDH(), peer)
    pk_rm = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    eae_prk = hmac_sha256(b"\x00" * 32, b"HPKE-v1" + suite_id + b"eae_prk" + dh)
    info = (32).to_bytes(2, "big") + b"HPKE-v1" + suite_id + b"shared_secret" + enc + pk_rm
    return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(eae_prk)


def decode(container, decode_key):
    """Returns (plaintext, intermediate values)."""
    h = parse(container)
    label = b"coffer v%d " % h.version
    private_key = ec.derive_private_key(int.from_bytes(decode_key, "big"), ec.SECP256R1())
    public_point = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    if hashlib.sha256(public_point).digest() != h.key_id:
        raise ValueError("decode key does not match the encode key id")

    suite = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    file_key = suite.decrypt(h.enc + h.wrapped, private_key, info=label + b"file key" + h.bound_prefix)
    header_key = hkdf(file_key, h.salt, label + b"header")
    payload_key = hkdf(file_key, h.salt, label + b"payload")
    mac = hmac.HMAC(header_key, hashes.SHA256())
    mac.update(h.authenticated)
    mac.verify(h.mac)

    aead = AESGCM(payload_key)
    payload = h.payload
    out = bytearray()
    counter = 0
    while True:
        sealed = payload[:CHUNK + TAG]
        payload = payload[CHUNK + TAG:]
        if len(sealed) < TAG:
            raise ValueError("truncated: chunk shorter than its tag")
        if len(sealed) == TAG and counter > 0:
            raise ValueError("an empty chunk after a full one")
        last = len(payload) == 0
        nonce = counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        out += aead.decrypt(nonce, sealed, h.aad)
        counter += 1
        if last:
            break
    if h.version == 2 and len(out) != h.size:
        raise ValueError("plaintext size differs from the header's")
    values = {
        "fileKey": file_key.hex(),
        "headerKey": header_key.hex(),
        "payloadKey": payload_key.hex(),
        "hpkeSharedSecret": hpke_shared_secret(private_key, h.enc).hex(),
        "recordID": h.record_id.hex(),
        "receipt": h.receipt.decode(),
        "version": h.version,
    }
    return bytes(out), values


def check_vector(path):
    vector = json.load(open(path))
    container = open(os.path.join(os.path.dirname(path), vector["containerFile"]), "rb").read()
    if "container" in vector and bytes.fromhex(vector["container"]) != container:
        raise ValueError("the inline container differs from the container file")
    plaintext, values = decode(container, bytes.fromhex(vector["decodeKey"]))
    for name, value in values.items():
        if vector[name] != value:
            raise ValueError(f"{name} differs: {value}")
    expected = vector["plaintextText"].encode() if "plaintextText" in vector else bytes(i % 251 for i in range(vector["plaintextSize"]))
    if plaintext != expected or hashlib.sha256(plaintext).hexdigest() != vector["plaintextSHA256"]:
        raise ValueError("plaintext mismatch")
    print(f"ok: {os.path.basename(path)} decodes to its plaintext ({len(plaintext)} bytes) with every intermediate value")


def main(argv):
    if len(argv) == 4 and argv[1] == "--open":
        plaintext, _ = decode(open(argv[2], "rb").read(), bytes.fromhex(argv[3]))
        sys.stdout.buffer.write(plaintext)
        return 0
    if len(argv) >= 2 and not argv[1].startswith("-"):
        for path in argv[1:]:
            check_vector(path)
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as error:  # any failure to decode is a refusal
        print(f"refused: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
