// The web console in headless Chromium against the local API that serves it
// (FILES_API_URL, FILES_TOKEN): sign in with #token=, upload several files at once (a
// picture, and a large file in parts, cut off and resumed after a reload) and one by drag
// and drop, see them listed with a thumbnail, search, download byte-exact, versions,
// public/private, a public link opened in a fresh browser context and revoked, delete one
// file and bulk-delete a search into the trash, restore one from it and purge the other;
// no console errors; readable on a phone; screenshots.
// Run by tests/console.rs; prints one JSON line of results, exits non-zero on failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { png } from './png.mjs';

const apiUrl = process.env.FILES_API_URL;
const token = process.env.FILES_TOKEN;
const shots = process.env.SCREENSHOT_DIR ?? os.tmpdir();
assert.ok(apiUrl && token, 'FILES_API_URL and FILES_TOKEN are required');
const MIB = 1024 * 1024;

// ---- Files to upload ----
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-files-'));
const run = crypto.randomBytes(3).toString('hex');
const picture = path.join(dir, `sunset-${run}.png`);
fs.writeFileSync(picture, png(320, 200));
const big = path.join(dir, `recording-${run}.bin`);
const bigBytes = Buffer.alloc(26 * MIB);
for (let i = 0; i < bigBytes.length; i += 4) bigBytes.writeUInt32LE((i * 2654435761) >>> 0, i);
fs.writeFileSync(big, bigBytes);
const sha = (bytes) => crypto.createHash('sha256').update(bytes).digest('base64');

