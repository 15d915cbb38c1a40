// The web console: sign in with a token, upload, browse and manage the files of one
// organisation. Plain modules, no build step; everything goes through the File API.
import { Api, ApiError } from './api.js';
import { uploadFile, pendingUploads, discardPending } from './uploads.js';

const $ = (id) => document.getElementById(id);
const THUMB = 48;
const PREVIEWABLE = /^(image\/(jpeg|png|gif|webp)|application\/pdf)$/;

/** An element: `h('button', {type: 'button', onclick}, 'Text')`. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null));
  return el;
}

const state = {
  api: null,
  cursors: [''], // the cursor of each page seen; the last is the current page's
  next: null,
  filters: {},
  thumbs: [], // blob URLs to release when the list is redrawn
  trashNext: null, // the trash's next page
};

let quiet = 0;
function say(message, isError = false) {
  const status = $('status');
  status.textContent = message;
  status.classList.toggle('error', isError);
  status.setAttribute('role', isError ? 'alert' : 'status');
  // A note goes after a while; an error stays until the next message.
  clearTimeout(quiet);
  if (!isError) quiet = setTimeout(() => { status.textContent = ''; }, 6000);
}

function failed(error) {
  const text = error instanceof ApiError ? `${error.message} (${error.code})` : error.message;
  say(text, true);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const when = (iso) => (iso ? dateTime.format(new Date(iso)) : '');

// ---- Sign in -------------------------------------------------------------------------

/** A token and API URL from the address (`#token=…&api=…`), taken out of it at once. */
function fromAddress() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('token');
  if (!token) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return { token, api: hash.get('api') ?? '' };
}

async function signIn({ token, api }) {
  const client = new Api(api, token.trim());
  // The session cookie lets <img src> of previews carry the token (same origin only).
  if (client.sameOrigin) await client.startSession();
  else await client.usage();
  state.api = client;
  sessionStorage.setItem('file-console:token', client.token);
  localStorage.setItem('file-console:api', api);
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('sign-out').hidden = false;
  showPending();
  await Promise.all([refresh(), showUsage(), showTrash()]);
}

async function signOut() {
  try {
    if (state.api?.sameOrigin) await state.api.endSession();
  } catch {
    // The cookie expires with the token anyway.
  }
  sessionStorage.removeItem('file-console:token');
  state.api = null;
  $('app').hidden = true;
  $('sign-out').hidden = true;
  $('usage').textContent = '';
  $('sign-in').hidden = false;
  $('token').focus();
}

// ---- Usage ---------------------------------------------------------------------------

function readableBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

async function showUsage() {
  try {
    const u = await state.api.usage();
    const quota = u.quota_bytes ? ` of ${readableBytes(u.quota_bytes)}` : '';
    const trash = u.trashed_files ? `, ${u.trashed_files} in the trash (${readableBytes(u.trashed_bytes)})` : '';
    $('usage').textContent = `${u.files} files, ${u.versions} versions, ${readableBytes(u.bytes)}${trash}${quota}`;
  } catch (e) {
    failed(e);
  }
}

// ---- Uploads -------------------------------------------------------------------------

function showPending() {
  const list = $('pending-list');
  const pending = pendingUploads(state.api);
  list.replaceChildren(...pending.map((p) => h('li', {},
    h('span', { class: 'name' }, p.filename),
    h('span', { class: 'muted' }, `${readableBytes(p.size_bytes)}, ${p.part_count} parts, started ${when(new Date(p.started).toISOString())}`),
    h('button', {
      type: 'button',
      'aria-label': `Discard the unfinished upload of ${p.filename}`,
      onclick: async () => { await discardPending(state.api, p); showPending(); },
    }, 'Discard'))));
  $('pending').hidden = pending.length === 0;
}

