// Files the module writes: in the origin-private file system (OPFS), streamed to disk chunk by
// chunk so memory stays flat, and handed to the user as a download of the finished file. A file
// that is not finished is removed, so a cancel or a failure leaves nothing half-written.

const FOLDER = 'coffer';

async function folder() {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(FOLDER, { create: true });
}

/** A new scratch file `name`: `write(position, bytes)`, `append(bytes)`, `close()`, `discard()`, `file()`. */
export async function scratch(name) {
  const dir = await folder();
  const handle = await dir.getFileHandle(name, { create: true });
  const writable = await handle.createWritable({ keepExistingData: false });
  let open = true;
  return {
    name,
    write: (position, data) => writable.write({ type: 'write', position, data }),
    append: (data) => writable.write(data),
    async close() { await writable.close(); open = false; },
    async discard() {
      if (open) { try { await writable.abort(); } catch { /* already closed */ } open = false; }
      await dir.removeEntry(name).catch(() => {});
    },
    file: () => handle.getFile(),
  };
}

/** Removes scratch files left by a page that was closed mid-way, keeping those named in `keep`. */
export async function sweep(keep = new Set()) {
  const dir = await folder();
  for await (const name of dir.keys()) {
    if (!keep.has(name)) await dir.removeEntry(name).catch(() => {});
  }
}

/** Offers a finished scratch file as a download named `downloadName`. */
export async function download(file, downloadName) {
  const url = URL.createObjectURL(await file.file());
  const link = document.createElement('a');
  link.href = url;
  link.download = downloadName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
