// Streaming SHA-256 for files too large to hold: WebCrypto hashes only whole buffers, so the
// module ships pycryptodome's SHA-256 compiled to WebAssembly (scripts/build-web-module), fetched
// with the integrity the page names, and feeds it piece by piece.

import { hex } from './bytes.js';

let compiled = null;

function integrity() {
  const meta = document.querySelector('meta[name="coffer-sha256-integrity"]');
  if (!meta) throw new Error('the page does not name the hash module\'s integrity');
  return meta.content;
}

async function module() {
  if (!compiled) {
    compiled = (async () => {
      const response = await fetch('/sha256.wasm', { integrity: integrity(), cache: 'no-cache' });
      if (!response.ok) throw new Error(`the hash module did not load (${response.status})`);
      return WebAssembly.compile(await response.arrayBuffer());
    })();
  }
  return compiled;
}

/** SHA-256 of bytes held in memory (WebCrypto, one shot). */
export async function digest(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** An incremental SHA-256: `update(bytes)` any number of times, then `digest()` once. */
export class Sha256 {
  static async create() {
    const instance = await WebAssembly.instantiate(await module(), {});
    return new Sha256(instance.exports);
  }

  constructor(exports) {
    this.exports = exports;
    this.capacity = exports.input_size();
    if (exports.begin() !== 0) throw new Error('the hash module did not start');
  }

  update(bytes) {
    for (let at = 0; at < bytes.length; at += this.capacity) {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + this.capacity));
      new Uint8Array(this.exports.memory.buffer, this.exports.input(), piece.length).set(piece);
      if (this.exports.update(piece.length) !== 0) throw new Error('the hash module refused input');
    }
  }

  /** The 32-byte digest; the hash cannot be used after. */
  digest() {
    if (this.exports.finish() !== 0) throw new Error('the hash module did not finish');
    return new Uint8Array(this.exports.memory.buffer, this.exports.digest(), 32).slice();
  }

  hexDigest() { return hex(this.digest()); }
}