/** One row of the upload list, with its own progress bar. */
function uploadRow(file) {
  const progress = h('progress', { max: file.size || 1, value: 0, 'aria-label': `Upload of ${file.name}` });
  const note = h('span', { class: 'muted' }, 'waiting');
  const row = h('li', { class: 'upload' }, h('span', { class: 'name' }, file.name), progress, note);
  $('uploads').prepend(row);
  return {
    progress(sent, total, detail) {
      progress.max = total || 1;
      progress.value = sent;
      const pct = total ? Math.floor((sent / total) * 100) : 100;
      note.textContent = `${pct}%${detail ? ` (${detail})` : ''}`;
    },
    done(entity) {
      progress.value = progress.max;
      note.textContent = 'saved';
      row.classList.add('done');
      row.dataset.fileId = entity._id;
    },
    failed(error) {
      note.textContent = `failed: ${error.message}`;
      row.classList.add('failed');
    },
  };
}

async function uploadAll(files, fileId) {
  const jobs = [...files].map(async (file) => {
    const row = uploadRow(file);
    try {
      const entity = await uploadFile(state.api, file, { fileId, onProgress: row.progress });
      row.done(entity);
      return entity;
    } catch (e) {
      row.failed(e);
      showPending();
      throw e;
    }
  });
  const results = await Promise.allSettled(jobs);
  const saved = results.filter((r) => r.status === 'fulfilled').length;
  say(`${saved} of ${results.length} uploaded`, saved < results.length);
  showPending();
  await Promise.all([refresh(true), showUsage()]);
  return results;
}

function setUpDropZone() {
  const drop = $('drop');
  const picker = $('picker');
  picker.addEventListener('change', () => {
    if (picker.files.length) uploadAll(picker.files);
    picker.value = '';
  });
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const type of ['dragleave', 'drop']) {
    drop.addEventListener(type, () => drop.classList.remove('over'));
  }
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer?.files.length) uploadAll(e.dataTransfer.files);
  });
}

// ---- The list ------------------------------------------------------------------------

function readFilters() {
  const form = new FormData($('filters'));
  const filters = {};
  for (const name of ['q', 'type', 'access_control', 'tag']) {
    const value = String(form.get(name) ?? '').trim();
    if (value) filters[name] = value;
  }
  return { filters, sort: form.get('sort'), order: form.get('order'), limit: form.get('limit') };
}

/** A thumbnail: the preview route with the session cookie, or fetched with the token
 *  where the API is another origin (the cookie does not reach it there). */
/** What a malware scan means for the user; nothing to say when clean or not scanned. */
const SCAN_LABELS = { pending: 'Scanning', infected: 'Infected', error: 'Not scannable' };

function scanLabel(status) {
  return { not_scanned: 'Not scanned', clean: 'Clean', ...SCAN_LABELS }[status] ?? status;
}

function scanBadge(status) {
  const label = SCAN_LABELS[status];
  return label ? h('span', { class: `badge scan-${status}`, 'data-scan': status }, label) : null;
}

function thumbnail(file) {
  const cell = h('span', { class: 'thumb', 'aria-hidden': 'true' }, file.type.slice(0, 3).toUpperCase());
  if (!PREVIEWABLE.test(file.mime_type) || file.status !== 'ready' || file.custom_download_url) return cell;
  // Bytes withheld by the malware scan have no preview either.
  if (SCAN_LABELS[file.scan_status]) return cell;
  const img = h('img', { alt: '', width: THUMB, height: THUMB, loading: 'lazy', decoding: 'async' });
  img.addEventListener('error', () => img.replaceWith(cell), { once: true });
  if (state.api.sameOrigin) {
    img.src = state.api.previewUrl(file._id, THUMB * 2);
  } else {
    state.api.previewBlob(file._id, THUMB * 2)
      .then((blob) => { const url = URL.createObjectURL(blob); state.thumbs.push(url); img.src = url; })
      .catch(() => img.replaceWith(cell));
  }
  return img;
}

