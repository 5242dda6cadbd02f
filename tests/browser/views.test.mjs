// The views in real Chromium on pynwb-written files: each view draws,
// reacts to pan and zoom, views of one tab move together, the window and
// filters live in the URL, Neurosift's view names resolve, and a 60 s x 64
// channel recording served with 50 ms latency zooms out to its whole
// duration. Prints time to first trace, time to the whole duration and
// frame times while panning. Screenshots go to target/screenshots/.
//
// Needs: NEUROSIFT_DIST, NEUROSIFT_FIXTURES, NEUROSIFT_RANGE_SERVER and
// NEUROSIFT_PYTHON (to write the long recording). `cargo xtask test` sets them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureFixture, launchChromium, newViewPage, startServer, stopServers } from './support.mjs';

const dist = process.env.NEUROSIFT_DIST;
const fixtures = process.env.NEUROSIFT_FIXTURES;
const shots = process.env.NEUROSIFT_SCREENSHOTS ?? 'target/screenshots';
mkdirSync(shots, { recursive: true });


let browser, app, slow, longDir;

before(async () => {
  // The long recording (230 MB), written once per fixture directory.
  longDir = resolve(fixtures, '..', 'test-fixtures-long');
  ensureFixture('long_recording.py', longDir, 'long.nwb');
  app = await startServer(['--dir', fixtures, '--app-dir', dist]);
  slow = await startServer(['--dir', longDir, '--latency-ms', '50']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopServers();
});

const newPage = (width = 1600) => newViewPage(browser, width);

const link = (file, tab, extra = '') =>
  `${app}/nwb?url=${encodeURIComponent(`${app}/files/${file}`)}&tab=${encodeURIComponent(tab)}${extra}`;

/// Non-white pixels of a canvas, overall and in each tenth of its width.
async function ink(page, testId, nth = 0) {
  return page.evaluate(([id, nth]) => {
    const c = document.querySelectorAll(`[data-testid="${id}"]`)[nth];
    if (!c || !c.width) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const tenths = new Array(10).fill(0);
    let total = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) {
        total++;
        tenths[Math.min(9, Math.floor(((i / 4) % c.width) / c.width * 10))]++;
      }
    }
    return { total, tenths, width: c.width, height: c.height };
  }, [testId, nth]);
}

async function waitForInk(page, testId, min = 500, nth = 0, timeout = 20000) {
  const start = Date.now();
  for (;;) {
    const i = await ink(page, testId, nth);
    if (i && i.total >= min) return i;
    if (Date.now() - start > timeout) throw new Error(`${testId} stayed blank: ${JSON.stringify(i)}`);
    await page.waitForTimeout(100);
  }
}

const windowText = async (page, nth = 0) => page.getByTestId('window-text').nth(nth).innerText();
const tabTime = (page) => new URL(page.url()).searchParams.get('tab-time');

test('the timeseries view draws traces, pans, zooms and keeps the window in the URL', async () => {
  const page = await newPage();
  await page.goto(link('nwb_ecephys.nwb', '/acquisition/ElectricalSeries'));
  const first = await waitForInk(page, 'timeseries-canvas', 2000);
  assert.ok(first.tenths.every((n) => n > 0), `traces across the width: ${first.tenths}`);
  assert.match(await page.getByTestId('channel-range').innerText(), /channels 1–16 of 16/);
  assert.match(await windowText(page), /1\.25.* – 2\.25/);
  // Zoom in with the keyboard, around the middle.
  const canvas = page.getByTestId('timeseries-canvas');
  await canvas.focus();
  await page.keyboard.press('=');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('tab-time')?.startsWith('1.5,2'));
  assert.equal(tabTime(page), '1.5,2');
  // Drag right by a quarter of the plot: the window moves left.
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + 40);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.75, box.y + 40, { steps: 5 });
  await page.mouse.up();
  const [a, b] = tabTime(page).split(',').map(Number);
  assert.ok(a < 1.5 && a > 1.3 && Math.abs(b - a - 0.5) < 1e-6, `panned to ${a},${b}`);
  // A click sets the current time (third value).
  await page.mouse.click(box.x + box.width * 0.6, box.y + 40);
  await page.waitForFunction(() => new URL(location.href).searchParams.get('tab-time')?.split(',').length === 3);
  await waitForInk(page, 'timeseries-canvas', 2000);
  await page.screenshot({ path: join(shots, 'view-timeseries.png') });
  // A reload shows the same window.
  const before = tabTime(page);
  await page.reload();
  await waitForInk(page, 'timeseries-canvas', 2000);
  assert.equal(tabTime(page), before);
  const [ra, rb] = before.split(',').map(Number);
  assert.match(await windowText(page), new RegExp(`${ra.toFixed(2).slice(0, 3)}.* – ${rb.toFixed(2).slice(0, 3)}`));
  assert.deepEqual(page.errors, []);
});

