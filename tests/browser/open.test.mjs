// Opening a file in Chromium: what the first open asks of the server (the
// probe reads both ends of the file in one round trip and the worker starts
// from those bytes), and a group of hundreds of objects listed in batches.
//
// Needs: NEUROSIFT_DIST (built app), NEUROSIFT_FIXTURES (its sibling
// test-fixtures-long gets many_objects.nwb, written by pynwb the first time),
// NEUROSIFT_RANGE_SERVER, NEUROSIFT_PYTHON.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureFixture, launchChromium, newViewPage, startServer, stopServers } from './support.mjs';

const dist = process.env.NEUROSIFT_DIST;
const fixtures = process.env.NEUROSIFT_FIXTURES;

let browser, app, data;

before(async () => {
  const dir = resolve(fixtures, '..', 'test-fixtures-long');
  ensureFixture('many_objects.py', dir, 'many_objects.nwb');
  app = await startServer(['--dir', fixtures, '--app-dir', dist]);
  data = await startServer(['--dir', dir]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopServers();
});

const stats = async () => (await (await fetch(`${data}/__control/stats`)).json());
const reset = () => fetch(`${data}/__control/reset`, { method: 'POST' });
const url = () => `${app}/nwb?url=${encodeURIComponent(`${data}/files/many_objects.nwb`)}`;

test('a first open reads both ends in the probe; the worker does not read them again', async () => {
  const size = statSync(resolve(fixtures, '..', 'test-fixtures-long', 'many_objects.nwb')).size;
  const page = await newViewPage(browser);
  // Page and worker requests, in order (playwright sees both).
  const ranges = [];
  page.on('request', (r) => {
    if (r.url().startsWith(data)) ranges.push(r.headers().range);
  });
  await reset();
  await page.goto(url());
  await page.getByTestId('session').getByText('many objects for the open tests').waitFor();
  assert.equal((await stats()).requests, ranges.length);
  // The status line counts them all, the probe the worker's loader made included.
  const status = await page.getByTestId('status').innerText();
  assert.match(status, new RegExp(`^${ranges.length} requests? · `), status);
  // First the probe: the first and the last 256 KiB, at once.
  assert.deepEqual(ranges.slice(0, 2).sort(), ['bytes=-262144', 'bytes=0-262143']);
  // Then the walk's reads (250 series after 12 MB of samples are past the
  // ends): none of them lies within the whole 64 KiB pages the probe read.
  const page64 = 65536;
  const tailStart = Math.ceil((size - 262144) / page64) * page64;
  const rest = ranges.slice(2).map((r) => r.match(/bytes=(\d+)-(\d+)/).slice(1).map(Number));
  assert.ok(rest.length > 0, 'the file has metadata past its ends');
  for (const [a, b] of rest) {
    assert.ok(b >= 262144 && a < tailStart, `bytes ${a}-${b} were read by the probe already`);
  }
  assert.deepEqual(page.errors, []);
});

test('a group of 250 objects lists 100 rows, then the rest as its end scrolls into view', async () => {
  const page = await newViewPage(browser);
  await page.goto(url());
  const section = page.locator('details.section[data-path="/acquisition"]');
  await section.locator('tr.row').first().waitFor();
  const rows = section.locator('tr.row');
  assert.equal(await rows.count(), 100);
  const more = section.locator('tr.more');
  assert.match(await more.innerText(), /100 of 251 shown/);
  await more.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelectorAll('details.section[data-path="/acquisition"] tr.row').length === 200);
  await more.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelectorAll('details.section[data-path="/acquisition"] tr.row').length === 251);
  assert.equal(await more.isVisible(), false);
  // The last rows are real rows: they open their object.
  await section.locator('tr[data-path="/acquisition/series_249"] a').click();
  await page.getByTestId('tab-bar').getByText('series_249').waitFor();
  assert.deepEqual(page.errors, []);
});

test('the page compiles its wasm once: its reader workers are posted the module, not fetching their own', async () => {
  const page = await newViewPage(browser);
  await page.goto(url());
  await page.getByTestId('session').getByText('many objects for the open tests').waitFor();
  // Open a series: the pool's other workers start and read too.
  await page.locator('tr[data-path="/acquisition/series_001"] a').click();
  await page.getByTestId('tab-bar').getByText('series_001').waitFor();
  const wasmFetches = async (target) => target.evaluate(() => performance.getEntriesByType('resource')
    .filter((r) => r.name.endsWith('.wasm')).length);
  // All the pool's workers run the wasm (`w-start`: their reader began).
  const started = async () => (await Promise.all(page.workers().map((w) => w.evaluate(
    () => performance.getEntriesByName('w-start').length).catch(() => 0)))).filter((n) => n > 0).length;
  for (let i = 0; i < 100 && await started() < 3; i++) await page.waitForTimeout(100);
  assert.equal(await started(), 3);
  assert.equal(await wasmFetches(page), 1);
  for (const worker of page.workers()) assert.equal(await wasmFetches(worker), 0);
  assert.deepEqual(page.errors, []);
});

test('a wasm that does not compile: the page says it could not start', async () => {
  // The built app with a damaged wasm.
  const broken = mkdtempSync(join(tmpdir(), 'neurosift-broken-'));
  for (const name of readdirSync(dist).filter((n) => !n.endsWith('.gz') && !n.startsWith('.'))) {
    copyFileSync(join(dist, name), join(broken, name));
  }
  writeFileSync(join(broken, 'ns-web_bg.wasm'), Buffer.from('not a wasm module'));
  const brokenApp = await startServer(['--dir', fixtures, '--app-dir', broken]);
  const page = await newViewPage(browser);
  await page.goto(`${brokenApp}/nwb?url=${encodeURIComponent(`${data}/files/many_objects.nwb`)}`);
  await page.getByText(/^Neurosift could not start: WebAssembly.*magic word/).waitFor();
});
