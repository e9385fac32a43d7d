// The Coffer container format (docs/FORMAT.md): writes version 2 in one pass, reads versions 1 and 2.
// Every primitive is WebCrypto's (HKDF, HMAC, AES-GCM) or HPKE composed from it (hpke.js).

import { concat, equal, readU16, readU32, readU64, randomBytes, u16, u32, u64, utf8 } from './bytes.js';
import * as hpke from './hpke.js';
import { digest as sha256 } from './sha256.js';

const subtle = crypto.subtle;
export const CHUNK = 65536;
const SEALED_CHUNK = CHUNK + 16;
const MAGIC = utf8('COFFER\0');
const SUITE = [0x00, 0x01];
const CHUNK_FIELD = [0x00, 0x01, 0x00, 0x00];
const HEADER_V2 = 253;
const HEADER_V1_FIXED = 213;
const MAX_RECEIPT = 65536;
/** Chunks sealed or opened at once: 1 MiB read, hashed and written per step. */
const BATCH = 16;

/** Why a container cannot be opened; `kind` is 'format', 'truncated', 'tampered' or 'foreign'. */
export class ContainerError extends Error {
  constructor(kind, message) { super(message); this.kind = kind; }
}

export const payloadSize = (n) => n + 16 * Math.max(1, Math.ceil(n / CHUNK));

export function chunkNonce(index, last) {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(3, BigInt(index));
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** The header and payload keys of a file key (docs/FORMAT.md, Keys). */
export async function deriveKeys(fileKey, salt, version) {
  const ikm = await subtle.importKey('raw', fileKey, 'HKDF', false, ['deriveBits']);
  const derive = async (label) => new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: utf8(label) }, ikm, 256));
  const headerBytes = await derive(`coffer v${version} header`);
  const payloadBytes = await derive(`coffer v${version} payload`);
  return {
    headerBytes, payloadBytes,
    header: await subtle.importKey('raw', headerBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
    payload: await subtle.importKey('raw', payloadBytes, 'AES-GCM', false, ['encrypt', 'decrypt']),
  };
}


function checkCancel(signal) {
  if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
}

/**
 * Writes a version 2 container in one pass. `source` is a Blob of `size` bytes, hashed while sealed
 * into `sink` ({write(position, bytes)}); then `ask(sha256Hex, size)` gives `{recordID, encodeKey,
 * receipt}` (bytes) and the header and receipt complete the container. Returns what `ask` gave.
 */
export async function seal({ source, hasher, ask, sink, progress, signal }) {
  const size = source.size;
  const fileKey = randomBytes(32);
  const salt = randomBytes(32);
  const prefix = concat(MAGIC, new Uint8Array([2]), new Uint8Array(SUITE), new Uint8Array(CHUNK_FIELD), salt);
  const keys = await deriveKeys(fileKey, salt, 2);
  const chunks = Math.max(1, Math.ceil(size / CHUNK));
  await sink.write(0, new Uint8Array(HEADER_V2));
  let position = HEADER_V2;
  let writing = Promise.resolve();
  let next = readPiece(source, 0, BATCH * CHUNK);
  for (let first = 0; first < chunks; first += BATCH) {
    checkCancel(signal);
    const plain = await next;
    const end = Math.min(chunks, first + BATCH);
    if (end < chunks) next = readPiece(source, end * CHUNK, BATCH * CHUNK);
    const sealing = [];
    for (let i = first; i < end; i++) {
      const part = plain.subarray((i - first) * CHUNK, (i - first + 1) * CHUNK);
      sealing.push(subtle.encrypt({ name: 'AES-GCM', iv: chunkNonce(i, i === chunks - 1), additionalData: prefix }, keys.payload, part));
    }
    hasher.update(plain);
    const sealed = concat(...(await Promise.all(sealing)).map((b) => new Uint8Array(b)));
    // One write in flight while the next piece is read, hashed and sealed.
    await writing;
    writing = sink.write(position, sealed);
    position += sealed.length;
    progress?.(Math.min(size, end * CHUNK), size);
  }
  await writing;
  const digest = hasher.hexDigest();
  checkCancel(signal);
  const answer = await ask(digest, size);
  const keyID = await sha256(answer.encodeKey);
  const bound = concat(prefix, u64(size), answer.recordID, keyID);
  const wrap = await hpke.seal(answer.encodeKey, concat(utf8('coffer v2 file key'), bound), new Uint8Array(0), fileKey);
  const head = concat(bound, wrap.enc, u16(wrap.ciphertext.length), wrap.ciphertext, u32(answer.receipt.length));
  const mac = new Uint8Array(await subtle.sign('HMAC', keys.header, concat(head, answer.receipt)));
  await sink.write(position, answer.receipt);
  await sink.write(0, concat(head, mac));
  return { ...answer, sha256: digest, size };
}

