// Opening a file in the app, in Chromium, with the data served at 50 ms per
// request: time from navigation to the rendered overview, cold (a fresh
// browser context: no HTTP cache, no saved metadata) and reopened (the same
// context: app from the HTTP cache, metadata pages from Cache Storage), cut
// into phases by the performance marks the app (`a-…`) and the first
// worker (`w-…`) set. Prints a table: phase → median ms over the runs,
// requests started in the phase (resource timing of page and workers),
// and the data server's totals (requests, bytes).
//
// Usage (from tests/browser): node open_bench.mjs FILE.nwb [RUNS]
// Needs NEUROSIFT_DIST (built app) and NEUROSIFT_RANGE_SERVER; LATENCY_MS
// (default 50), REOPEN_AFTER_MS (default 0). To compare builds on a busy
// machine, BENCH_DISTS="before=DIR,after=DIR" runs them in turn (one table
// each).

import { dirname, basename } from 'node:path';
import { launchChromium, startServer, stopServers } from './support.mjs';

const file = process.argv[2];
const runs = Number(process.argv[3] ?? '5');
const dists = (process.env.BENCH_DISTS ?? `app=${process.env.NEUROSIFT_DIST}`)
  .split(',').map((d) => d.split('='));
const latency = process.env.LATENCY_MS ?? '50';
// The reopen comes this long after the first page closed (default at once:
// its renderer may then still hold the compiled wasm; a later visit
// compiles it again, or loads the browser's code cache of it).
const reopenAfter = Number(process.env.REOPEN_AFTER_MS ?? '0');

const apps = [];
for (const [label, dir] of dists) {
  apps.push([label, await startServer(['--dir', dirname(file), '--app-dir', dir])]);
}
const data = await startServer(['--dir', dirname(file), '--latency-ms', latency]);
const stats = async () => (await (await fetch(`${data}/__control/stats`)).json());
const reset = () => fetch(`${data}/__control/reset`, { method: 'POST' });
const browser = await launchChromium();
const urlOf = (app) => `${app}/nwb?url=${encodeURIComponent(`${data}/files/${basename(file)}`)}`;

// Marks and resource entries of the page and its workers, on the page's
// clock (ms since navigation).
async function timeline(page) {
  const own = await page.evaluate(() => ({
    origin: performance.timeOrigin,
    marks: performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]),
    resources: performance.getEntriesByType('resource').map((r) => [r.name, r.startTime, r.responseEnd]),
  }));
  const workers = [];
  for (const w of page.workers()) {
    try {
      const t = await w.evaluate(() => ({
        origin: performance.timeOrigin,
        marks: performance.getEntriesByType('mark').map((m) => [m.name, m.startTime]),
        resources: performance.getEntriesByType('resource').map((r) => [r.name, r.startTime, r.responseEnd]),
      }));
      const shift = t.origin - own.origin;
      workers.push({
        marks: Object.fromEntries(t.marks.map(([n, s]) => [n, s + shift])),
        resources: t.resources.map(([n, s, e]) => [n, s + shift, e + shift]),
      });
    } catch { /* a worker that went away */ }
  }
  // The worker that opened the file from the server (the others open from
  // its pages later): the earliest open.
  workers.sort((a, b) => (a.marks['w-open-begin'] ?? Infinity) - (b.marks['w-open-begin'] ?? Infinity));
  const first = workers[0] ?? { marks: {}, resources: [] };
  const marks = { ...Object.fromEntries(own.marks), ...first.marks };
  const requests = [...own.resources, ...first.resources].filter(([n]) => n.startsWith(data));
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return n ? n.responseEnd : 0;
  });
  const wasm = own.resources.filter(([n]) => n.endsWith('.wasm')).map(([, , e]) => e);
  marks['html'] = nav;
  if (wasm.length) marks['app-wasm-fetched'] = Math.max(...wasm);
  return { marks, requests };
}