function fileRow(file) {
  const open = h('button', { type: 'button', class: 'link', onclick: () => openDetails(file._id) }, file.filename);
  return h('tr', { 'data-file-id': file._id },
    h('td', {}, thumbnail(file)),
    h('td', { class: 'name' }, open, file.status !== 'ready' ? h('span', { class: 'badge' }, file.status) : null,
      scanBadge(file.scan_status)),
    h('td', { 'data-label': 'Type' }, file.type),
    h('td', { 'data-label': 'Size' }, file.readable_size),
    h('td', { 'data-label': 'Updated' }, when(file._updated_at)),
    h('td', { 'data-label': 'Access' }, file.access_control === 'public-read' ? 'Public' : 'Private'));
}

/** Draws the current page; `restart` goes back to the first. */
async function refresh(restart = false) {
  const { filters, sort, order, limit } = readFilters();
  if (restart) state.cursors = [''];
  state.filters = filters;
  const cursor = state.cursors[state.cursors.length - 1];
  try {
    const [page, { count }] = await Promise.all([
      state.api.list({ ...filters, sort, order, limit, cursor }),
      state.api.count(filters),
    ]);
    for (const url of state.thumbs.splice(0)) URL.revokeObjectURL(url);
    const rows = page.results.map(fileRow);
    $('file-rows').replaceChildren(...(rows.length ? rows
      : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No files match.'))]));
    state.next = page.next_cursor;
    const filtered = Object.keys(filters).length > 0;
    $('count').textContent = `${count} ${count === 1 ? 'file' : 'files'}${filtered ? ' match' : ''}`;
    const bulk = $('bulk-delete');
    bulk.hidden = count === 0;
    bulk.textContent = filtered ? `Delete the ${count} matching` : `Delete all ${count}`;
    $('prev').disabled = state.cursors.length <= 1;
    $('next').disabled = !state.next;
    $('page-label').textContent = `Page ${state.cursors.length}`;
  } catch (e) {
    failed(e);
  }
}

async function bulkDelete() {
  const filters = state.filters;
  const what = Object.keys(filters).length ? 'every file matching this search' : 'EVERY file of the organisation';
  if (!confirm(`Move ${what} to the trash?`)) return;
  let deleted = 0;
  try {
    for (;;) {
      const answer = await state.api.deleteMatching(filters);
      deleted += answer.deleted;
      if (!answer.more) break;
    }
    say(`${deleted} moved to the trash`);
  } catch (e) {
    failed(e);
  }
  await Promise.all([refresh(true), showUsage(), showTrash()]);
}

// ---- The trash -----------------------------------------------------------------------

function trashRow(file) {
  const name = file.filename;
  const act = (label, run, danger) => h('button', {
    type: 'button',
    class: danger ? 'danger' : undefined,
    'aria-label': `${label} ${name}`,
    onclick: async (e) => {
      e.currentTarget.disabled = true;
      try {
        if ((await run()) === false) return;
        await Promise.all([refresh(), showUsage(), showTrash()]);
      } catch (err) {
        failed(err);
        await showTrash();
      }
    },
  }, label);
  return h('tr', { 'data-file-id': file._id },
    h('td', { class: 'name' }, name),
    h('td', { 'data-label': 'Size' }, file.readable_size),
    h('td', { 'data-label': 'Deleted' }, when(file.deleted_at)),
    h('td', { 'data-label': 'Purged' }, when(file.purge_at)),
    h('td', { class: 'actions' },
      act('Restore', async () => { await state.api.restoreFile(file._id); say(`${name} restored`); }),
      act('Delete for good', async () => {
        if (!confirm(`Delete ${name} for good? This cannot be undone.`)) return false;
        await state.api.purge(file._id);
        say(`${name} deleted for good`);
      }, true)));
}

/** Draws the trash, newest deletion first; `more` adds its next page. */
async function showTrash(more = false) {
  try {
    const cursor = more ? state.trashNext : undefined;
    const [page, { count }] = await Promise.all([
      state.api.trash({ limit: 25, cursor }),
      state.api.trashCount(),
    ]);
    const rows = page.results.map(trashRow);
    if (more) $('trash-rows').append(...rows);
    else {
      $('trash-rows').replaceChildren(...(rows.length ? rows
        : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'The trash is empty.'))]));
    }
    state.trashNext = page.next_cursor;
    $('trash-more').hidden = !page.next_cursor;
    $('trash-count').textContent = `${count} ${count === 1 ? 'file' : 'files'} in the trash`;
  } catch (e) {
    failed(e);
  }
}