async function readPiece(blob, at, length) {
  return new Uint8Array(await blob.slice(at, Math.min(blob.size, at + length)).arrayBuffer());
}

/**
 * Reads a container's header and receipt from a Blob and checks its length; opens nothing yet.
 * Throws ContainerError.
 */
export async function readHeader(blob) {
  if (blob.size < 8) throw new ContainerError('format', 'this is not a Coffer container (too short)');
  const magic = await readPiece(blob, 0, 8);
  if (!equal(magic.subarray(0, 7), MAGIC)) throw new ContainerError('format', 'this is not a Coffer container');
  const version = magic[7];
  if (version !== 1 && version !== 2) throw new ContainerError('format', `container format version ${version} is not one this module reads`);
  const fixed = await readPiece(blob, 0, version === 2 ? HEADER_V2 : HEADER_V1_FIXED);
  if (fixed.length < (version === 2 ? HEADER_V2 : HEADER_V1_FIXED)) throw new ContainerError('truncated', 'the container is cut short');
  if (readU16(fixed, 8) !== 1 || readU32(fixed, 10) !== CHUNK) throw new ContainerError('format', 'the container names a suite or chunk size this module does not know');
  return version === 2 ? headerV2(blob, fixed) : headerV1(blob, fixed);
}

async function headerV2(blob, fixed) {
  let size;
  try { size = readU64(fixed, 46); } catch { throw new ContainerError('format', 'the container states a size above 2^53'); }
  if (readU16(fixed, 167) !== 48) throw new ContainerError('format', 'the wrapped key has a length this format does not use');
  const receiptLength = readU32(fixed, 217);
  if (receiptLength > MAX_RECEIPT) throw new ContainerError('format', 'the receipt is longer than the format allows');
  const payloadLength = payloadSize(size);
  const expected = HEADER_V2 + payloadLength + receiptLength;
  if (blob.size < expected) throw new ContainerError('truncated', 'the container is cut short');
  if (blob.size > expected) throw new ContainerError('tampered', 'the container has bytes after its end');
  const receipt = await readPiece(blob, HEADER_V2 + payloadLength, receiptLength);
  return {
    version: 2, size, salt: fixed.slice(14, 46), recordID: fixed.slice(54, 70), keyID: fixed.slice(70, 102),
    enc: fixed.slice(102, 167), wrapped: fixed.slice(169, 217), mac: fixed.slice(221, 253), receipt,
    bound: fixed.slice(0, 102), macInput: concat(fixed.subarray(0, 221), receipt), aad: fixed.slice(0, 46),
    payloadOffset: HEADER_V2, payloadLength,
  };
}

