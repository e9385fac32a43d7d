// SAVE and RETRIEVE as `coffer save` and `coffer retrieve` do them (docs/PROTOCOL.md): the plaintext
// and the decode key never leave this page; the key service sees hashes, names and receipts.

import { fromBase64, hex, uuidBytes, uuidText, utf8 } from './bytes.js';
import { downloadCentral, pushCentral } from './central.js';
import { ContainerError, openPayload, readHeader, seal, unlock } from './container.js';
import { checkAnswer, checkBinding, isValidFileName, parseReceipt } from './receipt.js';
import { scratch } from './scratch.js';
import { Sha256, digest } from './sha256.js';

const sha256Hex = async (bytes) => hex(await digest(bytes));
const newID = () => crypto.randomUUID();

/** The receipt as the container carries it: JSON with sorted keys. */
function receiptBytes(receipt) {
  const sorted = Object.fromEntries(Object.keys(receipt).sort().map((k) => [k, receipt[k]]));
  return utf8(JSON.stringify(sorted));
}

function encodeKeyOf(text) {
  const key = fromBase64(text);
  if (key.length !== 65 || key[0] !== 4) throw new ContainerError('foreign', 'the key service gave an encode key that is not a P-256 point');
  return key;
}

/**
 * Seals `file` into a container: one pass (hash while sealing), then the save, then the header.
 * Returns `{container (scratch file), receipt}`.
 */
export async function saveFile(service, file, { progress, signal }) {
  if (!isValidFileName(file.name)) {
    throw new ContainerError('format', 'this file name cannot be saved: it is empty, too long, or holds / or a character that does not print as itself');
  }
  const me = await service.installation();
  const sink = await scratch(`${newID()}.coffer`);
  try {
    const requestID = newID();
    let receipt;
    await seal({
      source: file, hasher: await Sha256.create(), sink, progress, signal,
      ask: async (sha256, size) => {
        const answer = await service.signed('POST', '/v1/save', { fileName: file.name, sha256, size, requestID });
        const encodeKey = encodeKeyOf(answer.encodeKey);
        receipt = parseReceipt(answer.receipt);
        checkAnswer(receipt, { recordID: answer.recordID, fileName: file.name, sha256, size, owner: service.session.user,
          clientID: me.clientID, encodeKeyID: await sha256Hex(encodeKey) });
        return { recordID: uuidBytes(answer.recordID), encodeKey, receipt: receiptBytes(receipt) };
      },
    });
    await sink.close();
    return { container: sink, receipt };
  } catch (error) {
    await sink.discard();
    throw error;
  }
}

/** Reads a container's header and receipt and checks they belong together; asks nothing. */
export async function inspect(containerFile) {
  const header = await readHeader(containerFile);
  let receipt;
  try {
    receipt = parseReceipt(header.receipt);
    checkBinding(receipt, header);
  } catch (error) {
    throw new ContainerError('tampered', `the container was altered: ${error.message}`);
  }
  return { header, receipt };
}

/** Uploads a saved container as its record's central copy. Answers the copy. */
export async function keepCentral(service, container, receipt, options) {
  return pushCentral(service, receipt.recordID, receipt.token, await container.file(), options);
}

/**
 * Downloads a record's central copy, checks it, opens it and re-seals it: the re-sealed container
 * replaces the central copy, so only the plaintext is for the user to download. Returns what
 * ``retrieveFile`` does.
 */
export async function retrieveCentral(service, recordID, options) {
  const downloaded = await downloadCentral(service, recordID, options);
  try {
    const result = await retrieveFile(service, await downloaded.file(), options);
    if (result.container && result.centralReplaced) {
      await result.container.discard();
      result.container = null;
    }
    return result;
  } finally {
    await downloaded.discard();
  }
}

/**
 * Opens a container and re-seals it under the fresh key pair the release offers: the plaintext
 * (checked against the receipt's hash) and the new container, which the key service is told of
 * only once it is written. A record with a central copy is confirmed by uploading the new container
 * as that copy, in one commit on the service (docs/PROTOCOL.md); if that upload fails, the re-seal
 * waits and both copies still open. Returns `{plaintext, container, receipt, resealed,
 * centralReplaced, problem}`.
 */
export async function retrieveFile(service, containerFile, { progress, signal }) {
  const { header, receipt } = await inspect(containerFile);
  const answer = await service.signed('POST', '/v1/retrieve', {
    recordID: receipt.recordID, fileName: receipt.fileName, token: receipt.token, sha256: receipt.sha256, size: receipt.size,
  });
  let decodeKey, decodePublic;
  try {
    decodeKey = fromBase64(answer.decodeKey);
    decodePublic = fromBase64(answer.decodePublicKey);
  } catch {
    throw new ContainerError('foreign', 'the key service released no decode key this module can use');
  }
  const keys = await unlock(header, decodeKey, decodePublic);
  decodeKey.fill(0);
  const plaintext = await scratch(`${newID()}.plain`);
  try {
    const hasher = await Sha256.create();
    const half = (done, total) => progress?.(done / 2, total);
    const length = await openPayload({ header, keys, blob: containerFile, sink: plaintext, hasher, progress: half, signal });
    if (length !== receipt.size || hasher.hexDigest() !== receipt.sha256) {
      throw new ContainerError('tampered', "the opened file's SHA-256 or size is not the receipt's: the container was altered");
    }
    await plaintext.close();
  } catch (error) {
    await plaintext.discard();
    throw error;
  }
  if (!answer.reseal) return { plaintext, container: null, receipt, resealed: false, centralReplaced: false };
  const container = await reseal(service, { header, receipt, offer: answer.reseal, plaintext, progress, signal, central: answer.central === true });
  return { plaintext, container: container.sink, receipt: container.receipt, resealed: true, centralReplaced: container.centralReplaced, problem: container.problem };
}

async function reseal(service, { header, receipt, offer, plaintext, progress, signal, central }) {
  const encodeKey = encodeKeyOf(offer.encodeKey);
  const next = parseReceipt(offer.receipt);
  checkAnswer(next, { recordID: receipt.recordID, fileName: receipt.fileName, sha256: receipt.sha256, size: receipt.size,
    encodeKeyID: await sha256Hex(encodeKey) });
  const sink = await scratch(`${newID()}.coffer`);
  try {
    const source = await plaintext.file();
    const half = (done, total) => progress?.(total / 2 + done / 2, total);
    const sealed = await seal({
      source, hasher: await Sha256.create(), sink, progress: half, signal,
      ask: async () => ({ recordID: header.recordID, encodeKey, receipt: receiptBytes(next) }),
    });
    if (sealed.sha256 !== receipt.sha256) throw new ContainerError('tampered', 'the opened file changed before it was re-sealed');
    await sink.close();
  } catch (error) {
    await sink.discard();
    throw error;
  }
  // The new container is written: only now may the old decode key be destroyed.
  if (!central) {
    await service.signed('POST', '/v1/reseal', { recordID: uuidText(header.recordID), token: next.token });
    return { sink, receipt: next, centralReplaced: false };
  }
  try {
    await pushCentral(service, uuidText(header.recordID), next.token, await sink.file(), { signal });
    return { sink, receipt: next, centralReplaced: true };
  } catch (error) {
    // The re-seal waits: the central copy keeps its key, and the new container confirms it when next opened.
    return { sink, receipt: next, centralReplaced: false, problem: `the re-sealed container could not replace the central copy (${error.message}); the central copy keeps its current key` };
  }
}