// Phases: [label, from mark, to mark].
// Rows whose marks a build does not set show `–` (the early open, from
// the page's first script in `www/index.html`, sets `a-early-probe-…`; the app's own
// probe, used when the worker could not open the file by itself, `a-probe-…`; a reopen
// that draws the saved overview, `a-saved-overview…`: its worker rows are then the
// open that checks it, after the overview is on screen).
const PHASES = [
  ['HTML', null, 'html'],
  ['app js+wasm fetched', 'html', 'app-wasm-fetched'],
  ['app wasm instantiated, page built', 'app-wasm-fetched', 'a-page'],
  ['early probe sent (page, from navigation)', null, 'a-early-probe-sent'],
  ['early probe answered, saved pages looked up', 'a-early-probe-sent', 'a-early-probe-done'],
  ['app: saved overview checked (from navigation)', null, 'a-saved-overview'],
  ['app: probe (size, validator)', 'a-probe-start', 'a-probe-done'],
  ['app: saved metadata looked up', 'a-probe-done', 'a-cache-looked-up'],
  ['worker wasm ready (from navigation)', null, 'w-start'],
  ['worker: open begins (from navigation)', null, 'w-open-begin'],
  ['worker: head+tail / seeds', 'w-open-begin', 'w-source-ready'],
  ['worker: superblock, root', 'w-source-ready', 'w-store-open'],
  ['worker: walk', 'w-store-open', 'w-walk'],
  ['worker: session + specs', 'w-walk', 'w-session+specs'],
  ['worker: overview', 'w-session+specs', 'w-overview'],
  ['worker: pages exported', 'w-open-done', 'w-pages-exported'],
  ['overview to the app (transfer, decode, app ready)', 'w-pages-exported', 'a-overview-received'],
  ['pages saved by the worker (Cache Storage)', 'w-pages-exported', 'w-pages-saved'],
  ['pages saved by the app (Cache Storage)', 'a-overview-received', 'a-pages-saved'],
  ['render', 'a-render-begin', 'a-rendered'],
  ['total: navigation → rendered overview', null, 'a-rendered'],
  ['the file opened, its overview compared with the saved one (from navigation)', null, 'a-saved-overview-checked'],
];

async function once(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await reset();
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('a-rendered').length > 0, null,
    { timeout: 120000, polling: 10 });
  // Rows shown: the overview really is there.
  await page.locator('[data-testid="tree"] tr.row').first().waitFor();
  // What a reopen starts from is saved after the overview shows (builds
  // that save no overview: 1 s more per run).
  await page.waitForFunction(() => ['a-overview-saved', 'a-saved-overview-checked']
    .some((m) => performance.getEntriesByName(m).length > 0), null, { timeout: 1000, polling: 10 }).catch(() => {});
  const t = await timeline(page);
  const s = await stats();
  await page.close();
  return { ...t, total: s };
}

const all = apps.map(() => ({ cold: [], reopen: [] }));
for (let i = 0; i < runs; i++) {
  for (const [k, [, app]] of apps.entries()) {
    const context = await browser.newContext({ viewport: { width: 1600, height: 1100 } });
    await context.addInitScript(() => localStorage.setItem('neurosift.lindiBase', 'http://127.0.0.1:9/none'));
    all[k].cold.push(await once(context, urlOf(app)));
    if (reopenAfter) await new Promise((ok) => setTimeout(ok, reopenAfter));
    all[k].reopen.push(await once(context, urlOf(app)));
    await context.close();
  }
}

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : NaN;
};
function row(list, [label, from, to]) {
  const ms = median(list.map((r) => (r.marks[to] ?? NaN) - (from ? (r.marks[from] ?? NaN) : 0)));
  const reqs = median(list.map((r) => {
    const a = from ? r.marks[from] : 0;
    const b = r.marks[to];
    if (a === undefined || b === undefined) return NaN;
    return r.requests.filter(([, s]) => s >= a && s < b).length;
  }));
  return [Number.isFinite(ms) ? ms.toFixed(0) : '–', Number.isFinite(reqs) ? reqs : '–'];
}
for (const [k, [label]] of apps.entries()) {
const results = all[k];
console.log(`\n${label}: ${basename(file)}, ${latency} ms per request, reopened ${reopenAfter} ms after closing, median of ${runs} runs\n`);
console.log('| phase | cold ms | cold requests | reopen ms | reopen requests |\n|---|---|---|---|---|');
for (const p of PHASES) {
  const [cm, cr] = row(results.cold, p);
  const [rm, rr] = row(results.reopen, p);
  console.log(`| ${p[0]} | ${cm} | ${cr} | ${rm} | ${rr} |`);
}
const tot = (list, k) => median(list.map((r) => r.total[k]));
console.log(`| data server totals: requests | ${tot(results.cold, 'requests')} | | ${tot(results.reopen, 'requests')} | |`);
console.log(`| data server totals: MB | ${(tot(results.cold, 'bytes') / 1e6).toFixed(2)} | | ${(tot(results.reopen, 'bytes') / 1e6).toFixed(2)} | |`);
console.log(`\nall totals (ms): cold ${results.cold.map((r) => r.marks['a-rendered']?.toFixed(0)).join(' ')}; reopen ${results.reopen.map((r) => r.marks['a-rendered']?.toFixed(0)).join(' ')}`);
}
await browser.close();
stopServers();
