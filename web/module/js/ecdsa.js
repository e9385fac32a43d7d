// ECDSA P-256 signatures in the two forms this module meets: WebCrypto's r‖s (IEEE P1363) and the
// ASN.1 DER the key service writes and reads. Encoding only; signing and verifying are WebCrypto's.

import { concat } from './bytes.js';

/** IEEE P1363 r‖s (WebCrypto's form) as an ASN.1 DER SEQUENCE of two INTEGERs. */
export function derSignature(raw) {
  const integer = (bytes) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let body = bytes.subarray(i);
    if (body[0] & 0x80) body = concat(new Uint8Array([0]), body);
    return concat(new Uint8Array([0x02, body.length]), body);
  };
  const body = concat(integer(raw.subarray(0, 32)), integer(raw.subarray(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

/** An ASN.1 DER ECDSA signature as WebCrypto's r‖s; throws when it is not one. */
export function rawSignature(der) {
  const fail = () => { throw new Error('not a DER ECDSA signature'); };
  if (der[0] !== 0x30 || der[1] !== der.length - 2) fail();
  const out = new Uint8Array(64);
  let at = 2;
  for (let half = 0; half < 2; half++) {
    if (der[at] !== 0x02) fail();
    const length = der[at + 1];
    let value = der.subarray(at + 2, at + 2 + length);
    if (value.length !== length || length === 0) fail();
    while (value.length > 32 && value[0] === 0) value = value.subarray(1);
    if (value.length > 32) fail();
    out.set(value, half * 32 + 32 - value.length);
    at += 2 + length;
  }
  if (at !== der.length) fail();
  return out;
}
