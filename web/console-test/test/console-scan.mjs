// The console's view of malware scans, in headless Chromium (FILES_API_URL,
// FILES_TOKEN): the list badges a file still being scanned and an infected one (and
// draws no thumbnail for either), and a file's details name the scan and its verdict.
// The organisation's files are made by tests/console.rs: SCANNING_NAME (pending),
// INFECTED_NAME (infected) and CLEAN_NAME (clean). Prints one JSON line; exits non-zero
// on failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const apiUrl = process.env.FILES_API_URL;
const token = process.env.FILES_TOKEN;
const { SCANNING_NAME, INFECTED_NAME, CLEAN_NAME } = process.env;
assert.ok(apiUrl && token && SCANNING_NAME && INFECTED_NAME && CLEAN_NAME, 'the stack and the files are required');
const shots = process.env.SCREENSHOT_DIR ?? os.tmpdir();

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
const errors = [];
const results = {};
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url().slice(0, 160)}`); });
  await page.goto(`${apiUrl}/#token=${token}`);
  const row = (name) => page.locator('#file-rows tr', { hasText: name });
  await row(CLEAN_NAME).waitFor();
  results.scanning = await row(SCANNING_NAME).locator('[data-scan]').textContent();
  results.infected = await row(INFECTED_NAME).locator('[data-scan]').textContent();
  results.clean_badges = await row(CLEAN_NAME).locator('[data-scan]').count();
  assert.equal(results.scanning, 'Scanning');
  assert.equal(results.infected, 'Infected');
  assert.equal(results.clean_badges, 0, 'a clean file has no badge');
  // Withheld bytes: no thumbnail is asked for; the clean picture has one.
  assert.equal(await row(INFECTED_NAME).locator('img').count(), 0);
  assert.equal(await row(SCANNING_NAME).locator('img').count(), 0);
  await row(CLEAN_NAME).locator('img').waitFor();
  await row(INFECTED_NAME).getByRole('button', { name: INFECTED_NAME }).click();
  const scan = page.locator('#details-body dt', { hasText: 'Malware scan' }).locator('xpath=following-sibling::dd[1]');
  results.details = (await scan.textContent()).trim();
  assert.match(results.details, /^Infected \(EICAR-Test-File/);
  results.version_scan = (await page.locator('#details-body table.versions td[data-label="Scan"]').first().textContent()).trim();
  assert.equal(results.version_scan, 'Infected');
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, 'console-scan.png'), fullPage: true });
  assert.deepEqual(errors, []);
  console.log(JSON.stringify({ ok: true, ...results }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String(e?.stack ?? e), errors, ...results }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
