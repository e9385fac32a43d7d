// The browser's `coffer history FILE --verify` (docs/AUDIT.md): the newest checkpoint, vouched for
// by the identity key and signed with Ed25519 (C2SP signed note); each listed entry proved included
// (RFC 9162 §2.1.3); the tree proved an extension of the checkpoint this browser verified before
// (§2.1.4). SHA-256, ECDSA and Ed25519 are WebCrypto's.

import { concat, equal, fromBase64, fromHex, fromUtf8, utf8 } from './bytes.js';
import { rawSignature } from './ecdsa.js';
import * as device from './device.js';
import { digest as sha256 } from './sha256.js';

const subtle = crypto.subtle;
const leafHash = (leaf) => sha256(concat(new Uint8Array([0]), leaf));
const nodeHash = (left, right) => sha256(concat(new Uint8Array([1]), left, right));

/** Why a history does not verify: `rewritten` when the log contradicts itself or its checkpoints. */
export class AuditError extends Error {
  constructor(message, rewritten = true) { super(rewritten ? `THE AUDIT HISTORY WAS REWRITTEN: ${message}` : message); this.kind = rewritten ? 'rewritten' : 'audit'; }
}

/** `<name>+<8 hex key id>+<base64(0x01 ‖ Ed25519 key)>`, its key id checked. */
export async function parseVerifierKey(text) {
  // The base64 key may itself hold '+': split at the first two only.
  const match = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})$/.exec(text);
  if (!match) throw new AuditError('the checkpoint key is malformed', false);
  const parts = match.slice(1);
  const body = fromBase64(parts[2]);
  if (body.length !== 33 || body[0] !== 1) throw new AuditError('the checkpoint key is not an Ed25519 key', false);
  const id = (await sha256(concat(utf8(parts[0]), new Uint8Array([0x0a]), body))).subarray(0, 4);
  if (!equal(id, fromHex(parts[1]))) throw new AuditError("the checkpoint key's id does not match the key", false);
  const key = await subtle.importKey('raw', body.subarray(1), { name: 'Ed25519' }, false, ['verify']);
  return { name: parts[0], id, key, text };
}

/** Opens a signed checkpoint note: `{origin, size, root}` when the verifier's signature holds. */
export async function openCheckpoint(note, verifier) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new AuditError('the checkpoint is not a signed note', false);
  const text = note.slice(0, split + 1);
  const lines = text.split('\n');
  if (lines.length !== 4 || lines[0] !== verifier.name || !/^[0-9]+$/.test(lines[1])) throw new AuditError('the checkpoint is malformed', false);
  let signed = false;
  for (const line of note.slice(split + 2).split('\n')) {
    const prefix = `\u2014 ${verifier.name} `;
    if (!line.startsWith(prefix)) continue;
    const signature = fromBase64(line.slice(prefix.length));
    if (signature.length === 68 && equal(signature.subarray(0, 4), verifier.id)) {
      signed ||= await subtle.verify({ name: 'Ed25519' }, verifier.key, signature.subarray(4), utf8(text));
    }
  }
  if (!signed) throw new AuditError("the checkpoint's signature does not verify", false);
  const root = fromBase64(lines[2]);
  if (root.length !== 32) throw new AuditError('the checkpoint is malformed', false);
  return { origin: lines[0], size: Number(lines[1]), root };
}

/** RFC 9162 §2.1.3.2. */
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1;
  let r = await leafHash(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2. */
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (first === 0 || first > second || proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1, sn = second - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}

/**
 * Verifies a record's history; returns `{events (parsed from the proved leaves), treeSize, newer}`.
 * The last verified checkpoint and the checkpoint key are kept in IndexedDB for next time.
 */
export async function verifyHistory(service, recordID) {
  const identity = service.serverKey;
  if (!identity) throw new AuditError('log in again: the key service has not proved its identity in this session', false);
  const answer = await service.signed('POST', '/v1/audit/checkpoint', {});
  const identityKey = await subtle.importKey('spki', identity, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const statement = utf8(`coffer audit key v1\n${answer.verifierKey}\n`);
  let vouched = false;
  try { vouched = await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, identityKey, rawSignature(fromBase64(answer.verifierKeySignature)), statement); } catch { /* refused below */ }
  if (!vouched) throw new AuditError("the checkpoint key is not vouched for by the key service's identity key", false);
  const pinned = await device.stored('verifierKey');
  if (pinned && pinned !== answer.verifierKey) throw new AuditError(`THE AUDIT CHECKPOINT KEY HAS CHANGED (pinned ${pinned}, now ${answer.verifierKey})`, false);
  const verifier = await parseVerifierKey(answer.verifierKey);
  const checkpoint = await openCheckpoint(answer.checkpoint, verifier);
  const kept = await device.stored('checkpoint');
  const previous = kept ? await openCheckpoint(kept, verifier) : null;
  if (previous && previous.size > checkpoint.size) throw new AuditError(`the newest checkpoint covers ${checkpoint.size} entries, but this browser verified ${previous.size} before: the log was truncated`);

  const history = await service.signed('GET', `/v1/records/${recordID}/history`);
  const covered = (history.events ?? []).filter((e) => e.index < checkpoint.size);
  const proofs = await service.signed('POST', '/v1/audit/proofs', {
    treeSize: checkpoint.size, indexes: covered.map((e) => e.index), ...(previous ? { fromSize: previous.size } : {}),
  });
  if (proofs.treeSize !== checkpoint.size || !equal(fromBase64(proofs.rootHash), checkpoint.root)) {
    throw new AuditError(`the log's tree of ${checkpoint.size} entries does not have the root its signed checkpoint states`);
  }
  if (previous && !await verifyConsistency(previous.size, checkpoint.size, previous.root, checkpoint.root, (proofs.consistency ?? []).map(fromBase64))) {
    throw new AuditError(`the log is not an extension of the checkpoint of ${previous.size} entries this browser verified before`);
  }
  const events = [];
  for (const event of covered) {
    const item = (proofs.inclusion ?? []).find((p) => p.index === event.index);
    if (!item || item.leaf !== event.leaf) throw new AuditError(`entry #${event.index} has no inclusion proof, or its proof is for other bytes`);
    const leaf = fromBase64(item.leaf);
    if (!await verifyInclusion(leaf, event.index, checkpoint.size, item.proof.map(fromBase64), checkpoint.root)) {
      throw new AuditError(`entry #${event.index} (${event.kind}) is not in the log its checkpoint commits to`);
    }
    const stated = JSON.parse(fromUtf8(leaf));
    if (stated.v !== 1 || stated.index !== event.index || stated.kind !== event.kind || stated.timeMs !== event.time || stated.user !== event.user) {
      throw new AuditError(`entry #${event.index} as listed differs from the entry in the log`);
    }
    events.push(stated);
  }
  await device.store('checkpoint', answer.checkpoint);
  if (!pinned) await device.store('verifierKey', answer.verifierKey);
  return { events, treeSize: checkpoint.size, previous: previous?.size ?? null, newer: (history.events ?? []).length - covered.length };
}