// ---- One file ------------------------------------------------------------------------

function section(title, ...content) {
  return h('section', { class: 'detail-section' }, h('h3', {}, title), ...content);
}

function definitionList(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

async function startDownload(id, version = 0) {
  try {
    const { download_url: url } = await state.api.download(id, version);
    // The presigned URL answers with Content-Disposition: attachment.
    const a = h('a', { href: url, download: '' });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) {
    failed(e);
  }
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    say('Link copied');
  } catch {
    // No clipboard permission (an insecure origin): select it for the user instead.
    say('Copy the link from the list');
  }
}

async function openDetails(id) {
  const dialog = $('details');
  try {
    const [file, links] = await Promise.all([state.api.get(id), state.api.links(id)]);
    renderDetails(file, links.results);
    if (!dialog.open) dialog.showModal();
  } catch (e) {
    failed(e);
  }
}

/** Runs an action of the details dialog, then redraws it (or closes it when gone). */
function action(label, run, { danger, gone } = {}) {
  return h('button', {
    type: 'button',
    class: danger ? 'danger' : undefined,
    onclick: async (e) => {
      const button = e.currentTarget;
      button.disabled = true;
      try {
        const id = await run();
        if (id === false) return; // the user said no
        if (gone) $('details').close();
        else if (id) await openDetails(id);
        await Promise.all([refresh(), showUsage(), gone ? showTrash() : null]);
      } catch (err) {
        failed(err);
      } finally {
        button.disabled = false;
      }
    },
  }, label);
}

