// The key service's HTTPS API (docs/api/openapi.yaml), as the CLI speaks it: the identity
// challenge before registering or logging in, and every later request signed by the device key
// over its method, path, time, nonce and body hash (docs/PROTOCOL.md, Signed requests).

import { base64, concat, fromBase64, hex, randomBytes, utf8 } from './bytes.js';
import * as device from './device.js';
import * as identity from './identity.js';
import { rawSignature } from './ecdsa.js';
import { digest } from './sha256.js';

/** A refusal or failure of the key service, with its stable code and its sentence for the user. */
export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

/** A session lives in this object only: never in a cookie, never in Web Storage. */
export class KeyService {
  constructor() { this.session = null; this.device = null; this.serverKey = null; }

  async installation() {
    this.device ??= await device.installation();
    return this.device;
  }

  async call(method, path, body, headers = {}) {
    const bytes = body === undefined ? new Uint8Array(0) : utf8(JSON.stringify(body));
    let response;
    try {
      response = await fetch(path, {
        method, headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : bytes, cache: 'no-store', credentials: 'omit', redirect: 'error',
      });
    } catch {
      throw new ApiError(0, 'unreachable', 'the key service cannot be reached; check the connection and retry');
    }
    const text = await response.text();
    let answer = null;
    try { answer = text ? JSON.parse(text) : {}; } catch { /* not JSON: handled below */ }
    if (!response.ok) {
      const error = answer?.error;
      if (error && typeof error.code === 'string' && typeof error.message === 'string') throw new ApiError(response.status, error.code, error.message);
      throw new ApiError(response.status, 'unexpected', `the key service answered ${response.status}`);
    }
    if (answer === null || typeof answer !== 'object') throw new ApiError(response.status, 'unexpected', 'the key service answered something that is not JSON');
    return answer;
  }

  /**
   * The identity challenge: the key service signs 32 fresh random bytes with its identity key; the
   * key is pinned on first contact, and a changed key stops everything here.
   */
  async checkIdentity() {
    const challenge = randomBytes(32);
    const answer = await this.call('POST', '/v1/identity', { challenge: base64(challenge) });
    let spki, signature;
    try {
      spki = fromBase64(answer.serverKey);
      signature = rawSignature(fromBase64(answer.signature));
    } catch {
      throw new ApiError(0, 'identity', "the key service's identity answer is malformed");
    }
    const key = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const message = concat(utf8('coffer server challenge v1\n'), challenge);
    if (!await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, message)) {
      throw new ApiError(0, 'identity', 'the key service did not prove its identity: its signature over the challenge is wrong');
    }
    const fingerprint = await device.fingerprint(spki);
    const pinned = await device.pinnedServer();
    this.rotated = null;
    if (pinned === undefined) await device.pinServer(fingerprint);
    else if (pinned !== fingerprint && !identity.recentlyRetired(await device.retiredServers(), fingerprint, Date.now())) {
      // A rotation: taken only through statements that the pinned key signed.
      const path = await identity.rotationPath(pinned, fingerprint, answer.rotations ?? [], Date.now());
      if (path === null) {
        throw new ApiError(0, 'identity', `the key service's identity key changed (pinned ${pinned}, now ${fingerprint}) and no statement of the pinned key vouches for it; nothing was sent`);
      }
      await device.pinServer(fingerprint);
      await device.retireServers(path);
      this.rotated = { from: pinned, to: fingerprint, at: path[path.length - 1].from };
    }
    this.serverKey = spki;
    return fingerprint;
  }

  async register(user, password) {
    const me = await this.installation();
    await this.checkIdentity();
    return this.call('POST', '/v1/register', { user, password, clientID: me.clientID, deviceKey: device.deviceKeyText(me) });
  }

  async login(user, password) {
    const me = await this.installation();
    await this.checkIdentity();
    const answer = await this.call('POST', '/v1/login', { user, password, clientID: me.clientID, deviceKey: device.deviceKeyText(me) });
    if (typeof answer.token !== 'string') throw new ApiError(0, 'unexpected', 'the key service gave no session');
    this.session = { user, token: answer.token, expiresAt: answer.expiresAt };
    return this.session;
  }

  /** The headers that sign a request of `bytes` under the session with the device key. */
  async signature(method, path, bytes) {
    if (!this.session) throw new ApiError(401, 'unauthorized', 'log in first');
    const me = await this.installation();
    const time = String(Date.now());
    const nonce = hex(randomBytes(16));
    const bodyHash = hex(await digest(bytes));
    const message = utf8(`coffer request v1\n${method}\n${path}\n${time}\n${nonce}\n${bodyHash}`);
    const signature = base64(await device.sign(me, message));
    return { Authorization: `Bearer ${this.session.token}`, 'Coffer-Time': time, 'Coffer-Nonce': nonce, 'Coffer-Signature': signature };
  }

  /** A request under the session, signed by the device key. */
  async signed(method, path, body) {
    const bytes = body === undefined ? new Uint8Array(0) : utf8(JSON.stringify(body));
    const headers = await this.signature(method, path, bytes);
    try {
      return await this.call(method, path, body, headers);
    } catch (error) {
      if (error.status === 401) this.session = null;
      throw error;
    }
  }

  /**
   * A signed request whose body is not JSON (an upload's bytes, `blob`) or whose answer is not
   * (a download): the signature covers the path with its query and an empty body, as
   * docs/PROTOCOL.md says for central copies. Answers the `Response` of a success.
   */
  async signedRaw(method, path, blob) {
    const headers = await this.signature(method, path, new Uint8Array(0));
    let response;
    try {
      response = await fetch(path, {
        method, headers: { ...headers, ...(blob ? { 'Content-Type': 'application/octet-stream' } : {}) },
        body: blob ?? undefined, cache: 'no-store', credentials: 'omit', redirect: 'error',
      });
    } catch {
      throw new ApiError(0, 'unreachable', 'the key service cannot be reached; check the connection and retry');
    }
    if (!response.ok) {
      let error = null;
      try { error = (await response.json())?.error; } catch { /* not JSON */ }
      if (response.status === 401) this.session = null;
      if (error && typeof error.code === 'string' && typeof error.message === 'string') throw new ApiError(response.status, error.code, error.message);
      throw new ApiError(response.status, 'unexpected', `the key service answered ${response.status}`);
    }
    return response;
  }

  async logout(everywhere = false) {
    try { return await this.signed('POST', '/v1/logout', { everywhere }); } finally { this.session = null; }
  }
}