const launch = { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] };
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'console-chromium-'));
const context = await chromium.launchPersistentContext(profile, { ...launch, acceptDownloads: true });
const stranger = await chromium.launch(launch);
const errors = [];
let expectHung = false;
const results = {};
try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    // A navigation that turns into a download ends its request as "aborted".
  const isDownload = (r) => r.failure()?.errorText === 'net::ERR_ABORTED' && r.url().includes('response-content-disposition=attachment');
  page.on('requestfailed', (r) => {
    if (!expectHung && !isDownload(r)) errors.push(`request failed: ${r.method()} ${r.url().slice(0, 200)} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url().slice(0, 200)}`); });
  page.on('dialog', (d) => d.accept());
  const partPuts = [];
  page.on('request', (r) => { if (r.method() === 'PUT' && new URL(r.url()).searchParams.has('partNumber')) partPuts.push(r.url()); });
  const row = (name) => page.locator('#file-rows tr', { hasText: name });
  const uploadRow = (name) => page.locator('#uploads li', { hasText: name }).first();

  // 1. Sign in from the address; the token leaves the address at once.
  await page.goto(`${apiUrl}/#token=${token}`);
  await page.locator('#app').waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address');
  assert.equal(await page.locator('#sign-out').isVisible(), true);

  // 2. Both files at once through the picker; the large one in parts is cut off after
  // two parts: its remaining parts hang until the page is reloaded, as in a crash.
  let allowed = 2;
  const parts = (url) => url.searchParams.has('partNumber');
  const cut = (route) => (allowed-- > 0 ? route.continue() : new Promise(() => {}));
  await page.route(parts, cut);
  await page.locator('#picker').setInputFiles([picture, big]);
  await uploadRow(path.basename(picture)).locator('.muted', { hasText: 'saved' }).waitFor();
  await page.locator('#uploads li', { hasText: path.basename(big) }).locator('.muted', { hasText: /2 of 4 parts/ }).waitFor();
  // The hung parts go with the page; only then is the route taken away (taken away
  // before, a hung part could still be sent on while the page unloads).
  expectHung = true;
  await page.reload();
  await page.locator('#app').waitFor();
  await page.unroute(parts, cut);
  expectHung = false;
  // After the reload: the console lists the unfinished upload; choosing the file again
  // sends only the parts S3 lacks.
  await page.locator('#pending-list li', { hasText: path.basename(big) }).waitFor();
  const before = partPuts.length;
  await page.locator('#picker').setInputFiles([big]);
  await uploadRow(path.basename(big)).locator('.muted', { hasText: 'saved' }).waitFor({ timeout: 60000 });
  results.parts_resent = partPuts.length - before;
  assert.equal(results.parts_resent, 2, 'only the two missing parts are sent after the reload');
  assert.equal(await page.locator('#pending').isHidden(), true, 'nothing left unfinished');

  // The picker opens from the keyboard too. Headless Chromium now and then drops the
  // first key press on a just-focused file input: up to three presses, each given 5 s.
  let chooser = null;
  for (let attempt = 0; attempt < 3 && !chooser; attempt++) {
    await page.focus('#picker');
    [chooser] = await Promise.all([
      page.waitForEvent('filechooser', { timeout: 5000 }).catch(() => null),
      page.keyboard.press('Space'),
    ]);
  }
  assert.ok(chooser, 'the picker opens from the keyboard');
  assert.equal(chooser.isMultiple(), true, 'several files at once');
  await chooser.setFiles([]);

  // 3. A third file dropped on the drop zone.
  const dropped = `notes-${run}.txt`;
  await page.evaluate((name) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['dropped text\n'], name, { type: 'text/plain' }));
    document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, dropped);
  await uploadRow(dropped).locator('.muted', { hasText: 'saved' }).waitFor();

  // 4. Listed, the picture with its thumbnail (the preview route, by the session cookie).
  await row(path.basename(picture)).waitFor();
  const thumb = row(path.basename(picture)).locator('img');
  await thumb.waitFor();
  await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await thumb.elementHandle());
  results.thumbnail = await thumb.evaluate((img) => [img.naturalWidth, img.naturalHeight]);
  assert.equal(results.thumbnail[0], 96, 'a 96 px thumbnail of the 320 × 200 picture');
  // The list is drawn again once the last upload is saved.
  await page.locator('#count', { hasText: /^3 files$/ }).waitFor();
  await page.locator('#file-rows tr', { hasText: dropped }).waitFor();

  // 5. Search by part of a name.
  await page.fill('#q', `recording-${run}`);
  await page.press('#q', 'Enter');
  await page.locator('#count', { hasText: '1 file match' }).waitFor();
  assert.equal(await page.locator('#file-rows tr').count(), 1);

  // 6. Details by keyboard, download byte-exact.
  await row(path.basename(big)).locator('button.link').focus();
  await page.keyboard.press('Enter');
  await page.locator('#details[open]').waitFor();
  assert.match(await page.locator('#details').textContent(), new RegExp(`${bigBytes.length} bytes`));
  assert.match(await page.locator('#details').textContent(), new RegExp(sha(bigBytes).replace(/[+/]/g, '.')));
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#details .detail-actions button', { hasText: 'Download' }).click(),
  ]);
  const saved = await download.path();
  results.download_sha256 = sha(fs.readFileSync(saved));
  assert.equal(results.download_sha256, sha(bigBytes), 'downloaded byte-exact');
  assert.equal(download.suggestedFilename(), path.basename(big));
  await page.keyboard.press('Escape');
  await page.locator('#details[open]').waitFor({ state: 'detached' });

  // 7. The picture: a new version, restore the first, public and back to private.
  await page.fill('#q', `sunset-${run}`);
  await page.press('#q', 'Enter');
  await page.locator('#count', { hasText: '1 file match' }).waitFor();
  await row(path.basename(picture)).locator('button.link').click();
  await page.locator('#details[open]').waitFor();
  fs.mkdirSync(path.join(dir, 'v2'));
  const second = path.join(dir, 'v2', path.basename(picture));
  fs.writeFileSync(second, png(160, 100));
  await page.locator('#new-version').setInputFiles(second);
  await page.locator('#details h3', { hasText: 'Versions (2)' }).waitFor();
  await page.locator('#details .versions tbody tr').first().locator('button', { hasText: 'Restore' }).click();
  await page.locator('#details h3', { hasText: 'Versions (3)' }).waitFor();
  await page.locator('#details button', { hasText: 'Make public' }).click();
  await page.locator('#details button', { hasText: 'Make private' }).waitFor();
  assert.match(await page.locator('#details').textContent(), /Public URL/);
  await page.locator('#details button', { hasText: 'Make private' }).click();
  await page.locator('#details button', { hasText: 'Make public' }).waitFor();

  // 8. A public link, opened in a fresh browser context: the latest version (the
  // restored first one); revoked, it no longer opens.
  await page.locator('#details button', { hasText: 'Create link' }).click();
  const linkInput = page.locator('#details .links input');
  await linkInput.waitFor();
  const link = await linkInput.inputValue();
  const fresh = await stranger.newContext();
  const opened = await fresh.request.get(link);
  assert.equal(opened.status(), 200, `the link opens without a token: ${link}`);
  assert.equal(sha(await opened.body()), sha(fs.readFileSync(picture)), 'the link gives the latest version');
  await page.locator('#details .links button', { hasText: 'Revoke' }).click();
  await page.locator('#details .links input').waitFor({ state: 'detached' });
  const revoked = await (await stranger.newContext()).request.get(link, { maxRedirects: 0 });
  assert.equal(revoked.status(), 404, 'a revoked link does not open');
  await fresh.close();

  // 9. Screenshots: the list with its thumbnails, and the same on a phone.
  await page.keyboard.press('Escape');
  await page.fill('#q', '');
  await page.press('#q', 'Enter');
  await page.locator('#count', { hasText: /^3 files$/ }).waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('#file-rows img')].every((i) => i.complete && i.naturalWidth > 0));
  await page.evaluate(() => { document.getElementById('status').textContent = ''; });
  await page.setViewportSize({ width: 1100, height: 1000 });
  await page.screenshot({ path: path.join(shots, 'console.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow} px too wide)`);
  await page.screenshot({ path: path.join(shots, 'console-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1100, height: 760 });

  // 10. Every control is labelled.
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((el) => el.type !== 'hidden')
    .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent.trim())))
    .map((el) => el.id || el.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, [], 'every control has a label');

  // 11. Delete one file from its details; bulk-delete a search.
  await row(path.basename(picture)).locator('button.link').click();
  await page.locator('#details[open]').waitFor();
  await page.locator('#details button', { hasText: 'Delete file' }).click();
  await page.locator('#details[open]').waitFor({ state: 'detached' });
  await page.locator('#count', { hasText: /^2 files$/ }).waitFor();
  await page.fill('#q', `notes-${run}`);
  await page.press('#q', 'Enter');
  await page.locator('#count', { hasText: '1 file match' }).waitFor();
  await page.locator('#bulk-delete').click();
  await page.locator('#count', { hasText: '0 files match' }).waitFor();
  await page.fill('#q', '');
  await page.press('#q', 'Enter');
  await page.locator('#count', { hasText: /^1 file$/ }).waitFor();
  await page.locator('#usage', { hasText: /^1 files, 1 versions, .*, 2 in the trash/ }).waitFor();

  // 12. The trash: both deleted files wait there, newest deletion first; the picture
  // comes back with its versions, the notes go for good.
  await page.locator('#trash-count', { hasText: /^2 files in the trash$/ }).waitFor();
  const trashed = await page.locator('#trash-rows tr td.name').allTextContents();
  assert.deepEqual(trashed, [`notes-${run}.txt`, path.basename(picture)], 'the newest deletion first');
  const trashRow = (name) => page.locator('#trash-rows tr', { hasText: name });
  await trashRow(path.basename(picture)).locator('button', { hasText: 'Restore' }).click();
  await page.locator('#trash-count', { hasText: /^1 file in the trash$/ }).waitFor();
  await page.locator('#count', { hasText: /^2 files$/ }).waitFor();
  await row(path.basename(picture)).locator('button.link').click();
  await page.locator('#details[open]').waitFor();
  assert.equal(await page.locator('#details .versions tbody tr').count(), 3, 'back with its versions');
  await page.locator('#details-close').click();
  await trashRow(`notes-${run}`).locator('button', { hasText: 'Delete for good' }).click();
  await page.locator('#trash-count', { hasText: /^0 files in the trash$/ }).waitFor();
  await page.locator('#trash-rows', { hasText: 'The trash is empty.' }).waitFor();
  await page.locator('#usage', { hasText: /^2 files, 4 versions, [^,]+$/ }).waitFor();

  assert.deepEqual(errors, [], 'no errors in the console, the page or the network');
  results.ok = true;
  console.log(JSON.stringify(results));
} catch (e) {
  console.error(e);
  console.error(`errors seen: ${JSON.stringify(errors, null, 1)}`);
  process.exitCode = 1;
} finally {
  await context.close();
  await stranger.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(profile, { recursive: true, force: true });
}
