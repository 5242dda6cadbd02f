// Sharing in real Chromium, through `neurosift serve` (the app, the fixtures and a sha1 store
// in one process, as a lab runs it): a raster and a PSTH frozen with "Share" open in another
// browser profile as the same pixels, with their provenance; the live link opens the same
// view; a tampered stored figure is refused; the example plugin (served from another origin,
// sandboxed) gets its data through figurl's protocol, can set the URL state and cannot read
// the app's storage; a figure URL pasted in the address box opens the figure.
//
// Needs NEUROSIFT_BIN (built after `cargo xtask web`, so the app is embedded),
// NEUROSIFT_FIXTURES, NEUROSIFT_PLUGIN_DIR. `cargo xtask test` sets them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { launchChromium } from './support.mjs';

const bin = process.env.NEUROSIFT_BIN;
const shots = process.env.NEUROSIFT_SCREENSHOTS ?? 'target/screenshots';
mkdirSync(shots, { recursive: true });
const TOKEN = 'share-test-token-0123456789';
const store = mkdtempSync(join(tmpdir(), 'neurosift-share-'));
const children = [];
let browser, base, pluginBase;

function serve(args) {
  return new Promise((resolve, reject) => {
    // No write token from the environment: only the one given here.
    const env = { ...process.env };
    delete env.NEUROSIFT_STORE_TOKEN;
    const child = spawn(bin, ['serve', '--bind', '127.0.0.1:0', ...args],
      { stdio: ['ignore', 'pipe', 'inherit'], env });
    children.push(child);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`neurosift serve exited (${code}) before printing its URL`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      line.startsWith('http://127.0.0.1:') ? resolve(line.trim().replace(/\/$/, '')) : reject(new Error(line));
    });
  });
}

