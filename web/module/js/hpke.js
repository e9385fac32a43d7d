// HPKE (RFC 9180) base mode, single shot, for the one suite docs/FORMAT.md names:
// DHKEM(P-256, HKDF-SHA256) 0x0010, HKDF-SHA256 0x0001, AES-256-GCM 0x0002. Composed exactly as the
// RFC specifies from WebCrypto's ECDH, HMAC-SHA256 and AES-GCM; nothing here is a primitive.

import { base64url, concat, u16, utf8 } from './bytes.js';

const subtle = crypto.subtle;
const KEM_ID = 0x0010, KDF_ID = 0x0001, AEAD_ID = 0x0002;
const KEM_SUITE = concat(utf8('KEM'), u16(KEM_ID));
const HPKE_SUITE = concat(utf8('HPKE'), u16(KEM_ID), u16(KDF_ID), u16(AEAD_ID));
const VERSION = utf8('HPKE-v1');
const ZEROS = new Uint8Array(32);

async function hmac(key, data) {
  // An empty HKDF salt is HashLen zero bytes (RFC 5869 §2.2); WebCrypto refuses empty HMAC keys.
  const k = await subtle.importKey('raw', key.length ? key : ZEROS, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', k, data));
}

/** HKDF-Extract (RFC 5869). */
export const extract = (salt, ikm) => hmac(salt, ikm);

/** HKDF-Expand (RFC 5869) to `length` bytes. */
export async function expand(prk, info, length) {
  const out = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    previous = await hmac(prk, concat(previous, info, new Uint8Array([i])));
    out.set(previous.subarray(0, Math.min(32, length - at)), at);
    at += 32;
  }
  return out;
}

const labeledExtract = (suite, salt, label, ikm) => extract(salt, concat(VERSION, suite, utf8(label), ikm));
const labeledExpand = (suite, prk, label, info, length) => expand(prk, concat(u16(length), VERSION, suite, utf8(label), info), length);

async function dh(privateKey, publicRaw) {
  const pub = await subtle.importKey('raw', publicRaw, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  return new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: pub }, privateKey, 256));
}

async function extractAndExpand(dhBytes, kemContext) {
  const prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dhBytes);
  return labeledExpand(KEM_SUITE, prk, 'shared_secret', kemContext, 32);
}

/** The key schedule of RFC 9180 §5.1 in base mode: the AEAD key and base nonce. */
export async function keySchedule(sharedSecret, info) {
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(HPKE_SUITE, empty, 'psk_id_hash', empty);
  const infoHash = await labeledExtract(HPKE_SUITE, empty, 'info_hash', info);
  const context = concat(new Uint8Array([0]), pskIdHash, infoHash);
  const secret = await labeledExtract(HPKE_SUITE, sharedSecret, 'secret', empty);
  return {
    key: await labeledExpand(HPKE_SUITE, secret, 'key', context, 32),
    baseNonce: await labeledExpand(HPKE_SUITE, secret, 'base_nonce', context, 12),
  };
}

/**
 * Encap(pkR): an ephemeral pair (or the one given, for test vectors), its 65-byte `enc`, and the
 * shared secret.
 */
export async function encap(recipientRaw, ephemeral) {
  const pair = ephemeral ?? await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const enc = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
  const sharedSecret = await extractAndExpand(await dh(pair.privateKey, recipientRaw), concat(enc, recipientRaw));
  return { enc, sharedSecret };
}

/** Decap(enc, skR): the shared secret. */
export async function decap(enc, recipientPrivate, recipientRaw) {
  return extractAndExpand(await dh(recipientPrivate, enc), concat(enc, recipientRaw));
}

async function aead(key, nonce, aad, data, usage) {
  const k = await subtle.importKey('raw', key, 'AES-GCM', false, [usage]);
  const params = { name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 };
  return new Uint8Array(usage === 'encrypt' ? await subtle.encrypt(params, k, data) : await subtle.decrypt(params, k, data));
}

/** SealBase(pkR, info, aad, pt), first message: `{enc, ciphertext}`. */
export async function seal(recipientRaw, info, aad, plaintext, ephemeral) {
  const { enc, sharedSecret } = await encap(recipientRaw, ephemeral);
  const { key, baseNonce } = await keySchedule(sharedSecret, info);
  return { enc, ciphertext: await aead(key, baseNonce, aad, plaintext, 'encrypt') };
}

/** OpenBase(enc, skR, info, aad, ct), first message. Throws when it does not open. */
export async function open(enc, recipientPrivate, recipientRaw, info, aad, ciphertext) {
  const sharedSecret = await decap(enc, recipientPrivate, recipientRaw);
  const { key, baseNonce } = await keySchedule(sharedSecret, info);
  return aead(key, baseNonce, aad, ciphertext, 'decrypt');
}

/** Imports a P-256 private scalar with its public point (Chromium needs both) for ECDH. */
export async function importPrivate(scalar, publicRaw, usages = ['deriveBits']) {
  if (scalar.length !== 32 || publicRaw.length !== 65 || publicRaw[0] !== 4) throw new Error('not a P-256 key pair');
  const jwk = { kty: 'EC', crv: 'P-256', d: base64url(scalar), x: base64url(publicRaw.subarray(1, 33)), y: base64url(publicRaw.subarray(33)), ext: false };
  return subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, false, usages);
}
