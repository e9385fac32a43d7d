// This browser's installation: a client id and a non-extractable ECDSA P-256 device key, kept in
// IndexedDB (the key object itself, which the page can use but never read), and the key service's
// pinned identity key. Sessions are never stored here: they live in the page's memory only.

import { base64, hex, uuidText, randomBytes } from './bytes.js';
import { derSignature } from './ecdsa.js';
import { digest } from './sha256.js';

const DB = 'coffer';
const STORE = 'installation';

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function transact(mode, work) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request?.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const get = (key) => transact('readonly', (store) => store.get(key));
const put = (key, value) => transact('readwrite', (store) => store.put(value, key));

/** This installation's `{clientID, privateKey, publicRaw}`, made on first use. */
export async function installation() {
  const existing = await get('device');
  if (existing) return existing;
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const id = randomBytes(16);
  id[6] = (id[6] & 0x0f) | 0x40;
  id[8] = (id[8] & 0x3f) | 0x80;
  const device = {
    clientID: uuidText(id),
    privateKey: pair.privateKey,
    publicRaw: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)),
  };
  await put('device', device);
  return device;
}

/** The device key as the API takes it: base64 X9.63. */
export const deviceKeyText = (device) => base64(device.publicRaw);

/** The pinned identity key fingerprint of this origin's key service, or undefined before first contact. */
export const pinnedServer = () => get('server');
export const pinServer = (fingerprint) => put('server', fingerprint);
/** Fingerprints an identity rotation retired, each with the moment its successor took over (Unix ms). */
export const retiredServers = async () => (await get('server:retired')) ?? {};
export const retireServers = async (steps) => {
  const retired = await retiredServers();
  for (const step of steps) retired[step.previous] = step.from;
  await put('server:retired', retired);
};

/** What the audit check keeps between visits: the last verified checkpoint and the checkpoint key. */
export const stored = (name) => get(`audit:${name}`);
export const store = (name, value) => put(`audit:${name}`, value);

/** Signs `message` with the device key; returns DER (what the key service verifies). */
export async function sign(device, message) {
  const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, device.privateKey, message));
  return derSignature(raw);
}

/** The fingerprint form of `known_servers`: sha256: and the hex SHA-256 of the DER SubjectPublicKeyInfo. */
export async function fingerprint(spki) {
  return 'sha256:' + hex(await digest(spki));
}