before(async () => {
  base = await serve(['--dir', process.env.NEUROSIFT_FIXTURES, '--store', store, '--token', TOKEN]);
  // The plugin from another origin (another server).
  pluginBase = await serve(['--dir', process.env.NEUROSIFT_PLUGIN_DIR, '--store', join(store, 'plugin-side')]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill();
  rmSync(store, { recursive: true, force: true });
});

/// A page in a fresh context: another browser profile (no storage, no cache).
async function freshPage() {
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
  // In every frame, also the sandboxed plugin frames (no storage there).
  await context.addInitScript(() => {
    try { localStorage.setItem('neurosift.lindiBase', 'http://127.0.0.1:9/none'); } catch { /* sandboxed frame */ }
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  if (process.env.DEBUG_BROWSER) page.on('console', (m) => console.log('console:', m.type(), m.text()));
  return page;
}

/// The sha1 of a canvas' pixels (RGB, computed in the page) and how many are not white.
const canvasPrint = (page, id, nth = 0) => page.evaluate(async ([id, nth]) => {
  const c = document.querySelectorAll(`[data-testid="${id}"]`)[nth];
  if (!c || !c.width) return null;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const rgb = new Uint8Array((d.length / 4) * 3);
  let ink = 0;
  for (let i = 0, j = 0; i < d.length; i += 4, j += 3) {
    rgb[j] = d[i]; rgb[j + 1] = d[i + 1]; rgb[j + 2] = d[i + 2];
    if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++;
  }
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-1', rgb)))
    .map((x) => x.toString(16).padStart(2, '0')).join('');
  return { ink, w: c.width, h: c.height, digest };
}, [id, nth]);

/// The canvas once it has ink and two looks 100 ms apart agree.
async function settled(page, id, min, nth = 0) {
  let last = null;
  for (let i = 0; i < 300; i++) {
    const p = await canvasPrint(page, id, nth);
    if (p && p.ink >= min) {
      if (last && last.digest === p.digest) return p;
      last = p;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`${id} did not settle`);
}

const fileUrl = () => `${base}/files/nwb_ecephys.nwb`;
const nwbLink = (tab, extra = '') =>
  `${base}/nwb?url=${encodeURIComponent(fileUrl())}&tab=${encodeURIComponent(tab)}${extra}`;

/// Opens Share, makes the frozen figure (giving the store token the first time); its URL.
async function shareFrozen(page) {
  await page.getByTestId('share').click();
  await page.getByTestId('make-frozen').click();
  const url = page.getByTestId('frozen-url');
  const tokenBox = page.getByTestId('store-token');
  await Promise.race([url.waitFor(), tokenBox.waitFor()]);
  if (await tokenBox.isVisible()) {
    await tokenBox.fill(TOKEN);
    await page.getByTestId('store-save').click();
  }
  await url.waitFor();
  return url.inputValue();
}

test('a frozen raster opens in another profile as the same figure, with its provenance', async () => {
  const page = await freshPage();
  await page.goto(nwbLink('view:Raster|/units', '&tab-time=0,30&units-sort=-id'));
  const live = await settled(page, 'raster-canvas', 200);
  const frozenUrl = await shareFrozen(page);
  assert.match(frozenUrl, new RegExp(`^${base}/f\\?v=Raster&d=sha1://[0-9a-f]{40}`));
  const snippet = await page.getByTestId('frozen-iframe').inputValue();
  assert.match(snippet, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/f\?v=Raster&amp;d=sha1:\/\/[0-9a-f]{40}.*&amp;embedded=1"/);
  await page.screenshot({ path: join(shots, 'share-dialog.png') });
  const liveUrl = await page.getByTestId('live-url').inputValue();

  // Another profile: nothing of the first one's storage (no token, no cache).
  const other = await freshPage();
  await other.goto(frozenUrl);
  const frozen = await settled(other, 'raster-canvas', 200);
  assert.equal(frozen.digest, live.digest, `the same pixels (${live.w}×${live.h} vs ${frozen.w}×${frozen.h})`);
  const prov = await other.getByTestId('provenance').innerText();
  assert.ok(prov.includes(fileUrl()), prov);
  assert.ok(prov.includes('/units'), prov);
  assert.match(prov, /neurosift \S+ \(web app\)/);
  await other.screenshot({ path: join(shots, 'share-frozen-raster.png'), fullPage: true });
  // Panning a frozen figure does not invent data: its window stays.
  const before = new URL(other.url()).searchParams.get('s');
  await other.getByTestId('raster-canvas').hover();
  await other.mouse.wheel(0, 400);
  await other.waitForTimeout(300);
  assert.equal((await settled(other, 'raster-canvas', 200)).digest, frozen.digest);
  assert.equal(new URL(other.url()).searchParams.get('s'), before);
  // The file is not read: the figure page asked the file server nothing.
  const fetched = await other.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
  assert.ok(!fetched.some((u) => u.includes('/files/')), fetched.join('\n'));

  // The live link: the file read again, the same view.
  const third = await freshPage();
  await third.goto(liveUrl);
  const again = await settled(third, 'raster-canvas', 200);
  assert.equal(again.digest, live.digest, 'the live link draws the same raster');
  assert.deepEqual([...page.errors, ...other.errors, ...third.errors], []);

  // The stored object, tampered with on the server: refused, nothing drawn.
  const hash = frozenUrl.match(/sha1:\/\/([0-9a-f]{40})/)[1];
  const object = join(store, 'sha1', hash.slice(0, 2), hash.slice(2, 4), hash.slice(4, 6), hash);
  const text = readFileSync(object, 'utf8');
  writeFileSync(object, text.replace('"/units"', '"/unitz"'));
  const fourth = await freshPage();
  await fourth.goto(frozenUrl);
  const err = fourth.getByTestId('error');
  await err.waitFor();
  assert.match(await err.innerText(), /sha1/i);
  assert.equal(await fourth.getByTestId('raster-canvas').count(), 0);
  writeFileSync(object, text);
});

test('a frozen PSTH keeps its hash state and draws the same in another profile', async () => {
  const page = await freshPage();
  const hash = 'units=1,3&numBins=25&groupBy=condition';
  await page.goto(`${nwbLink('view:PSTH|/intervals/trials^/units')}#${hash}`);
  const live0 = await settled(page, 'psth-canvas', 100, 0);
  const live1 = await settled(page, 'psth-canvas', 100, 1);
  const url = await shareFrozen(page);
  const other = await freshPage();
  await other.goto(url);
  assert.equal((await settled(other, 'psth-canvas', 100, 0)).digest, live0.digest);
  assert.equal((await settled(other, 'psth-canvas', 100, 1)).digest, live1.digest);
  await other.screenshot({ path: join(shots, 'share-frozen-psth.png'), fullPage: true });
  // Pasting the figure URL in the home page's address box opens it.
  const home = await freshPage();
  await home.goto(`${base}/`);
  await home.getByTestId('url-input').fill(url);
  await home.getByTestId('url-input').press('Enter');
  await home.waitForURL(/\/f\?v=/);
  await settled(home, 'psth-canvas', 100, 0);
  assert.deepEqual([...page.errors, ...other.errors, ...home.errors], []);
});

test('the example plugin gets its data, sets URL state, and cannot read the app', async () => {
  const data = join(store, 'bars.json');
  writeFileSync(data, JSON.stringify({ title: 'Spikes per unit <b>not bold</b>', labels: ['u0', 'u1'], values: [3, 7] }));
  const uri = execFileSync(bin, ['store', data, '--store', store]).toString().trim();
  const d = uri.split('?')[0];
  const page = await freshPage();
  await page.goto(`${base}/`);
  await page.evaluate(() => localStorage.setItem('neurosift-store-token', 'secret-token'));
  const plugin = `${pluginBase}/files/index.html`;
  await page.goto(`${base}/f?v=${encodeURIComponent(plugin)}&d=${encodeURIComponent(d)}&label=bars`);
  const frame = page.frameLocator('[data-testid="plugin-iframe"]');
  await frame.getByText('Spikes per unit <b>not bold</b>').waitFor();
  assert.match(await frame.locator('#bars').innerText(), /u0: 3\s+u1: 7/);
  assert.equal(await frame.locator('#storage').innerText(), 'blocked');
  assert.equal(await page.getByTestId('plugin-iframe').getAttribute('sandbox'), 'allow-scripts');
  await frame.locator('#set-state').click();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('s') === '{"clicks":1}');
  await page.screenshot({ path: join(shots, 'share-plugin.png') });
  // A message from another window (not the plugin's) is ignored.
  const answered = await page.evaluate(() => new Promise((resolve) => {
    window.addEventListener('message', (e) => { if (e.data?.type === 'figurlResponse') resolve(true); });
    window.postMessage({ type: 'figurlRequest', figureId: 'x', requestId: '1', request: { type: 'getFigureData' } }, '*');
    setTimeout(() => resolve(false), 500);
  }));
  assert.equal(answered, false);
  assert.deepEqual(page.errors, []);
});
