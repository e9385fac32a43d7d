// Identity rotations (docs/PROTOCOL.md, "Identity rotation"): a changed identity key is taken only
// through statements signed by the pinned key, each naming the key that takes over and the moment
// it does. The pinned key's retired predecessors are taken back for the clock skew past their
// rotation only, as the CLI does.

import { fromBase64, utf8 } from './bytes.js';
import { rawSignature } from './ecdsa.js';
import { fingerprint } from './device.js';

/** How far the key service's clock may be from this one (the request signatures' bound). */
export const maxClockSkewMs = 5 * 60 * 1000;
/** More statements than any deployment makes are refused whole. */
const maxRotations = 64;
const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' };

/** A statement's two fingerprints and its moment when its signature by the retired key holds; else null. */
async function verified(statement) {
  try {
    if (statement === null || typeof statement !== 'object' || !Number.isSafeInteger(statement.from)) return null;
    const previousKey = fromBase64(statement.previousKey);
    const nextKey = fromBase64(statement.nextKey);
    const previous = await fingerprint(previousKey);
    const next = await fingerprint(nextKey);
    if (previous === next) return null;
    await crypto.subtle.importKey('spki', nextKey, ecdsa, false, ['verify']);
    const key = await crypto.subtle.importKey('spki', previousKey, ecdsa, false, ['verify']);
    const message = utf8(`coffer identity rotation v1\n${previous}\n${next}\n${statement.from}\n`);
    const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, rawSignature(fromBase64(statement.signature)), message);
    return ok ? { previous, next, from: statement.from } : null;
  } catch {
    return null;
  }
}

/**
 * The rotations that lead from the `pinned` fingerprint to the `presented` one, each signed by the
 * key before it and in force by `nowMs` (allowing the clock skew), oldest first; null when the
 * statements hold no such path.
 */
export async function rotationPath(pinned, presented, statements, nowMs) {
  if (!Array.isArray(statements) || statements.length > maxRotations) return null;
  const steps = (await Promise.all(statements.map(verified))).filter((step) => step !== null);
  const path = [];
  for (let at = pinned; at !== presented;) {
    const step = path.length < steps.length ? steps.find((s) => s.previous === at && s.from <= nowMs + maxClockSkewMs) : undefined;
    if (!step) return null;
    path.push(step);
    at = step.next;
  }
  return path;
}

/** Whether `presented` is a key the pin retired less than the clock skew ago. */
export function recentlyRetired(retired, presented, nowMs) {
  const at = retired && retired[presented];
  return Number.isSafeInteger(at) && nowMs < at + maxClockSkewMs;
}
