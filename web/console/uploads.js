// Uploads from the browser straight to S3 with presigned URLs: a small file in one PUT,
// a large one in parts (multipart), which survives a reload: the upload id is kept in
// localStorage, and when the same file is chosen again only the parts S3 lacks are sent.

const MIB = 1024 * 1024;
/** Files from this size go in parts. */
export const MULTIPART_FROM = 10 * MIB;
/** Parts in flight at once. */
const PARALLEL_PARTS = 3;
const STORE_PREFIX = 'file-console:upload:';

/** The key a file's unfinished upload is kept under: same name, size and date, same file. */
function storeKey(api, file) {
  return `${STORE_PREFIX}${api.base || location.origin}|${file.name}|${file.size}|${file.lastModified}`;
}

/** Unfinished uploads this browser can resume (the file must be chosen again). */
export function pendingUploads(api) {
  const prefix = `${STORE_PREFIX}${api.base || location.origin}|`;
  const pending = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key?.startsWith(prefix)) continue;
    try {
      pending.push({ key, ...JSON.parse(localStorage.getItem(key)) });
    } catch {
      localStorage.removeItem(key);
    }
  }
  return pending.sort((a, b) => a.started - b.started);
}

/** Forgets an unfinished upload and asks the service to drop its parts. */
export async function discardPending(api, entry) {
  localStorage.removeItem(entry.key);
  try {
    await api.abort(entry.upload_id);
  } catch {
    // Already gone (completed, aborted or expired): nothing to drop.
  }
}

/** PUT `body` to a presigned URL, reporting bytes sent; resolves with the ETag. */
function put(url, body, headers, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) {
      // The browser sets Content-Length itself.
      if (name.toLowerCase() !== 'content-length') xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader('etag') ?? '');
      else reject(new Error(`storage answered ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error('the upload to storage failed (network)'));
    xhr.onabort = () => reject(new DOMException('cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/**
 * Uploads `file` and saves it: a new file, or a new version of `fileId`.
 * `onProgress(sent, total, note)` follows the bytes. Resolves with the saved entity.
 */
export async function uploadFile(api, file, { fileId, onProgress = () => {}, signal } = {}) {
  const mimeType = file.type || 'application/octet-stream';
  const s3ref = file.size >= MULTIPART_FROM
    ? await uploadInParts(api, file, mimeType, onProgress, signal)
    : await uploadWhole(api, file, mimeType, onProgress, signal);
  const fields = { s3ref, filename: file.name, mime_type: mimeType };
  if (fileId) fields._id = fileId;
  return api.save(fields, fileId ? { version_only: true } : undefined);
}

async function uploadWhole(api, file, mimeType, onProgress, signal) {
  const ticket = await api.presign({ filename: file.name, mime_type: mimeType, size_bytes: file.size });
  await put(ticket.upload_url, file, { 'content-type': mimeType }, (sent) => onProgress(sent, file.size), signal);
  onProgress(file.size, file.size);
  return ticket.s3ref;
}

/** The upload kept for this file, if the service still has it, with the parts S3 holds. */
async function resumable(api, key) {
  const kept = JSON.parse(localStorage.getItem(key) ?? 'null');
  if (!kept) return null;
  try {
    return await api.multipart(kept.upload_id);
  } catch {
    // Expired, aborted or completed elsewhere: start again.
    localStorage.removeItem(key);
    return null;
  }
}

async function uploadInParts(api, file, mimeType, onProgress, signal) {
  const key = storeKey(api, file);
  let session = await resumable(api, key);
  const done = new Map();
  if (session) {
    for (const part of session.parts) done.set(part.part_number, part.etag);
  } else {
    session = await api.startMultipart({ filename: file.name, mime_type: mimeType, size_bytes: file.size });
    localStorage.setItem(key, JSON.stringify({
      upload_id: session.upload_id,
      filename: file.name,
      size_bytes: file.size,
      part_count: session.part_count,
      started: Date.now(),
    }));
  }
  const { part_size: partSize, part_count: partCount } = session;
  const sizeOf = (n) => Math.min(partSize, file.size - (n - 1) * partSize);
  const inFlight = new Map();
  let held = 0;
  for (const n of done.keys()) held += sizeOf(n);
  const report = () => {
    let sent = held;
    for (const bytes of inFlight.values()) sent += bytes;
    onProgress(sent, file.size, `${done.size} of ${partCount} parts`);
  };
  report();
  const todo = [];
  for (let n = 1; n <= partCount; n++) if (!done.has(n)) todo.push(n);
  // A few workers take parts in order, each signing its part just before sending it
  // (a URL signed long before would expire during a slow upload).
  const worker = async () => {
    while (todo.length) {
      const { parts } = await api.signParts(session.upload_id, todo.splice(0, 1));
      for (const part of parts) {
        const start = (part.part_number - 1) * partSize;
        const blob = file.slice(start, start + part.size_bytes);
        inFlight.set(part.part_number, 0);
        const etag = await put(part.url, blob, part.headers ?? {}, (sent) => {
          inFlight.set(part.part_number, sent);
          report();
        }, signal);
        inFlight.delete(part.part_number);
        done.set(part.part_number, etag);
        held += sizeOf(part.part_number);
        report();
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_PARTS }, worker));
  const parts = [...done.entries()].sort((a, b) => a[0] - b[0]).map(([part_number, etag]) => ({ part_number, etag }));
  const { s3ref } = await api.complete(session.upload_id, parts);
  localStorage.removeItem(key);
  return s3ref;
}
