// The raster and the PSTH in real Chromium on the pynwb ecephys fixture:
// the raster draws, sorting and coloring change it, it moves with a
// timeseries in one tab; a PSTH link with Neurosift's hash opens with
// exactly that state and a changed control updates the hash.
//
// Needs NEUROSIFT_DIST, NEUROSIFT_FIXTURES, NEUROSIFT_RANGE_SERVER (set by
// `cargo xtask test`).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, newViewPage, startServer, stopServers } from './support.mjs';

const shots = process.env.NEUROSIFT_SCREENSHOTS ?? 'target/screenshots';
mkdirSync(shots, { recursive: true });
let browser, app;

before(async () => {
  app = await startServer(['--dir', process.env.NEUROSIFT_FIXTURES, '--app-dir', process.env.NEUROSIFT_DIST]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopServers();
});

const newPage = () => newViewPage(browser, 1600);

const link = (tab, extra = '') =>
  `${app}/nwb?url=${encodeURIComponent(`${app}/files/nwb_ecephys.nwb`)}&tab=${encodeURIComponent(tab)}${extra}`;

/// A fingerprint of a canvas: dark pixels per row band and their colors.
const pixels = (page, id, nth = 0) => page.evaluate(([id, nth]) => {
  const c = document.querySelectorAll(`[data-testid="${id}"]`)[nth];
  if (!c || !c.width) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  const colors = new Set();
  const rows = new Array(20).fill(0);
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) {
      ink++;
      colors.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
      rows[Math.floor((i / 4 / c.width) / c.height * 20)]++;
    }
  }
  return { ink, colors: colors.size, rows };
}, [id, nth]);

async function waitInk(page, id, min = 50, nth = 0) {
  for (let i = 0; i < 200; i++) {
    const p = await pixels(page, id, nth);
    if (p && p.ink >= min) return p;
    await page.waitForTimeout(50);
  }
  throw new Error(`${id} stayed blank`);
}

test('the raster draws, sorts, colors, subsets and follows the URL', async () => {
  const page = await newPage();
  await page.goto(link('view:RasterPlot|/units', '&tab-time=0,60'));
  const first = await waitInk(page, 'raster-canvas', 200);
  assert.match(await page.getByTestId('unit-range').innerText(), /units 1–10 of 10/);
  await page.getByTestId('sort-by').selectOption('quality');
  await page.waitForTimeout(300);
  const sorted = await pixels(page, 'raster-canvas');
  assert.notDeepEqual(sorted.rows, first.rows, 'sorting moved rows');
  await page.getByTestId('color-by').selectOption('quality');
  await page.waitForTimeout(300);
  const colored = await pixels(page, 'raster-canvas');
  assert.ok(colored.colors > sorted.colors, `colors ${sorted.colors} → ${colored.colors}`);
  await page.getByTestId('unit-filter').fill('quality=good');
  await page.getByTestId('unit-filter').press('Enter');
  await page.getByTestId('unit-range').getByText(/units 1–6 of 6 \(of 10\)/).waitFor();
  assert.equal(new URL(page.url()).searchParams.get('units'), 'quality=good');
  await page.screenshot({ path: join(shots, 'view-raster.png'), fullPage: true });
  await page.reload();
  await page.getByTestId('unit-range').getByText(/units 1–6 of 6 \(of 10\)/).waitFor();
  assert.deepEqual(page.errors, []);
});

test('a raster moves with a timeseries in one tab', async () => {
  const page = await newPage();
  const tab = JSON.stringify(['/acquisition/ElectricalSeries', 'Raster|/units']);
  await page.goto(link(tab, '&tab-time=1.25,2.25'));
  await waitInk(page, 'timeseries-canvas', 1000);
  const before = await waitInk(page, 'raster-canvas', 5);
  await page.getByTestId('timeseries-canvas').focus();
  await page.keyboard.press('-');
  await page.keyboard.press('-');
  await page.waitForTimeout(500);
  const [w0, w1] = [await page.getByTestId('window-text').nth(0).innerText(), await page.getByTestId('window-text').nth(1).innerText()];
  assert.equal(w0, w1);
  const after = await pixels(page, 'raster-canvas');
  assert.ok(after.ink > before.ink, `zooming out shows more spikes: ${before.ink} → ${after.ink}`);
  await page.screenshot({ path: join(shots, 'view-timeseries-raster.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
});

test('a PSTH link with a hash opens with that state, and controls update the hash', async () => {
  const page = await newPage();
  const hash = '#units=0,2&alignTo=start_time,stop_time&groupBy=condition&windowStart=-1&numBins=30&plotHeight=small';
  await page.goto(link('view:PSTH|/intervals/trials^/units', hash));
  await waitInk(page, 'psth-canvas', 100);
  // Two units × two alignments.
  assert.equal(await page.getByTestId('psth-canvas').count(), 4);
  await page.getByTestId('legend').getByText(/left \(\d+ trials\)/).waitFor();
  assert.equal(await page.getByTestId('window-start').inputValue(), '-1');
  assert.equal(await page.getByTestId('num-bins').inputValue(), '30');
  assert.equal(await page.getByTestId('group-by').inputValue(), 'condition');
  await page.getByTestId('num-bins').fill('40');
  await page.getByTestId('num-bins').press('Enter');
  await page.waitForFunction(() => location.hash.includes('numBins=40'));
  await page.getByTestId('smoothed').check();
  await page.waitForFunction(() => location.hash.includes('smoothed=1'));
  assert.ok(page.url().includes('groupBy=condition') && page.url().includes('units=0%2C2'));
  await waitInk(page, 'psth-canvas', 100);
  await page.screenshot({ path: join(shots, 'view-psth.png'), fullPage: true });
  // Defaults are not written: a bare link has only the first unit.
  await page.goto(link('view:PSTH|/intervals/trials^/units'));
  await waitInk(page, 'psth-canvas', 50);
  await page.waitForFunction(() => location.hash === '#units=0');
  assert.deepEqual(page.errors, []);
});