function renderDetails(file, links) {
  $('details-title').textContent = file.filename;
  const latest = file.versions[file.versions.length - 1];
  const isPublic = file.access_control === 'public-read';
  const versionInput = h('input', { id: 'new-version', type: 'file', class: 'visually-hidden' });
  versionInput.addEventListener('change', async () => {
    if (!versionInput.files.length) return;
    const results = await uploadAll(versionInput.files, file._id);
    if (results[0]?.status === 'fulfilled') await openDetails(file._id);
  });
  const metadata = Object.entries(latest?.metadata ?? {});
  const count = file.versions.length;
  const versionRows = file.versions.map((v, i) => {
    const n = i + 1;
    return h('tr', {},
      h('td', {}, `${n}${n === count ? ' (latest)' : ''}`),
      h('td', {}, v.filename),
      h('td', {}, v.readable_size),
      h('td', {}, when(v.uploaded_at ?? v.created_at)),
      h('td', { 'data-label': 'Scan', title: v.scan_verdict ?? '' }, scanLabel(v.scan_status)),
      h('td', { class: 'actions' },
        h('button', { type: 'button', onclick: () => startDownload(file._id, n), 'aria-label': `Download version ${n}` }, 'Download'),
        n < count ? action('Restore', async () => { await state.api.restore(file._id, n); say(`Version ${n} restored`); return file._id; }) : null,
        count > 1 ? action('Delete', async () => {
          if (!confirm(`Delete version ${n}?`)) return false;
          await state.api.deleteVersion(file._id, n);
          say(`Version ${n} deleted`);
          return file._id;
        }, { danger: true }) : null));
  });
  $('details-body').replaceChildren(
    h('div', { class: 'detail-actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => startDownload(file._id) }, 'Download'),
      versionInput, h('label', { class: 'button', for: 'new-version' }, 'Upload new version'),
      action(isPublic ? 'Make private' : 'Make public', async () => {
        await state.api.save({ _id: file._id, access_control: isPublic ? 'private' : 'public-read' });
        say(isPublic ? 'Now private' : 'Now public');
        return file._id;
      }),
      action('Delete file', async () => {
        if (!confirm(`Move ${file.filename} to the trash?`)) return false;
        await state.api.remove(file._id);
        say(`${file.filename} moved to the trash`);
      }, { danger: true, gone: true })),
    section('Details', definitionList([
      ['Id', h('code', {}, file._id)],
      ['Type', `${file.type} (${file.mime_type})`],
      ['Size', `${file.readable_size} (${file.size_bytes} bytes)`],
      ['Access', isPublic ? 'Public' : 'Private'],
      ['Malware scan', latest ? `${scanLabel(latest.scan_status)}${latest.scan_verdict ? ` (${latest.scan_verdict})` : ''}` : null],
      ['Public URL', isPublic ? h('a', { href: file.public_url, target: '_blank', rel: 'noopener' }, file.public_url) : null],
      ['Created', when(file._created_at)],
      ['Updated', when(file._updated_at)],
      ['Expires', file.expires_at ? when(file.expires_at) : null],
      ['SHA-256', file.checksum_sha256 ? h('code', {}, file.checksum_sha256) : null],
      ['MD5', latest?.md5 ? h('code', {}, latest.md5) : null],
      ['Uploaded by', latest?.uploaded_by],
      ['Tags', file._tags?.length ? file._tags.join(', ') : null],
      ['External URL', file.custom_download_url],
    ])),
    metadata.length ? section('Metadata', definitionList(metadata)) : null,
    section(`Versions (${count})`, h('div', { class: 'scroll' }, h('table', { class: 'versions' },
      h('thead', {}, h('tr', {}, ...['#', 'Name', 'Size', 'Uploaded', 'Scan', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, versionRows)))),
    section('Public links',
      h('p', { class: 'hint' }, 'Anyone with a link can download the latest version, until it is revoked.'),
      h('ul', { class: 'links', 'aria-label': 'Public links' }, links.map((l) => h('li', { 'data-link-id': l.id },
        h('input', { type: 'text', readonly: true, value: l.link, 'aria-label': 'Public link', onfocus: (e) => e.target.select() }),
        h('span', { class: 'muted' }, l.last_accessed_at ? `opened ${when(l.last_accessed_at)}` : 'never opened'),
        h('button', { type: 'button', onclick: () => copy(l.link) }, 'Copy'),
        action('Revoke', async () => { await state.api.revokeLink(l.id); say('Link revoked'); return file._id; }, { danger: true })))),
      action('Create link', async () => { await state.api.createLink(file._id); say('Link created'); return file._id; })),
  );
}

// ---- Start ---------------------------------------------------------------------------

function start() {
  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const error = $('sign-in-error');
    error.textContent = '';
    try {
      await signIn({ token: $('token').value, api: $('api-url').value.trim() });
      $('token').value = '';
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? 'This token was not accepted (expired, or not for this API).'
        : `Could not sign in: ${err.message}`;
    }
  });
  $('sign-out').addEventListener('click', signOut);
  $('filters').addEventListener('submit', (e) => { e.preventDefault(); refresh(true); });
  for (const id of ['type', 'access', 'sort', 'order', 'limit']) $(id).addEventListener('change', () => refresh(true));
  $('next').addEventListener('click', () => { if (state.next) { state.cursors.push(state.next); refresh(); } });
  $('prev').addEventListener('click', () => { if (state.cursors.length > 1) { state.cursors.pop(); refresh(); } });
  $('bulk-delete').addEventListener('click', bulkDelete);
  $('trash-refresh').addEventListener('click', () => showTrash());
  $('trash-more').addEventListener('click', () => showTrash(true));
  $('details-close').addEventListener('click', () => $('details').close());
  setUpDropZone();

  $('api-url').value = localStorage.getItem('file-console:api') ?? '';
  const given = fromAddress();
  const kept = sessionStorage.getItem('file-console:token');
  const credentials = given ?? (kept ? { token: kept, api: $('api-url').value } : null);
  if (!credentials) {
    $('sign-in').hidden = false;
    return;
  }
  signIn(credentials).catch((e) => {
    $('sign-in').hidden = false;
    $('sign-in-error').textContent = `Could not sign in: ${e.message}`;
  });
}

start();
