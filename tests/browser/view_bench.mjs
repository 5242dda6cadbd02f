// The timeseries view on a benchmark file served with 50 ms latency, in
// Chromium: time to first trace (cold, and reopened with the metadata
// cached), time and bytes to show the whole duration, and draw times while
// panning 64 channels on a 1600+ px plot. Prints a table.
//
// Usage (from tests/browser): node view_bench.mjs FILE.nwb
// Needs NEUROSIFT_DIST (built app) and NEUROSIFT_RANGE_SERVER; `cargo xtask
// bench --views` runs it on the benchmark's ecephys.nwb.

import { spawn } from 'node:child_process';
import { dirname, basename } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const file = process.argv[2];
const serverBin = process.env.NEUROSIFT_RANGE_SERVER;
const dist = process.env.NEUROSIFT_DIST;
const latency = process.env.LATENCY_MS ?? '50';
const servers = [];
function startServer(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(serverBin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(child);
    child.on('error', reject);
    createInterface({ input: child.stdout }).once('line', (line) => {
      const m = line.match(/listening on (http:\/\/\S+)/);
      m ? resolve(m[1]) : reject(new Error(`unexpected: ${line}`));
    });
  });
}

const app = await startServer(['--dir', dirname(file), '--app-dir', dist]);
const data = await startServer(['--dir', dirname(file), '--latency-ms', latency]);
const stats = async () => (await (await fetch(`${data}/__control/stats`)).json());
const reset = () => fetch(`${data}/__control/reset`, { method: 'POST' });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
});
const context = await browser.newContext({ viewport: { width: 2300, height: 1100 } });
await context.addInitScript(() => localStorage.setItem('neurosift.lindiBase', 'http://127.0.0.1:9/none'));
const url = `${app}/nwb?url=${encodeURIComponent(`${data}/files/${basename(file)}`)}&tab=${encodeURIComponent('/acquisition/ElectricalSeries')}`;

const inked = (page) => page.evaluate(() => {
  const c = document.querySelector('[data-testid="timeseries-canvas"]');
  if (!c || !c.width) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 200) n++;
  return n;
});
async function firstTrace(page) {
  const t0 = Date.now();
  await page.goto(url);
  while ((await inked(page)) < 2000) await page.waitForTimeout(20);
  return Date.now() - t0;
}
const settled = (page) => page.waitForFunction(
  () => document.querySelector('[data-testid="view-status"]')?.dataset.settled === 'true', null,
  { timeout: 600000, polling: 100 });

