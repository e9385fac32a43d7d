// Central copies (docs/PROTOCOL.md, Central copies): the container the key service keeps, so that it
// opens from anywhere and a re-seal needs no second download. Only ciphertext leaves this page.

import { ApiError } from './api.js';
import { ContainerError } from './container.js';
import { scratch } from './scratch.js';
import { Sha256 } from './sha256.js';

const PIECE = 1 << 20;
const UPLOAD_ID = /^[0-9a-f]{32}-[0-9a-f]{64}$/;

/** The SHA-256 of a Blob, read piece by piece (memory stays flat). */
async function blobSha256(blob, signal) {
  const hasher = await Sha256.create();
  for (let at = 0; at < blob.size; at += PIECE) {
    signal?.throwIfAborted();
    hasher.update(new Uint8Array(await blob.slice(at, at + PIECE).arrayBuffer()));
  }
  return hasher.hexDigest();
}

/**
 * Uploads `container` (a Blob) as the central copy of `recordID`, sealed under the receipt whose
 * token is `token` (the record's current one, or its staged re-seal's, which the upload confirms).
 * An upload cut short is resumed from what the service holds, up to three times. Answers the copy.
 */
export async function pushCentral(service, recordID, token, container, { signal } = {}) {
  const sha256 = await blobSha256(container, signal);
  let last = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const ready = await service.signed('POST', `/v1/records/${recordID}/central`, { token, sha256, size: container.size });
    if (ready.done) return ready.central;
    if (typeof ready.uploadID !== 'string' || !UPLOAD_ID.test(ready.uploadID)
        || !Number.isSafeInteger(ready.received) || ready.received < 0 || ready.received > container.size) {
      throw new ApiError(0, 'unexpected', 'the key service answered the upload with an offset this module cannot use');
    }
    try {
      const response = await service.signedRaw('PUT', `/v1/uploads/${ready.uploadID}?offset=${ready.received}`, container.slice(ready.received));
      const done = await response.json();
      if (done?.done !== true || done.central?.sha256 !== sha256 || done.central?.size !== container.size) {
        throw new ApiError(0, 'unexpected', "the key service's answer to the upload does not describe the container that was sent");
      }
      return done.central;
    } catch (error) {
      if (!(error instanceof ApiError) || !['unreachable', 'unavailable', 'busy'].includes(error.code)) throw error;
      last = error;
    }
  }
  throw last;
}

/**
 * Downloads the central copy of `recordID` to a scratch file, checking its bytes against the
 * SHA-256 they were stored under and their length before anything opens them.
 */
export async function downloadCentral(service, recordID, { progress, signal } = {}) {
  const response = await service.signedRaw('GET', `/v1/records/${recordID}/central`);
  const stated = response.headers.get('Coffer-Central-SHA256');
  const length = Number(response.headers.get('Content-Length') ?? NaN);
  const sink = await scratch(`${crypto.randomUUID()}.coffer`);
  try {
    const hasher = await Sha256.create();
    const reader = response.body.getReader();
    let count = 0;
    for (;;) {
      if (signal?.aborted) { await reader.cancel(); signal.throwIfAborted(); }
      const { done, value } = await reader.read();
      if (done) break;
      hasher.update(value);
      await sink.append(value);
      count += value.length;
      progress?.(count, length);
    }
    if (hasher.hexDigest() !== stated || count !== length) {
      throw new ContainerError('tampered', 'the central copy does not have the bytes it was stored with (its SHA-256 or length differs): it was altered or damaged in storage');
    }
    await sink.close();
    return sink;
  } catch (error) {
    await sink.discard();
    throw error;
  }
}
