// The image views in real Chromium on the pynwb-written ophys fixture:
// frames draw and follow the tab's time cursor (and move it), orientation
// changes the pixels as expected and stays in the URL, planes of a volume,
// play, projections with progress, still images and galleries, external
// and empty series, ROIs over their image (hover names them, a click
// selects one). Prints time to first frame and frames per second while
// playing at 50 ms latency. Screenshots go to target/screenshots/.
//
// Needs: NEUROSIFT_DIST, NEUROSIFT_FIXTURES, NEUROSIFT_RANGE_SERVER.
// `cargo xtask test` sets them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureFixture, launchChromium, newViewPage, startServer, stopServers } from './support.mjs';

const dist = process.env.NEUROSIFT_DIST;
const fixtures = process.env.NEUROSIFT_FIXTURES;
const shots = process.env.NEUROSIFT_SCREENSHOTS ?? 'target/screenshots';
mkdirSync(shots, { recursive: true });


let browser, app, slow, slowMovie;

before(async () => {
  // A 512 x 512 x 300 movie (110 MB), written once per fixture directory.
  const longDir = resolve(fixtures, '..', 'test-fixtures-long');
  ensureFixture('imaging_movie.py', longDir, 'movie.nwb');
  app = await startServer(['--dir', fixtures, '--app-dir', dist]);
  slow = await startServer(['--dir', fixtures, '--latency-ms', '50']);
  slowMovie = await startServer(['--dir', longDir, '--latency-ms', '50']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  stopServers();
});

const newPage = (width = 1400) => newViewPage(browser, width);

const FILE = 'nwb_ophys.nwb';
const link = (tab, extra = '', server = app, file = FILE) =>
  `${app}/nwb?url=${encodeURIComponent(`${server}/files/${file}`)}&tab=${encodeURIComponent(tab)}${extra}`;

/// The pixels of a canvas (its own resolution): width, height, the count of
/// non-black pixels, and (if `full`) gray levels (the red channel) and RGBA.
async function pixels(page, testId, nth = 0, full = true) {
  return page.evaluate(([id, nth, full]) => {
    const c = document.querySelectorAll(`[data-testid="${id}"]`)[nth];
    if (!c || !c.width || !c.height) return null;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const red = [], rgba = [];
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (full) {
        red.push(d[i]);
        rgba.push([d[i], d[i + 1], d[i + 2], d[i + 3]]);
      }
      if (d[i] + d[i + 1] + d[i + 2] > 30) lit++;
    }
    return { width: c.width, height: c.height, red, rgba, lit };
  }, [testId, nth, full]);
}

async function waitForPixels(page, testId, min = 100, nth = 0, timeout = 20000, full = true) {
  const start = Date.now();
  for (;;) {
    const p = await pixels(page, testId, nth, false);
    if (p && p.lit >= min) return full ? pixels(page, testId, nth) : p;
    if (Date.now() - start > timeout) throw new Error(`${testId} stayed blank: ${p && p.lit}`);
    await page.waitForTimeout(50);
  }
}

const frameShown = (page) => page.getByTestId('frame-box').getAttribute('data-frame');
const tabTime = (page) => new URL(page.url()).searchParams.get('tab-time');

async function waitForFrame(page, want) {
  await page.waitForFunction((w) => document.querySelector('[data-testid="frame-box"]')?.dataset.frame === w,
    String(want), { timeout: 20000 });
}

