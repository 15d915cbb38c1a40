// Uppy in headless Chromium against the file service (FILES_API_URL, FILES_TOKEN):
// a 64 MiB file uploaded in parts and saved; then an upload cut off after a few parts
// and retried, which must not send again the parts S3 already holds.
// Run by tests/uppy.rs; prints one JSON line of results, exits non-zero on failure.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const apiUrl = process.env.FILES_API_URL;
const token = process.env.FILES_TOKEN;
assert.ok(apiUrl && token, 'FILES_API_URL and FILES_TOKEN are required');
const MIB = 1024 * 1024;

// The example page and its bundle, from their own origin (as an app would serve them).
const types = { '.html': 'text/html', '.js': 'text/javascript' };
const server = http.createServer((req, res) => {
  const file = path.join(root, new URL(req.url, 'http://x').pathname);
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'uppy-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const failures = [];
try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`page: ${e.message}`));
  page.on('requestfailed', (r) => failures.push(`request failed: ${r.method()} ${r.url().slice(0, 400)} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) failures.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url().slice(0, 120)}`); });
  // Every part PUT S3 accepted, by part number and upload.
  const accepted = [];
  const listings = [];
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (r.request().method() === 'PUT' && url.searchParams.has('partNumber') && r.status() === 200) {
      accepted.push(`${url.searchParams.get('uploadId')}#${url.searchParams.get('partNumber')}`);
    }
    if (r.request().method() === 'GET' && url.pathname.startsWith('/v2/files/uploads/')) listings.push(r.status());
  });
  await page.goto(`${origin}/index.html`);

  // In the page: a file of `size` pattern bytes, its SHA-256, and an uploader on window.
  const prepare = (size, name) => page.evaluate(async ({ apiUrl, token, size, name }) => {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >>> 13)) & 255;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    window.uppy = window.createUploader({ apiUrl, token });
    window.uppy.addFile({ name, type: 'application/octet-stream', data: new Blob([data]) });
    return btoa(String.fromCharCode(...digest));
  }, { apiUrl, token, size, name });
  const entityOf = (result) => {
    assert.equal(result.failed.length, 0, `failed: ${JSON.stringify(result.failed)}; ${failures.join('; ')}`);
    return result.successful[0].response.body.entity;
  };
  const download = async (entity) => {
    const link = await fetch(`${apiUrl}/v1/files/${entity._id}/download`, { headers: { authorization: `Bearer ${token}` } });
    const bytes = Buffer.from(await (await fetch((await link.json()).download_url)).arrayBuffer());
    return crypto.createHash('sha256').update(bytes).digest('base64');
  };

  // 1. 64 MiB in 8 parts of 8 MiB, saved.
  const sha = await prepare(64 * MIB, 'video.bin');
  assert.deepEqual(failures, [], 'no errors in the page');
  const saved = entityOf(await page.evaluate(() => window.uppy.upload().then((r) => ({
    failed: r.failed.map((f) => f.error), successful: r.successful.map((f) => ({ response: f.response })) }))));
  assert.equal(saved.size_bytes, 64 * MIB);
  assert.equal(saved.checksum_sha256, sha, 'the service hashed what the browser had');
  assert.equal(accepted.length, 8, `parts: ${accepted.length}`);
  assert.equal(await download(saved), sha, 'downloaded byte-exact');

  // 2. Cut off after 3 parts, then retried: S3's parts are listed, not sent again.
  accepted.length = 0;
  const sha2 = await prepare(40 * MIB, 'archive.zip');
  // Three parts go through; the others hang until the page goes, as in a crash.
  let allowed = 3;
  const cut = (route) => (allowed-- > 0 ? route.continue() : new Promise(() => {}));
  const parts = (url) => url.searchParams.has('partNumber');
  await page.route(parts, cut);
  await page.evaluate(() => {
    // What Golden Retriever persists: the file's upload id and key, once a part is up.
    window.uppy.on('s3-multipart:part-uploaded', (file) => { window.kept = file.s3Multipart; });
    window.uppy.upload();
  });
  for (let i = 0; i < 400 && accepted.length < 3; i++) await new Promise((r) => setTimeout(r, 25));
  const first = { restore: await page.evaluate(() => window.kept) };
  assert.ok(first.restore?.uploadId, 'Uppy has the upload id');
  const before = new Set(accepted);
  assert.equal(before.size, 3, `parts held before the crash: ${[...before]}; ${failures.join('; ')}`);
  await page.unroute(parts, cut);
  // The page is reloaded, as after a crash: a new Uppy gets the file again with the
  // upload id kept (what Golden Retriever restores) and asks the service what S3 holds.
  await page.reload();
  // The hung parts went with the page: the errors that counts are the ones after it.
  failures.length = 0;
  await prepare(40 * MIB, 'archive.zip');
  const resumed = entityOf(await page.evaluate((restore) => {
    const file = window.uppy.getFiles()[0];
    window.uppy.setFileState(file.id, { s3Multipart: restore });
    return window.uppy.upload().then((r) => ({
      failed: r.failed.map((f) => f.error), successful: r.successful.map((f) => ({ response: f.response })) }));
  }, first.restore));
  assert.ok(listings.includes(200), 'the resumed upload listed the parts S3 held');
  const counts = accepted.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map());
  assert.ok([...counts.values()].every((n) => n === 1), `a part was sent twice: ${JSON.stringify([...counts])}`);
  assert.equal(counts.size, 5, 'five parts in all');
  assert.equal(resumed.checksum_sha256, sha2);
  assert.equal(await download(resumed), sha2);
  assert.deepEqual(failures, [], 'no errors in the page after the reload');
  console.log(JSON.stringify({ ok: true, parts_before_crash: before.size, saved: [saved._id, resumed._id] }));
} finally {
  await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
