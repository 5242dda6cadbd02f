// Opening a file in Chromium: what the first open asks of the server (the
// probe reads both ends of the file in one round trip and the worker starts
// from those bytes), and a group of hundreds of objects listed in batches.
//
// Needs: NEUROSIFT_DIST (built app), NEUROSIFT_FIXTURES (its sibling
// test-fixtures-long gets many_objects.nwb, written by pynwb the first time),
// NEUROSIFT_RANGE_SERVER, NEUROSIFT_PYTHON.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
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