test('the frame follows the time cursor of a timeseries in the same tab, and moves it', async () => {
  const page = await newPage();
  const tab = JSON.stringify(['/acquisition/TwoPhotonSeries', '/processing/ophys/Fluorescence/RoiResponseSeries']);
  await page.goto(link(tab, '&tab-time=0.5,4.5,1.25'));
  await waitForPixels(page, 'frame-canvas', 1000);
  // Frames at 0.5 + i/10 s: the last at or before 1.25 s is frame 7.
  await waitForFrame(page, 7);
  const p = await pixels(page, 'frame-canvas');
  assert.deepEqual([p.width, p.height], [64, 48]);
  // A click on the traces sets the time; the frame follows.
  await page.getByTestId('timeseries-canvas').scrollIntoViewIfNeeded();
  const box = await page.getByTestId('timeseries-canvas').boundingBox();
  await page.mouse.click(box.x + box.width * 0.7, box.y + 40);
  await page.waitForFunction(() => new URL(location.href).searchParams.get('tab-time')?.split(',')[2] !== '1.25');
  const t = Number(tabTime(page).split(',')[2]);
  const want = Math.min(39, Math.floor((t - 0.5) * 10 + 1e-9));
  await waitForFrame(page, want);
  // The next frame moves the cursor to its time.
  await page.getByTestId('next-frame').click();
  await waitForFrame(page, want + 1);
  await page.waitForFunction((w) => Math.abs(Number(new URL(location.href).searchParams.get('tab-time')?.split(',')[2]) - w) < 1e-6,
    0.5 + (want + 1) / 10);
  await page.screenshot({ path: join(shots, 'images-series-with-traces.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
});

test('orientation turns the pixels as expected and stays in the URL', async () => {
  const page = await newPage();
  await page.goto(link('/acquisition/TwoPhotonSeries'));
  await waitForPixels(page, 'frame-canvas', 1000);
  await waitForFrame(page, 0);
  const a = await pixels(page, 'frame-canvas');
  const [w, h] = [a.width, a.height];
  await page.getByTestId('rotate').click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('orient') !== null);
  await page.waitForFunction(() => document.querySelector('[data-testid="frame-canvas"]').width === 48);
  const r = await waitForPixels(page, 'frame-canvas', 1000);
  assert.deepEqual([r.width, r.height], [h, w]);
  // Rotated 90° clockwise: shown (y, x) is stored (h-1-x, y).
  let diff = 0;
  for (let y = 0; y < r.height; y++) for (let x = 0; x < r.width; x++) {
    if (r.red[y * r.width + x] !== a.red[(h - 1 - x) * w + y]) diff++;
  }
  assert.equal(diff, 0, 'rotated pixels');
  assert.equal(new URL(page.url()).searchParams.get('orient'), 'swap,fx');
  await page.getByTestId('flip-x').click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('orient') === 'swap');
  await page.waitForTimeout(300);
  const s = await waitForPixels(page, 'frame-canvas', 1000);
  diff = 0;
  for (let y = 0; y < s.height; y++) for (let x = 0; x < s.width; x++) {
    if (s.red[y * s.width + x] !== a.red[x * w + y]) diff++;
  }
  assert.equal(diff, 0, 'transposed pixels');
  // Reloaded, the orientation is kept.
  await page.reload();
  await waitForPixels(page, 'frame-canvas', 1000);
  const k = await pixels(page, 'frame-canvas');
  assert.deepEqual([k.width, k.height], [48, 64]);
  assert.match(await page.getByTestId('orient-text').innerText(), /rows ↔ columns/);
  // The pixel under the pointer is named in stored coordinates.
  // (Scrolled clear of the status bar that covers the page's last line.)
  await page.getByTestId('frame-canvas').evaluate((e) => e.scrollIntoView({ block: 'center' }));
  const cbox = await page.getByTestId('frame-canvas').boundingBox();
  await page.mouse.move(cbox.x + 2, cbox.y + cbox.height - 2);
  await page.getByTestId('pixel-readout').getByText(/row 0, column 63: \d+/).waitFor();
  await page.screenshot({ path: join(shots, 'images-orientation.png') });
  assert.deepEqual(page.errors, []);
});

test('planes of a volume, frame stepping, display range and projections', async () => {
  const page = await newPage();
  await page.goto(link('/acquisition/Volume'));
  await waitForPixels(page, 'frame-canvas', 200);
  const p0 = await pixels(page, 'frame-canvas');
  assert.deepEqual([p0.width, p0.height], [40, 32]);
  await page.getByTestId('plane').selectOption('2');
  await page.waitForFunction((before) => {
    const c = document.querySelector('[data-testid="frame-canvas"]');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i];
    return s !== before;
  }, p0.red.reduce((x, y) => x + y, 0));
  await page.getByTestId('frame-slider').fill('5');
  await waitForFrame(page, 5);
  // A NaN pixel is drawn magenta (frame 3, plane 1... here plane 0 at frame 3).
  await page.getByTestId('plane').selectOption('0');
  await page.getByTestId('frame-slider').fill('3');
  await waitForFrame(page, 3);
  await page.waitForTimeout(200);
  const nan = await pixels(page, 'frame-canvas');
  assert.deepEqual(nan.rgba[1 * 40 + 2].slice(0, 3), [255, 0, 255]);
  // Display range typed in: everything above is white.
  await page.getByTestId('range-max').first().fill('0');
  await page.getByTestId('range-max').first().press('Enter');
  await page.getByTestId('range-min').first().fill('-1');
  await page.getByTestId('range-min').first().press('Enter');
  await page.waitForTimeout(200);
  const clipped = await pixels(page, 'frame-canvas');
  assert.ok(clipped.red.filter((v) => v === 255).length > clipped.red.length / 2);
  // A projection of all frames, with progress, drawn.
  await page.getByTestId('projection').locator('summary').click();
  await page.getByTestId('projection-run').click();
  await page.getByTestId('projection-done').waitFor();
  await waitForPixels(page, 'projection-canvas', 100);
  assert.match(await page.getByTestId('projection-done').innerText(), /mean of frames 0–11 \(12 frames\)/);
  await page.screenshot({ path: join(shots, 'images-volume-projection.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
});

test('still images, galleries, and series without frames', async () => {
  const page = await newPage();
  await page.goto(link('view:Images|/acquisition/stills'));
  await page.getByTestId('gallery').waitFor();
  for (let i = 0; i < 4; i++) await waitForPixels(page, 'image-canvas', 20, i);
  const rgb = await pixels(page, 'image-canvas', 2);
  assert.deepEqual([rgb.width, rgb.height], [30, 20]);
  // Stored (row 1, column 2) = (12, 16, 128), drawn over 0..255.
  assert.deepEqual(rgb.rgba[1 * 30 + 2], [12, 16, 128, 255]);
  const rgba = await pixels(page, 'image-canvas', 3);
  assert.deepEqual(rgba.rgba[0], [0, 0, 255, 200]);
  await page.screenshot({ path: join(shots, 'images-gallery.png'), fullPage: true });
  // The behavior file's Images and ImageSeries, by Neurosift's names.
  await page.goto(link('view:Image|/acquisition/images/gray', '', app, 'nwb_behavior.nwb'));
  await waitForPixels(page, 'image-canvas', 100);
  await page.goto(link('view:TwoPhotonSeries|/stimulus/presentation/movie', '', app, 'nwb_behavior.nwb'));
  await waitForPixels(page, 'frame-canvas', 100);
  await page.goto(link('/acquisition/external_movie'));
  await page.getByTestId('external-file').getByText('behavior_movie.avi').waitFor();
  await page.goto(link('/acquisition/empty_movie'));
  await page.getByTestId('no-frames').waitFor();
  // 4096 x 4096: shown downsampled, the tab stays responsive.
  await page.goto(link('/acquisition/big_frame'));
  const big = await waitForPixels(page, 'frame-canvas', 1000, 0, 60000, false);
  assert.deepEqual([big.width, big.height], [1024, 1024]);
  await page.getByTestId('pixel-readout').getByText('', { exact: false }).waitFor();
  await page.screenshot({ path: join(shots, 'images-big-frame.png') });
  assert.deepEqual(page.errors, []);
});

test('at 50 ms latency: time to first frame and frames per second while playing', async () => {
  const page = await newPage();
  // The small fixture: 40 frames of 48 x 64.
  let t0 = Date.now();
  await page.goto(link('/acquisition/TwoPhotonSeries', '', slow));
  await waitForPixels(page, 'frame-canvas', 1000, 0, 60000);
  const small = [Date.now() - t0, await page.getByTestId('frame-box').getAttribute('data-first-frame-ms')];
  await page.getByTestId('speed').selectOption('30');
  let t1 = Date.now();
  await page.getByTestId('play').click();
  await waitForFrame(page, 39);
  const smallFps = 39 / ((Date.now() - t1) / 1000);
  // 512 x 512 uint16, one gzip chunk (~370 KB) per frame.
  t0 = Date.now();
  await page.goto(link('/acquisition/TwoPhotonSeries', '', slowMovie, 'movie.nwb'));
  await waitForPixels(page, 'frame-canvas', 100000, 0, 60000, false);
  const big = [Date.now() - t0, await page.getByTestId('frame-box').getAttribute('data-first-frame-ms')];
  const results = [];
  for (const speed of ['30', '60']) {
    await page.getByTestId('speed').selectOption(speed);
    await page.getByTestId('frame-slider').fill('0');
    await waitForFrame(page, 0);
    t1 = Date.now();
    await page.getByTestId('play').click();
    await page.waitForTimeout(4000);
    const played = Number(await frameShown(page));
    const seconds = (Date.now() - t1) / 1000;
    const last = await page.getByTestId('frame-box').getAttribute('data-fps');
    await page.getByTestId('prev-frame').click(); // pauses
    results.push(`${speed} fps asked: ${(played / seconds).toFixed(1)} fps over ${seconds.toFixed(1)} s (last second ${last})`);
    assert.ok(played >= 30, `played ${played} frames at ${speed} fps`);
  }
  await page.screenshot({ path: join(shots, 'images-movie.png') });
  // A projection of every frame shows its progress and stops when asked.
  await page.getByTestId('projection').locator('summary').click();
  await page.getByTestId('projection-end').fill('300');
  await page.getByTestId('projection-end').press('Enter');
  const tp = Date.now();
  await page.getByTestId('projection-run').click();
  await page.getByTestId('projection-progress').waitFor();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="projection-progress"] progress')?.value) > 0.05,
    null, { timeout: 60000 });
  const shownProgress = await page.locator('[data-testid="projection-progress"] progress').getAttribute('value');
  await page.getByTestId('projection-cancel').click();
  await page.getByTestId('projection-progress').waitFor({ state: 'detached' });
  await page.waitForTimeout(1500);
  assert.equal(await page.getByTestId('projection-done').count(), 0, 'cancelled: no result');
  // Run to the end: the mean of 300 frames.
  await page.getByTestId('projection-run').click();
  await page.getByTestId('projection-done').waitFor({ timeout: 120000 });
  const projection = Date.now() - tp;
  await waitForPixels(page, 'projection-canvas', 100000, 0, 20000, false);
  results.push(`mean of 300 frames (cancelled once at ${(Number(shownProgress) * 100).toFixed(0)}%) done ${projection} ms after the first start`);
  console.log(`# imaging at 50 ms latency: 48 x 64 x 40 fixture: first frame ${small[0]} ms from page load ` +
    `(${small[1]} ms in the view), played at ${smallFps.toFixed(1)} fps (30 asked); ` +
    `512 x 512 x 300 uint16 movie (110 MB): first frame ${big[0]} ms from page load (${big[1]} ms in the view); ` +
    results.join('; '));
  assert.ok(smallFps >= 15, `small fixture at ${smallFps} fps`);
  assert.deepEqual(page.errors, []);
});

const PS = '/processing/ophys/ImageSegmentation/PlaneSegmentation';

test('ROIs over their reference image: hover names one, a click selects it and its trace', async () => {
  const page = await newPage();
  const tab = JSON.stringify([`PlaneSegmentation|${PS}`, '/processing/ophys/Fluorescence/RoiResponseSeries']);
  await page.goto(link(tab));
  await page.getByTestId('roi-status').getByText('6 of 6 ROIs (image_mask)').waitFor();
  await page.getByTestId('roi-status').getByText(/over .*mean_image/).waitFor();
  const p = await waitForPixels(page, 'rois-canvas', 1000);
  assert.deepEqual([p.width, p.height], [64, 48]);
  // ROI 101 is centered on stored (row 20, column 40): drawn green over gray.
  const c = p.rgba[20 * 64 + 40];
  assert.ok(c[1] > c[0] + 40 && c[1] > c[2] + 40, `green at ROI 101: ${c}`);
  const canvas = page.getByTestId('rois-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  const at = (row, col) => [box.x + (col + 0.5) * box.width / 64, box.y + (row + 0.5) * box.height / 48];
  await page.mouse.move(...at(20, 40));
  await page.getByTestId('roi-hover').getByText(/ROI 101 · quality: bad · area: [\d.]+ · weight 1\.000/).waitFor();
  await page.mouse.click(...at(20, 40));
  await page.getByTestId('roi-status').getByText('1 selected').waitFor();
  await page.locator('[data-testid="roi-list"] tr.selected[data-id="101"]').waitFor();
  // The traces of the same tab show the selected ROI only.
  await page.getByTestId('channel-range').getByText('channels 1–1 of 1 (filtered from 6)').waitFor();
  // Others dimmed, the selected one stronger.
  await page.waitForTimeout(200);
  const q = await pixels(page, 'rois-canvas');
  const s = q.rgba[20 * 64 + 40], other = q.rgba[8 * 64 + 10];
  assert.ok(s[1] >= c[1], `selected stronger: ${s} vs ${c}`);
  assert.ok(other[0] < p.rgba[8 * 64 + 10][0], 'others dimmed');
  // Shift-click adds; column conditions select.
  await page.keyboard.down('Shift');
  await page.mouse.click(...at(8, 10));
  await page.keyboard.up('Shift');
  await page.getByTestId('roi-status').getByText('2 selected').waitFor();
  await page.getByTestId('roi-filter').fill('quality=good');
  await page.getByTestId('roi-filter').press('Enter');
  await page.getByTestId('roi-status').getByText('3 selected').waitFor();
  await page.getByTestId('channel-range').getByText('channels 1–3 of 3 (filtered from 6)').waitFor();
  await page.screenshot({ path: join(shots, 'images-rois-with-traces.png'), fullPage: true });
  // The conditions are in the URL: a reload selects the same ROIs.
  assert.equal(new URL(page.url()).searchParams.get('rois'), 'quality=good');
  await page.reload();
  await page.getByTestId('roi-status').getByText('3 selected').waitFor();
  await page.getByTestId('channel-range').getByText('channels 1–3 of 3 (filtered from 6)').waitFor();
  // Orientation turns the masks with the image.
  await page.getByTestId('rotate').first().click();
  await page.waitForFunction(() => document.querySelector('[data-testid="rois-canvas"]').width === 48);
  const r = await waitForPixels(page, 'rois-canvas', 1000);
  // Stored (20, 40) is shown at (y=40, x=47-20).
  const g = r.rgba[40 * 48 + 27];
  assert.ok(g[1] > g[0] + 15 && g[1] > g[2] + 15, `green (dimmed: not selected) after rotating: ${g}`);
  assert.deepEqual(page.errors, []);
});

test('pixel masks, voxel masks by plane, masks of another size, and the segmentation view', async () => {
  const page = await newPage();
  await page.goto(link('view:ImageSegmentation|/processing/ophys/ImageSegmentation'));
  await page.getByTestId('plane-segmentation').waitFor();
  const options = await page.getByTestId('plane-segmentation').locator('option').allInnerTexts();
  assert.deepEqual(options, ['Mismatch', 'PixelMasks', 'PlaneSegmentation', 'VoxelMasks']);
  // The first: masks of 20 x 20 on a 48 x 64 plane, said so, drawn on black.
  await page.getByTestId('warning').getByText('SummaryImages/mean is 48 × 64 but the masks are 20 × 20', { exact: false }).waitFor();
  await waitForPixels(page, 'rois-canvas', 20);
  await page.getByTestId('plane-segmentation').selectOption({ label: 'PixelMasks' });
  await page.getByTestId('roi-status').getByText('4 of 4 ROIs (pixel_mask)').waitFor();
  await page.getByTestId('roi-status').getByText(/over .*SummaryImages\/mean/).waitFor();
  await waitForPixels(page, 'rois-canvas', 1000);
  await page.screenshot({ path: join(shots, 'images-pixel-masks.png'), fullPage: true });
  await page.getByTestId('plane-segmentation').selectOption({ label: 'VoxelMasks' });
  await page.getByTestId('roi-status').getByText('3 of 3 ROIs (voxel_mask)').waitFor();
  await page.getByTestId('roi-status').getByText(/mean of the first 12 frames of \/acquisition\/Volume/).waitFor();
  await page.getByTestId('roi-plane').selectOption('3');
  // Plane 3 holds only ROI 2 (voxels on planes 2 and 3).
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="roi-list"] td')].filter((t) => t.innerText.includes('(empty)')).length === 2);
  await page.screenshot({ path: join(shots, 'images-voxel-masks.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
});
