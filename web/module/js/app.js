// The page: the patent's toolbar with SAVE and RETRIEVE, sign-in, the list of records with their
// history, progress with a cancel button, and one clear message per failure.

import { ApiError, KeyService } from './api.js';
import { AuditError, verifyHistory } from './audit.js';
import { ContainerError } from './container.js';
import { inspect, keepCentral, retrieveCentral, retrieveFile, saveFile } from './flows.js';
import { printable } from './receipt.js';
import { download, sweep } from './scratch.js';

const service = new KeyService();
const $ = (id) => document.getElementById(id);
let work = null;

/** One sentence per failure, as docs/PROTOCOL.md names them. */
export function explain(error) {
  if (error?.name === 'AbortError') return 'Cancelled; nothing was written.';
  if (error instanceof AuditError) return error.message;
  if (error instanceof ContainerError) {
    if (error.kind === 'foreign') return `This container is not one of yours or not of this key service: ${error.message}.`;
    if (error.kind === 'tampered') return `Refused: ${error.message}. Nothing was written.`;
    return `Refused: ${error.message}.`;
  }
  if (error instanceof ApiError) {
    switch (error.code) {
      case 'login_failed': return 'Wrong user name or password.';
      case 'unauthorized': case 'session_ended': case 'stale':
        return 'Your session expired or was ended; log in again.';
      case 'busy': case 'unavailable': return `The key service is busy or unavailable; retry in a moment. (${error.message})`;
      case 'unreachable': return 'The key service cannot be reached; check the connection and retry.';
      case 'audit_unavailable': return 'The audit history cannot be written just now, so nothing was done; retry later.';
      case 'not_found': return 'The key service has no such record of yours: the container may be another user\'s.';
      default: return error.message;
    }
  }
  return `Something went wrong: ${error?.message ?? error}`;
}

function say(text, kind = '') {
  const message = $('message');
  message.textContent = text;
  message.className = `message ${kind}`;
}

function signedIn(yes) {
  $('account').hidden = yes;
  $('vault').hidden = !yes;
  $('logout').hidden = !yes;
  $('save').disabled = !yes;
  $('retrieve').disabled = !yes;
  $('who').textContent = yes ? `Signed in as ${service.session.user}` : '';
  document.body.dataset.state = yes ? 'signed-in' : 'signed-out';
}

async function account(action) {
  const user = $('user').value.trim();
  const password = $('password').value;
  if (!$('account-form').reportValidity()) return;
  try {
    if (action === 'register') {
      await service.register(user, password);
      say(`Registered ${user}. Logging in…`, 'ok');
    }
    await service.login(user, password);
    $('password').value = '';
    signedIn(true);
    const rotated = service.rotated
      ? ` The key service rotated its identity key to ${service.rotated.to}, vouched for by the key pinned before; the new key is pinned.`
      : '';
    say(`Logged in as ${user}.${rotated}`, 'ok');
    await refresh();
  } catch (error) {
    failed(error);
  }
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401 && service.session === null) { signedIn(false); forget(); }
  say(explain(error), 'error');
  document.body.dataset.lastError = error instanceof DOMException ? error.name : error?.code ?? error?.kind ?? error?.name ?? 'error';
}

/** Runs one long operation with the progress bar and the cancel button. */
async function withProgress(label, operation) {
  if (work) { say('Wait for the current file to finish, or cancel it.', 'error'); return; }
  const controller = new AbortController();
  work = controller;
  $('work').hidden = false;
  $('work-label').textContent = label;
  $('progress').value = 0;
  document.body.dataset.busy = 'yes';
  try {
    return await operation({ signal: controller.signal, progress: (done, total) => { $('progress').value = total ? done / total : 1; } });
  } finally {
    work = null;
    $('work').hidden = true;
    delete document.body.dataset.busy;
  }
}

function finished(label, scratchFile, downloadName) {
  const item = document.createElement('li');
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = `Download ${printable(downloadName)}`;
  button.dataset.scratch = scratchFile.name;
  button.addEventListener('click', () => download(scratchFile, downloadName));
  item.append(`${label}: `, button);
  $('downloads').prepend(item);
  download(scratchFile, downloadName);
}

