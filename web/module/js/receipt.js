// The receipt a container carries (docs/FORMAT.md, Receipt): its fields, the file-name rule, and
// its binding to the container's header. What the format checks is in container.js; this is the
// client's part.

import { fromUtf8, hex, uuidText } from './bytes.js';

const FIELDS = { version: 'number', recordID: 'string', owner: 'string', clientID: 'string', fileName: 'string',
  sha256: 'string', size: 'number', time: 'number', encodeKeyID: 'string', token: 'string' };

/** A name a new save may have (docs/PROTOCOL.md): 1–255 UTF-8 bytes, not . or .., no /, no Cc, Cf, Zl or Zp. */
export function isValidFileName(name) {
  const length = new TextEncoder().encode(name).length;
  return length >= 1 && length <= 255 && name !== '.' && name !== '..' && !/[/\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(name);
}

/** The rule for records saved before the rule above: no /, C0 control or DEL. */
function isOlderValidFileName(name) {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\u0000-\u001f\u007f]/.test(name);
}

/** Text from outside, safe to show: characters that do not print as themselves become \u{…}. */
export function printable(text) {
  return String(text).replace(/\\/g, '\\\\').replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}

/** Decodes a receipt's JSON (bytes or object) and checks every field's type and shape. */
export function parseReceipt(input) {
  let receipt;
  try {
    receipt = input instanceof Uint8Array ? JSON.parse(fromUtf8(input)) : input;
  } catch {
    throw new Error('the receipt is not JSON');
  }
  if (typeof receipt !== 'object' || receipt === null) throw new Error('the receipt is not an object');
  for (const [field, type] of Object.entries(FIELDS)) {
    if (typeof receipt[field] !== type) throw new Error(`the receipt's ${field} is missing or not a ${type}`);
  }
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  if (receipt.version !== 2 || !uuid.test(receipt.recordID) || !uuid.test(receipt.clientID) ||
      !/^[0-9a-f]{64}$/.test(receipt.sha256) || !/^[0-9a-f]{64}$/.test(receipt.encodeKeyID) ||
      !Number.isSafeInteger(receipt.size) || receipt.size < 0 || !Number.isSafeInteger(receipt.time) ||
      !/^[A-Za-z0-9+/]+={0,2}$/.test(receipt.token) || !isOlderValidFileName(receipt.fileName)) {
    throw new Error('the receipt has a field of the wrong form');
  }
  return receipt;
}

/** Checks that a container's receipt names its header's record and key (docs/FORMAT.md, step 1). */
export function checkBinding(receipt, header) {
  if (receipt.recordID !== uuidText(header.recordID) || receipt.encodeKeyID !== hex(header.keyID)) {
    throw new Error("the container's receipt does not name its header's record and key");
  }
}

/** Checks a save's or re-seal's receipt against what was asked for. */
export function checkAnswer(receipt, expected) {
  for (const [field, value] of Object.entries(expected)) {
    if (receipt[field] !== value) throw new Error(`the key service's receipt states another ${field} than the one asked for`);
  }
}
