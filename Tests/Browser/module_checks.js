// Checks run inside the served page by Tests/Browser/browser_test.py (as an async WebDriver script):
// the module's HPKE against RFC 9180's vectors, its container reader against every format vector
// that swift-crypto made, its SHA-256 against NIST's vectors and Python's hashlib, and its identity
// rotation check against statements Python's cryptography signed.
// arguments[0]: {rfc, containers, digests, rotations}; the last argument is WebDriver's callback.
const [input, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const bytes = await import('/js/bytes.js');
  const hpke = await import('/js/hpke.js');
  const container = await import('/js/container.js');
  const { Sha256 } = await import('/js/sha256.js');
  const h = bytes.fromHex;
  const failures = [];
  const check = (what, ok) => { if (!ok) failures.push(what); };

  for (const v of input.rfc) {
    const skR = await hpke.importPrivate(h(v.skRm), h(v.pkRm));
    const shared = await hpke.decap(h(v.enc), skR, h(v.pkRm));
    check(`rfc shared secret ${v.index}`, bytes.hex(shared) === v.shared_secret);
    const schedule = await hpke.keySchedule(shared, h(v.info));
    check(`rfc key ${v.index}`, bytes.hex(schedule.key) === v.key && bytes.hex(schedule.baseNonce) === v.base_nonce);
    const e = v.encryptions[0];
    const opened = await hpke.open(h(v.enc), skR, h(v.pkRm), h(v.info), h(e.aad), h(e.ct));
    check(`rfc open ${v.index}`, bytes.hex(opened) === e.pt);
    const ephemeral = { privateKey: await hpke.importPrivate(h(v.skEm), h(v.pkEm)),
      publicKey: await crypto.subtle.importKey('raw', h(v.pkEm), { name: 'ECDH', namedCurve: 'P-256' }, true, []) };
    const sealed = await hpke.seal(h(v.pkRm), h(v.info), h(e.aad), h(e.pt), ephemeral);
    check(`rfc seal ${v.index}`, bytes.hex(sealed.enc) === v.enc && bytes.hex(sealed.ciphertext) === e.ct);
  }

  for (const v of input.containers) {
    const blob = new Blob([bytes.fromBase64(v.container)]);
    const header = await container.readHeader(blob);
    const keys = await container.unlock(header, h(v.decodeKey), h(v.decodePublic));
    check(`${v.name} header key`, bytes.hex(keys.headerBytes) === v.headerKey);
    check(`${v.name} payload key`, bytes.hex(keys.payloadBytes) === v.payloadKey);
    const sk = await hpke.importPrivate(h(v.decodeKey), h(v.decodePublic));
    check(`${v.name} shared secret`, bytes.hex(await hpke.decap(header.enc, sk, h(v.decodePublic))) === v.hpkeSharedSecret);
    const parts = [];
    const hasher = await Sha256.create();
    const length = await container.openPayload({ header, keys, blob, hasher, sink: { append: async (p) => parts.push(p) } });
    check(`${v.name} plaintext`, length === v.plaintextSize && hasher.hexDigest() === v.plaintextSHA256);
    // A byte flipped in the payload, the container cut by one byte, and one byte appended are refused.
    const refuses = async (candidate) => {
      try {
        const th = await container.readHeader(candidate);
        const tk = await container.unlock(th, h(v.decodeKey), h(v.decodePublic));
        await container.openPayload({ header: th, keys: tk, blob: candidate, hasher: await Sha256.create(), sink: { append: async () => {} } });
        return false;
      } catch (error) { return error instanceof container.ContainerError; }
    };
    const tampered = bytes.fromBase64(v.container);
    tampered[header.payloadOffset] ^= 1;
    check(`${v.name} tampered refused`, await refuses(new Blob([tampered])));
    check(`${v.name} truncated refused`, await refuses(blob.slice(0, blob.size - 1)));
    check(`${v.name} extended refused`, await refuses(new Blob([blob, new Uint8Array([0])])));
  }

  for (const d of input.digests) {
    const hasher = await Sha256.create();
    const data = d.repeat ? new TextEncoder().encode(d.text.repeat(d.repeat)) : d.random ? bytes.fromBase64(d.random) : new TextEncoder().encode(d.text);
    for (let at = 0; at < data.length; at += d.piece) hasher.update(data.subarray(at, at + d.piece));
    check(`sha256 ${d.name}`, hasher.hexDigest() === d.sha256);
  }
  const identity = await import('/js/identity.js');
  const now = Date.now();
  for (const r of input.rotations) {
    const path = await identity.rotationPath(r.pinned, r.presented, r.statements, now);
    check(`rotation: ${r.name}`, r.path === null ? path === null : path !== null && path.length === r.path && path[path.length - 1].next === r.presented);
  }
  check('rotation: more statements than any deployment makes', await identity.rotationPath('a', 'b', new Array(65).fill({}), now) === null);
  check('retired key within the clock skew', identity.recentlyRetired({ k: now - 1000 }, 'k', now));
  check('retired key past the clock skew', !identity.recentlyRetired({ k: now - identity.maxClockSkewMs - 1 }, 'k', now));
  check('a key never retired', !identity.recentlyRetired({}, 'k', now));
  done({ failures, counts: { rfc: input.rfc.length, containers: input.containers.length, digests: input.digests.length, rotations: input.rotations.length } });
})().catch((error) => done({ failures: [`threw: ${error} ${error.stack}`] }));