const rows = [];
const mb = (b) => (b / 1e6).toFixed(1);
await reset();
const page = await context.newPage();
const cold = await firstTrace(page);
let s = await stats();
rows.push(['first trace, cold', `${cold} ms`, s.requests, mb(s.bytes)]);
await reset();
const warm = await firstTrace(page);
s = await stats();
rows.push(['first trace, reopened', `${warm} ms`, s.requests, mb(s.bytes)]);
await page.getByTestId('channel-count').selectOption('64');
await settled(page);
await reset();
const t1 = Date.now();
await page.getByTestId('show-all').click();
await page.waitForFunction(() => !/^0\.0+ – 1\./.test(document.querySelector('[data-testid="window-text"]').innerText));
await settled(page);
const whole = Date.now() - t1;
s = await stats();
rows.push(['whole duration, 64 channels', `${whole} ms`, s.requests, mb(s.bytes)]);
await reset();
const t2 = Date.now();
await page.getByTestId('show-all').click();
await page.keyboard.press('=');
await settled(page);
await page.getByTestId('show-all').click();
await settled(page);
rows.push(['zoom in and out again', `${Date.now() - t2} ms`, (await stats()).requests, mb((await stats()).bytes)]);
await page.screenshot({ path: '/tmp/view-bench-whole.png' });
// Panning 64 channels.
const canvas = page.getByTestId('timeseries-canvas');
await canvas.focus();
for (let i = 0; i < 6; i++) await page.keyboard.press('=');
await settled(page);
const box = await canvas.boundingBox();
await page.evaluate(() => window.neurosiftFrameTimes());
await page.mouse.move(box.x + box.width * 0.8, box.y + 100);
await page.mouse.down();
for (let i = 0; i < 120; i++) await page.mouse.move(box.x + box.width * (0.8 - i * 0.005), box.y + 100);
await page.mouse.up();
const frames = (await page.evaluate(() => window.neurosiftFrameTimes())).sort((a, b) => a - b);
const q = (p) => frames[Math.min(frames.length - 1, Math.floor(frames.length * p))].toFixed(1);
const width = await page.evaluate(() => document.querySelector('[data-testid="timeseries-canvas"]').width);
rows.push([`draw while panning 64 ch × ${width} px`, `p50 ${q(0.5)} / p95 ${q(0.95)} / max ${frames.at(-1).toFixed(1)} ms`, frames.length + ' frames', '']);
// Minutes of panning and zooming over the whole recording: the readers'
// memory (sum of the workers' wasm memory) must stay bounded.
const memoryOf = async () => {
  const text = await page.getByTestId('status').innerText();
  const m = text.match(/readers' memory ([\d.]+) (MB|GB)/);
  return m ? Number(m[1]) * (m[2] === 'GB' ? 1000 : 1) : NaN;
};
const panSecs = Number(process.env.PAN_SECS ?? '120');
const memStart = await memoryOf();
const tPan = Date.now();
let moves = 0;
while (Date.now() - tPan < panSecs * 1000) {
  const key = ['ArrowRight', 'ArrowRight', 'ArrowRight', '=', '-', 'ArrowLeft'][moves % 6];
  await page.keyboard.press(key);
  if (moves % 25 === 0) {
    await page.getByTestId('show-all').click();
    await canvas.focus();
  }
  moves++;
  await page.waitForTimeout(100);
}
await settled(page);
rows.push([`${panSecs} s of panning and zooming (${moves} moves)`, `readers' memory ${memStart} → ${await memoryOf()} MB`, '', '']);

// Raster and PSTH, each in a fresh browser context (cold: no cached metadata).
async function coldView(tab, testId) {
  const ctx = await browser.newContext({ viewport: { width: 1600, height: 1100 } });
  await ctx.addInitScript(() => localStorage.setItem('neurosift.lindiBase', 'http://127.0.0.1:9/none'));
  const p = await ctx.newPage();
  await reset();
  const t = Date.now();
  await p.goto(`${app}/nwb?url=${encodeURIComponent(`${data}/files/${basename(file)}`)}&tab=${encodeURIComponent(tab)}`);
  await p.waitForFunction((id) => {
    const c = document.querySelector(`[data-testid="${id}"]`);
    if (!c || !c.width) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200) n++;
    return n > 50;
  }, testId, { timeout: 120000, polling: 20 });
  const took = Date.now() - t;
  const st = await stats();
  await p.screenshot({ path: `/tmp/view-bench-${testId}.png`, fullPage: true });
  await ctx.close();
  return [took, st];
}
for (const [label, tab, id] of [['first raster, cold', 'view:Raster|/units', 'raster-canvas'],
  ['first PSTH, cold', 'view:PSTH|/intervals/trials^/units', 'psth-canvas']]) {
  const [took, st] = await coldView(tab, id);
  rows.push([label, `${took} ms`, st.requests, mb(st.bytes)]);
}
const statusText = await page.getByTestId('status').innerText();
rows.push(['after all of the above (status line)', statusText.replace(/\n/g, ' '), '', '']);
const mem = await page.evaluate(() => performance.memory ? (performance.memory.usedJSHeapSize / 1e6).toFixed(0) + ' MB JS heap' : '');
console.log(`\n${basename(file)}, ${latency} ms per request\n`);
console.log('| step | time | requests | MB |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(mem);
await browser.close();
for (const s2 of servers) s2.kill();