async function headerV1(blob, fixed) {
  if (readU16(fixed, 159) !== 48) throw new ContainerError('format', 'the wrapped key has a length this format does not use');
  const receiptLength = readU32(fixed, 209);
  if (receiptLength > MAX_RECEIPT) throw new ContainerError('format', 'the receipt is longer than the format allows');
  const rest = await readPiece(blob, HEADER_V1_FIXED, receiptLength + 32);
  if (rest.length < receiptLength + 32) throw new ContainerError('truncated', 'the container is cut short');
  const payloadOffset = HEADER_V1_FIXED + receiptLength + 32;
  const payloadLength = blob.size - payloadOffset;
  if (payloadLength < 16) throw new ContainerError('truncated', 'the container is cut short');
  const mac = rest.slice(receiptLength);
  return {
    version: 1, size: null, salt: fixed.slice(62, 94), recordID: fixed.slice(14, 30), keyID: fixed.slice(30, 62),
    enc: fixed.slice(94, 159), wrapped: fixed.slice(161, 209), mac, receipt: rest.slice(0, receiptLength),
    bound: fixed.slice(0, 94), macInput: concat(fixed, rest.subarray(0, receiptLength)), aad: mac,
    payloadOffset, payloadLength,
  };
}

/**
 * Opens the file key with the released decode key (scalar and its public point) and checks the
 * header MAC. Throws ContainerError 'foreign' when the key is not this container's, 'tampered'
 * when the wrap or MAC fails.
 */
export async function unlock(header, decodeScalar, decodePublic) {
  if (!equal(await sha256(decodePublic), header.keyID)) {
    throw new ContainerError('foreign', "the key service's decode key is not this container's");
  }
  let fileKey;
  try {
    const privateKey = await hpke.importPrivate(decodeScalar, decodePublic);
    const info = concat(utf8(`coffer v${header.version} file key`), header.bound);
    fileKey = await hpke.open(header.enc, privateKey, decodePublic, info, new Uint8Array(0), header.wrapped);
  } catch {
    throw new ContainerError('tampered', 'the container was altered: its file key does not open');
  }
  const keys = await deriveKeys(fileKey, header.salt, header.version);
  if (!await subtle.verify('HMAC', keys.header, header.mac, header.macInput)) {
    throw new ContainerError('tampered', 'the container was altered: its header or receipt does not match its MAC');
  }
  return keys;
}

/**
 * Opens the payload chunk by chunk into `sink` ({append(bytes)}) while `hasher` hashes it; returns
 * the plaintext length. Throws ContainerError 'tampered' at the first chunk that fails.
 */
export async function openPayload({ header, keys, blob, sink, hasher, progress, signal }) {
  const pieces = Math.max(1, Math.ceil(header.payloadLength / SEALED_CHUNK));
  const lastLength = header.payloadLength - (pieces - 1) * SEALED_CHUNK;
  if (lastLength < 16 || (lastLength === 16 && pieces > 1)) throw new ContainerError('tampered', 'the container has bytes after its end');
  let total = 0;
  const end = header.payloadOffset + header.payloadLength;
  const read = (piece) => {
    const at = header.payloadOffset + piece * SEALED_CHUNK;
    return readPiece(blob, at, Math.min(BATCH * SEALED_CHUNK, end - at));
  };
  let next = read(0);
  let writing = Promise.resolve();
  for (let first = 0; first < pieces; first += BATCH) {
    checkCancel(signal);
    const sealed = await next;
    const last = Math.min(pieces, first + BATCH);
    if (last < pieces) next = read(last);
    const opening = [];
    for (let i = first; i < last; i++) {
      const part = sealed.subarray((i - first) * SEALED_CHUNK, (i - first + 1) * SEALED_CHUNK);
      opening.push(subtle.decrypt({ name: 'AES-GCM', iv: chunkNonce(i, i === pieces - 1), additionalData: header.aad }, keys.payload, part));
    }
    let plain;
    try {
      plain = concat(...(await Promise.all(opening)).map((b) => new Uint8Array(b)));
    } catch {
      throw new ContainerError('tampered', 'the container was altered: a chunk does not open');
    }
    hasher.update(plain);
    await writing;
    writing = sink.append(plain);
    total += plain.length;
    progress?.(Math.min(end, header.payloadOffset + last * SEALED_CHUNK), blob.size);
  }
  await writing;
  if (header.size !== null && total !== header.size) throw new ContainerError('tampered', 'the container holds another length than it states');
  return total;
}