async function save(files) {
  for (const file of files) {
    try {
      const central = $('central').checked;
      const result = await withProgress(`Saving ${printable(file.name)}`, async (options) => {
        const saved = await saveFile(service, file, options);
        if (!central) return saved;
        try {
          return { ...saved, central: await keepCentral(service, saved.container, saved.receipt, options) };
        } catch (error) {
          return { ...saved, centralProblem: explain(error) };
        }
      });
      if (!result) return;
      finished('Saved', result.container, `${file.name}.coffer`);
      const kept = result.central ? ` Its central copy is kept by the key service (generation ${result.central.generation}).` : '';
      if (result.centralProblem) {
        say(`Saved ${printable(file.name)}, but its central copy was not kept: ${result.centralProblem} Keep the container.`, 'error');
      } else {
        say(`Saved ${printable(file.name)}: receipt time-stamped ${new Date(result.receipt.time).toLocaleString()}.${kept}`, 'ok');
      }
      document.body.dataset.lastDone = `saved:${result.receipt.recordID}${result.central ? ':central' : ''}`;
    } catch (error) {
      failed(error);
      return;
    }
  }
  await refresh();
}

async function retrieve(files) {
  for (const file of files) {
    try {
      const result = await withProgress(`Retrieving ${printable(file.name)}`, (options) => retrieveFile(service, file, options));
      if (!result) return;
      opened(result, file.name);
    } catch (error) {
      failed(error);
      return;
    }
  }
  await refresh();
}

/** Offers what a retrieve opened and says what became of the container and its central copy. */
function opened(result, containerName) {
  finished('Opened', result.plaintext, result.receipt.fileName);
  if (result.container) finished('Re-sealed container (replaces the one you opened)', result.container, containerName);
  const central = result.centralReplaced ? ' The central copy was replaced by the re-sealed container.' : '';
  if (result.problem) {
    say(`Opened ${printable(result.receipt.fileName)}, but ${result.problem}. Keep the new container.`, 'error');
  } else if (result.resealed) {
    say(`Opened ${printable(result.receipt.fileName)} and re-sealed it under a fresh key: ${result.container ? 'keep the new container; the old one no longer opens.' : 'nothing else to keep.'}${central}`, 'ok');
  } else {
    say(`Opened ${printable(result.receipt.fileName)}; the key service could not offer a re-seal, so the container you have stays current.`, 'ok');
  }
  document.body.dataset.lastDone = `retrieved:${result.receipt.recordID}${result.centralReplaced ? ':central' : ''}`;
}

/** RETRIEVE from the record's central copy: download, check, open, re-seal, replace the copy. */
async function retrieveFromCentral(record) {
  try {
    const result = await withProgress(`Retrieving the central copy of ${printable(record.fileName)}`,
      (options) => retrieveCentral(service, record.recordID, options));
    if (!result) return;
    opened(result, `${record.fileName}.coffer`);
  } catch (error) {
    failed(error);
    return;
  }
  await refresh();
}

function cell(row, label, content) {
  const td = row.insertCell();
  td.dataset.label = label;
  if (content instanceof Node) td.append(content); else td.textContent = content;
  return td;
}

