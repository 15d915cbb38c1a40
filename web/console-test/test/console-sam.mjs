// The console in headless Chromium against `sam local start-api` (scripts/sam_local.sh):
// the page is served from its own origin (CONSOLE_URL, the static files of web/console)
// and signs in to the API at FILES_API_URL with FILES_TOKEN (#token=…&api=…). One
// picture is uploaded by the file picker (uploadFileV2, the browser's PUT to S3,
// saveFileV2 through the real functions) and shows in the list. Prints one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { png } from './png.mjs';

const consoleUrl = process.env.CONSOLE_URL;
const apiUrl = process.env.FILES_API_URL;
const token = process.env.FILES_TOKEN;
assert.ok(consoleUrl && apiUrl && token, 'CONSOLE_URL, FILES_API_URL and FILES_TOKEN are required');

const picture = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'console-sam-')),
  `through-sam-${crypto.randomBytes(3).toString('hex')}.png`);
fs.writeFileSync(picture, png(16, 16));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url().slice(0, 160)}`); });
  await page.goto(`${consoleUrl}/#token=${token}&api=${encodeURIComponent(apiUrl)}`);
  await page.locator('#app').waitFor({ timeout: 60000 });
  await page.locator('#picker').setInputFiles([picture]);
  const name = path.basename(picture);
  await page.locator('#uploads li', { hasText: name }).locator('.muted', { hasText: 'saved' })
    .waitFor({ timeout: 90000 });
  await page.locator('#file-rows tr', { hasText: name }).waitFor({ timeout: 30000 });
  assert.deepEqual(errors, []);
  console.log(JSON.stringify({ ok: true, uploaded: name }));
} catch (e) {
  console.error(errors.join('\n'));
  throw e;
} finally {
  await browser.close();
}