test('channels filtered by an electrodes column, kept in the URL', async () => {
  const page = await newPage();
  await page.goto(link('nwb_ecephys.nwb', '/acquisition/ElectricalSeries'));
  await waitForInk(page, 'timeseries-canvas', 2000);
  await page.getByTestId('channel-filter').fill('location=CA3');
  await page.getByTestId('channel-filter').press('Enter');
  await page.getByTestId('channel-range').getByText('channels 1–8 of 8 (filtered from 16)').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('channels'), 'location=CA3');
  await page.reload();
  await page.getByTestId('channel-range').getByText('channels 1–8 of 8 (filtered from 16)').waitFor();
  await page.getByTestId('channel-filter').fill('depth=3');
  await page.getByTestId('channel-filter').press('Enter');
  await page.getByTestId('filter-error').getByText(/no column "depth"/).waitFor();
  assert.deepEqual(page.errors, []);
});

test('two views in one tab move together', async () => {
  const page = await newPage();
  const tab = JSON.stringify(['/acquisition/ElectricalSeries', 'TimeIntervals|/intervals/epochs']);
  await page.goto(link('nwb_ecephys.nwb', tab, '&tab-time=1.25,2.25'));
  await waitForInk(page, 'timeseries-canvas', 2000);
  await waitForInk(page, 'intervals-canvas', 200);
  const before = await ink(page, 'intervals-canvas');
  await page.getByTestId('timeseries-canvas').focus();
  await page.keyboard.press('=');
  await page.keyboard.press('ArrowRight');
  await page.waitForTimeout(300);
  const [w0, w1] = [await windowText(page, 0), await windowText(page, 1)];
  assert.equal(w0, w1);
  assert.doesNotMatch(w0, /1\.25.* – 2\.25/);
  const after = await ink(page, 'intervals-canvas');
  assert.notDeepEqual(after.tenths, before.tenths, 'the intervals moved with the traces');
  await page.screenshot({ path: join(shots, 'view-multi.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
});

test('every view opens from Neurosift view names, current and older', async () => {
  const page = await newPage();
  const drawn = [
    ['nwb_ecephys.nwb', 'view:SimpleTimeseries|/acquisition/ElectricalSeries', 'timeseries-canvas'],
    ['nwb_ecephys.nwb', 'view:ElectricalSeries|/processing/ecephys/LFP/lfp_series', 'timeseries-canvas'],
    ['nwb_behavior.nwb', 'view:TimeSeries|/acquisition/running_speed', 'timeseries-canvas'],
    ['nwb_behavior.nwb', 'view:SpatialSeries|/processing/behavior/Position/position_xy', 'timeseries-canvas'],
    ['nwb_ecephys.nwb', 'view:TimeIntervals|/intervals/trials', 'intervals-canvas'],
    ['nwb_behavior.nwb', 'view:SpatialSeriesXY|/processing/behavior/Position/position_xy', 'xy-canvas'],
    ['nwb_behavior.nwb', 'view:X/Y|/processing/behavior/Position/position_xy', 'xy-canvas'],
    ['nwb_behavior.nwb', 'view:Events|/acquisition/lever_presses', 'events-canvas'],
    ['nwb_behavior.nwb', 'view:LabeledEvents|/acquisition/lever_presses', 'events-canvas'],
    ['nwb_behavior.nwb', 'view:BehavioralEvents|/processing/behavior/BehavioralEvents', 'events-canvas'],
    ['nwb_behavior.nwb', 'view:IntervalSeries|/acquisition/tone_on', 'events-canvas'],
  ];
  for (const [file, tab, canvas] of drawn) {
    await page.goto(link(file, tab));
    await waitForInk(page, canvas, 100);
  }
  await page.screenshot({ path: join(shots, 'view-intervalseries.png'), fullPage: true });
  for (const tab of ['view:dynamic-table|/processing/behavior/events', 'view:DynamicTable|/processing/behavior/events']) {
    await page.goto(link('nwb_behavior.nwb', tab));
    await page.getByTestId('table').getByText('[4 items]').first().click();
    await page.getByTestId('cell-values').getByText('a, b, c, ä').waitFor();
  }
  await page.goto(link('nwb_ecephys.nwb', 'view:Units|/units'));
  await page.getByTestId('units-table').getByText('quality').waitFor();
  await page.getByTestId('units-table-filter').fill('quality=mua');
  await page.getByTestId('units-table-filter').press('Enter');
  await page.getByTestId('units-table-count').getByText('4 of 10 units').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('units'), 'quality=mua');
  await page.screenshot({ path: join(shots, 'view-table.png'), fullPage: true });
  // Named views not built yet say so (never a blank page).
  for (const [file, tab] of [
    ['nwb_behavior.nwb', 'view:TrialAlignedSeries|/acquisition/lick_signal'],
    ['nwb_behavior.nwb', 'view:PoseEstimation|/processing/behavior/Position'],
    ['nwb_behavior.nwb', 'view:NoSuchView|/acquisition/images']]) {
    await page.goto(link(file, tab));
    await page.getByTestId('not-available').waitFor();
  }
  await page.screenshot({ path: join(shots, 'view-not-available.png') });
  // Clicking an object in the overview opens its tab with its default view.
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${app}/files/nwb_ecephys.nwb`)}`);
  await page.locator('tr[data-path="/intervals/trials"] a').click();
  await waitForInk(page, 'intervals-canvas', 100);
  assert.equal(new URL(page.url()).searchParams.get('tab'), '/intervals/trials');
  await page.locator('[data-view="raw"]').click();
  await page.getByTestId('raw').getByTestId('attrs').waitFor();
  assert.deepEqual(page.errors, []);
});

test('odd series say what is wrong and still draw (never a blank panel)', async () => {
  const page = await newPage();
  await page.goto(link('nwb_odd.nwb', '/acquisition/empty'));
  await page.getByTestId('empty').getByText('This series has no samples.').waitFor();
  for (const [path, warning] of [['/acquisition/nan_timestamps', 'are NaN'], ['/acquisition/unsorted', 'ascending'],
    ['/acquisition/rate0', 'rate 0'], ['/acquisition/nan_start', 'starting_time is NaN'],
    ['/acquisition/wider', 'has 4 rows but the data has 6 channels']]) {
    await page.goto(link('nwb_odd.nwb', path));
    await page.getByTestId('warning').getByText(warning, { exact: false }).waitFor();
    await waitForInk(page, 'timeseries-canvas', 200);
  }
  // 1,000 channels: the first 16, paged.
  await page.goto(link('nwb_odd.nwb', '/acquisition/wide'));
  await waitForInk(page, 'timeseries-canvas', 500);
  assert.match(await page.getByTestId('channel-range').innerText(), /channels 1–16 of 1000/);
  await page.getByRole('button', { name: '›' }).click();
  await page.getByTestId('channel-range').getByText('channels 17–32 of 1000').waitFor();
  await page.screenshot({ path: join(shots, 'view-odd-wide.png') });
  assert.deepEqual(page.errors, []);
});

test('a 60 s x 64 channel recording at 50 ms latency zooms out to its whole duration', async () => {
  const page = await newPage(2300);
  const url = `${slow}/files/long.nwb`;
  const t0 = Date.now();
  await page.goto(`${app}/nwb?url=${encodeURIComponent(url)}&tab=${encodeURIComponent('/acquisition/ElectricalSeries')}`);
  await waitForInk(page, 'timeseries-canvas', 2000, 0, 60000);
  const firstTrace = Date.now() - t0;
  // All 64 channels on a plot at least 1600 px wide.
  await page.getByTestId('channel-count').selectOption('64');
  await page.getByTestId('channel-range').getByText('channels 1–64 of 64').waitFor();
  const width = (await ink(page, 'timeseries-canvas')).width;
  assert.ok(width >= 1600, `canvas ${width} px`);
  const t1 = Date.now();
  await page.getByTestId('show-all').click();
  await page.waitForFunction(() => /^-?0\.0.* – 6[0-6]\.\d/.test(document.querySelector('[data-testid="window-text"]').innerText));
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid="view-status"]');
    return s?.dataset.settled === 'true';
  }, null, { timeout: 180000, polling: 200 });
  const whole = Date.now() - t1;
  const all = await waitForInk(page, 'timeseries-canvas', 20000);
  assert.ok(all.tenths.every((n) => n > 1000), `trace over the whole duration: ${all.tenths}`);
  assert.match(await windowText(page), /^-?0\.0.* – 6[0-6]\.\d/);
  await page.screenshot({ path: join(shots, 'view-long-whole.png') });
  // Frame times while panning 64 channels: drag across the plot.
  await page.evaluate(() => window.neurosiftFrameTimes());
  const canvas = page.getByTestId('timeseries-canvas');
  const box = await canvas.boundingBox();
  await page.keyboard.press('=');
  await page.keyboard.press('=');
  await page.waitForTimeout(500);
  await page.mouse.move(box.x + box.width * 0.8, box.y + 100);
  await page.mouse.down();
  for (let i = 0; i < 60; i++) {
    await page.mouse.move(box.x + box.width * (0.8 - i * 0.01), box.y + 100);
  }
  await page.mouse.up();
  const frames = (await page.evaluate(() => window.neurosiftFrameTimes())).sort((x, y) => x - y);
  const q = (p) => frames[Math.min(frames.length - 1, Math.floor(frames.length * p))];
  console.log(`# long recording (60 s x 64 ch, 30 kHz, 50 ms latency): first trace ${firstTrace} ms; ` +
    `whole duration ${whole} ms; draw while panning 64 ch x ${width} px: ` +
    `${frames.length} frames, p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${frames.at(-1).toFixed(1)} ms`);
  assert.ok(frames.length >= 30);
  await page.screenshot({ path: join(shots, 'view-long-panned.png') });
  assert.deepEqual(page.errors, []);
});

test('closing a tab while its window is still being summarized breaks nothing', async () => {
  const page = await newPage(1600);
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${slow}/files/long.nwb`)}&tab=${encodeURIComponent('/acquisition/ElectricalSeries')}`);
  await waitForInk(page, 'timeseries-canvas', 2000, 0, 60000);
  await page.getByTestId('show-all').click();
  await page.waitForTimeout(400);
  await page.locator('.tab-bar .close').first().click();
  await page.waitForTimeout(4000);
  // Another object opens and draws: the app still works.
  await page.locator('tr[data-path="/acquisition/ElectricalSeries"] a').click();
  await waitForInk(page, 'timeseries-canvas', 2000, 0, 60000);
  assert.deepEqual(page.errors, []);
});