function sizeText(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

async function refresh() {
  if (!service.session) return;
  try {
    const answer = await service.signed('GET', '/v1/records');
    const body = $('records').tBodies[0];
    body.replaceChildren();
    for (const record of answer.records ?? []) {
      const row = body.insertRow();
      row.dataset.record = record.recordID;
      cell(row, 'File', printable(record.fileName)).className = 'name';
      cell(row, 'Saved', new Date(record.created).toLocaleString());
      cell(row, 'Size', sizeText(record.size) + (record.central ? ` · central copy g${record.central.generation}` : ''));
      cell(row, 'Receipt time', new Date(record.resealed ?? record.created).toLocaleString());
      cell(row, 'Audit', record.deleted ? 'key destroyed' : 'not checked').className = 'audit';
      const actions = document.createElement('div');
      actions.className = 'actions';
      const history = document.createElement('button');
      history.type = 'button';
      history.textContent = 'History';
      history.setAttribute('aria-label', `History of ${printable(record.fileName)}`);
      history.addEventListener('click', () => showHistory(record));
      const verify = document.createElement('button');
      verify.type = 'button';
      verify.textContent = 'Verify';
      verify.setAttribute('aria-label', `Verify the history of ${printable(record.fileName)} against the signed audit log`);
      verify.addEventListener('click', () => verifyRecord(record, row));
      actions.append(history, verify);
      if (record.central && !record.deleted) {
        const central = document.createElement('button');
        central.type = 'button';
        central.textContent = 'Retrieve';
        central.setAttribute('aria-label', `Retrieve ${printable(record.fileName)} from its central copy`);
        central.addEventListener('click', () => retrieveFromCentral(record));
        actions.append(central);
      }
      if (!record.deleted) {
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = 'Delete';
        remove.setAttribute('aria-label', `Delete ${printable(record.fileName)} for good (pick its container)`);
        remove.addEventListener('click', () => deleteRecord(record));
        actions.append(remove);
      }
      cell(row, 'Actions', actions);
    }
  } catch (error) {
    failed(error);
  }
}

/** Shows `lines` (one per event: `{time, kind, clientID, source, suffix}`) under `title`. */
async function listHistory(title, lines) {
  const me = await service.installation();
  const list = $('history-list');
  list.replaceChildren();
  for (const line of lines) {
    const item = document.createElement('li');
    const who = line.clientID === me.clientID ? 'this browser' : line.clientID ? `installation ${line.clientID}` : 'the key service';
    item.textContent = `${line.prefix}${new Date(line.time).toLocaleString()} — ${line.kind} by ${who} from ${printable(line.source)}${line.suffix}`;
    list.append(item);
  }
  $('history-title').textContent = title;
  $('history').hidden = false;
}

async function showHistory(record) {
  try {
    const answer = await service.signed('GET', `/v1/records/${record.recordID}/history`);
    await listHistory(`History of ${printable(record.fileName)}`, (answer.events ?? []).map((event) => ({
      ...event, prefix: '', suffix: event.detail ? ` (${printable(event.detail)})` : '',
    })));
  } catch (error) {
    failed(error);
  }
}

/** Proves the record's history against the audit log's signed checkpoint, as `coffer history --verify`. */
async function verifyRecord(record, row) {
  const status = row.querySelector('td.audit');
  status.textContent = 'checking…';
  status.classList.remove('verified', 'unverified');
  try {
    const report = await verifyHistory(service, record.recordID);
    status.textContent = `verified: ${report.events.length} entries in checkpoint ${report.treeSize}` + (report.newer ? ` (${report.newer} newer)` : '');
    status.classList.add('verified');
    await listHistory(`Verified history of ${printable(record.fileName)}`, report.events.map((leaf) => ({
      ...leaf, time: leaf.timeMs, prefix: `#${leaf.index} `, suffix: ' (proved)',
    })));
    document.body.dataset.lastDone = `verified:${record.recordID}`;
  } catch (error) {
    status.textContent = 'not verified';
    status.classList.add('unverified');
    failed(error);
  }
}

/** Delete needs the record's current container: the key service takes its receipt's token. */
let deleting = null;

function deleteRecord(record) {
  deleting = record;
  $('delete-input').click();
}

async function deleteWith(file) {
  const record = deleting;
  deleting = null;
  if (!record || !file) return;
  try {
    const { receipt } = await inspect(file);
    if (receipt.recordID !== record.recordID) {
      say(`That container is not the one of ${printable(record.fileName)}; nothing was deleted.`, 'error');
      return;
    }
    if (!confirm(`Destroy the key of ${printable(record.fileName)}? No copy of its container will ever open again.`)) return;
    await service.signed('POST', '/v1/delete', { recordID: record.recordID, token: receipt.token });
    say(`Deleted ${printable(record.fileName)}: its key is destroyed.`, 'ok');
    document.body.dataset.lastDone = `deleted:${record.recordID}`;
    await refresh();
  } catch (error) {
    failed(error);
  }
}

/** What the page shows of one user goes when they sign out. */
function forget() {
  $('downloads').replaceChildren();
  $('records').tBodies[0].replaceChildren();
  $('history-list').replaceChildren();
  $('history').hidden = true;
  sweep().catch(() => {});
}

function start() {
  sweep().catch(() => {});
  $('account-form').addEventListener('submit', (event) => { event.preventDefault(); account('login'); });
  $('register').addEventListener('click', () => account('register'));
  $('logout').addEventListener('click', async () => {
    try { await service.logout(); say('Logged out.', 'ok'); } catch (error) { say(`Logged out here; ${explain(error)}`, 'error'); }
    signedIn(false);
    forget();
  });
  $('delete-input').addEventListener('change', (event) => { const file = event.target.files[0]; event.target.value = ''; deleteWith(file); });
  $('save').addEventListener('click', () => $('save-input').click());
  $('retrieve').addEventListener('click', () => $('retrieve-input').click());
  $('save-input').addEventListener('change', (event) => { const files = [...event.target.files]; event.target.value = ''; save(files); });
  $('retrieve-input').addEventListener('change', (event) => { const files = [...event.target.files]; event.target.value = ''; retrieve(files); });
  $('cancel').addEventListener('click', () => work?.abort());
  $('refresh').addEventListener('click', refresh);
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const files = [...event.dataTransfer.files];
    const containers = files.filter((f) => f.name.endsWith('.coffer'));
    const plain = files.filter((f) => !f.name.endsWith('.coffer'));
    (async () => { if (plain.length) await save(plain); if (containers.length) await retrieve(containers); })();
  });
  drop.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); $('save-input').click(); } });
  signedIn(false);
  document.body.dataset.ready = 'yes';
}

start();
