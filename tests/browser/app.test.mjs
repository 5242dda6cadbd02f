// The app in real Chromium: DANDI-style and legacy links against a fake DANDI
// API, a cross-origin file server (like S3), local files, clear errors, the
// raw view. Screenshots go to target/screenshots/ (look at them).
//
// Needs: NEUROSIFT_DIST (built app), NEUROSIFT_FIXTURES (generated fixtures),
// NEUROSIFT_RANGE_SERVER (binary). `cargo xtask test` sets all three.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, statSync, mkdtempSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const dist = process.env.NEUROSIFT_DIST;
const fixtures = process.env.NEUROSIFT_FIXTURES;
const serverBin = process.env.NEUROSIFT_RANGE_SERVER;
const shots = process.env.NEUROSIFT_SCREENSHOTS ?? 'target/screenshots';
mkdirSync(shots, { recursive: true });

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

let browser, app, files, noRange, lindiBase, routes;
const size = (name) => statSync(join(fixtures, name)).size;

before(async () => {
  files = await startServer(['--dir', fixtures]);
  noRange = await startServer(['--dir', fixtures, '--fault', 'ignore_range']);
  const api = {
    json: {
      '/api/dandisets/000001/versions/draft/info/': {
        name: 'Test dandiset: ephys and behavior',
        metadata: { description: 'Synthetic recordings written by pynwb for the browser tests.' },
      },
      '/api/dandisets/000001/versions/draft/assets/paths/?path_prefix=&page=1&page_size=1000': {
        count: 1, next: null, previous: null,
        results: [{ path: 'sub-01', aggregate_files: 2, aggregate_size: size('nwb_ecephys.nwb') + size('nwb_behavior.nwb'), asset: null }],
      },
      '/api/dandisets/000001/versions/draft/assets/paths/?path_prefix=sub-01/&page=1&page_size=1000': {
        count: 2, next: null, previous: null,
        results: [
          { path: 'sub-01/sub-01_behavior.nwb', aggregate_files: 1, aggregate_size: size('nwb_behavior.nwb'), asset: { asset_id: 'a2', size: size('nwb_behavior.nwb') } },
          { path: 'sub-01/sub-01_ecephys.nwb', aggregate_files: 1, aggregate_size: size('nwb_ecephys.nwb'), asset: { asset_id: 'a1', size: size('nwb_ecephys.nwb') } },
        ],
      },
      '/api/dandisets/000001/versions/draft/assets/?glob=sub-01/sub-01_ecephys.nwb&metadata=false&zarr=false': {
        count: 1, next: null, previous: null,
        results: [{ asset_id: 'a1', path: 'sub-01/sub-01_ecephys.nwb', size: size('nwb_ecephys.nwb') }],
      },
      // The asset itself: its path in the dandiset (the title of a DANDI link).
      '/api/assets/a1/': { identifier: 'a1', path: 'sub-01/sub-01_ecephys.nwb', contentSize: size('nwb_ecephys.nwb') },
      '/api/dandisets/?page=1&page_size=50&ordering=-modified&search=ephys&draft=true&empty=false&embargoed=false': {
        count: 1, next: null, previous: null,
        results: [{ identifier: '000001', draft_version: { name: 'Test dandiset: ephys and behavior' } }],
      },
    },
    redirects: {
      // The asset URL answers 302 to a file on another origin (like S3).
      '/api/assets/a1/download/': `${files}/files/nwb_ecephys.nwb`,
      '/api/assets/a2/download/': `${files}/files/nwb_behavior.nwb`,
    },
  };
  routes = join(mkdtempSync(join(tmpdir(), 'ns-api-')), 'routes.json');
  writeFileSync(routes, JSON.stringify(api));
  app = await startServer(['--dir', fixtures, '--app-dir', dist, '--api-routes', routes]);
  // Where Neurosift keeps LINDI indexes of DANDI assets: one for asset a1,
  // whose references point at the HDF5 file on the files server.
  const lindiDir = mkdtempSync(join(tmpdir(), 'ns-lindi-'));
  const index = join(lindiDir, 'dandi/dandisets/000001/assets/a1');
  mkdirSync(index, { recursive: true });
  const json = readFileSync(join(fixtures, 'nwb_ecephys.nwb.lindi.json'), 'utf8')
    .replaceAll('"./nwb_ecephys.nwb"', JSON.stringify(`${files}/files/nwb_ecephys.nwb`));
  writeFileSync(join(index, 'nwb.lindi.json'), json);
  lindiBase = `${await startServer(['--dir', lindiDir])}/files`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.kill();
});

async function newPage({ lindi, apiKey, api } = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.addInitScript(([api, lindi, apiKey]) => {
    localStorage.setItem('neurosift.dandiApi', api);
    localStorage.setItem('neurosift.lindiBase', lindi);
    if (apiKey) localStorage.setItem('neurosift.dandiApiKey', apiKey);
  }, [api ?? `${app}/api`, lindi ?? `${files}/files/no-lindi-here`, apiKey ?? '']);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  if (process.env.DEBUG_BROWSER) {
    page.on('console', (m) => console.log('console:', m.type(), m.text()));
    page.on('request', (r) => console.log('request:', r.method(), r.url()));
    page.on('requestfailed', (r) => console.log('failed:', r.url(), r.failure()?.errorText));
  }
  return page;
}

const session = (page) => page.getByTestId('session');

test('DANDI "Open with Neurosift" link opens the asset (redirect to another origin)', async () => {
  const page = await newPage();
  const url = `${app}/api/assets/a1/download/`;
  await page.goto(`${app}/nwb?url=${encodeURIComponent(url)}&dandisetId=000001&dandisetVersion=draft`);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  const text = await page.innerText('body');
  for (const want of ['nwb-ecephys-fixture-0001', '2024-03-15T10:30:00-07:00', 'Doe, Jane', 'Test Lab',
    'ElectricalSeries', 'TimeIntervals', 'spike_times', 'DANDI:000001']) {
    assert.ok(text.includes(want), `missing ${want}`);
  }
  assert.match(await page.getByTestId('status').innerText(), /requests? · .*loaded/);
  // Titled by the asset's path in the dandiset, not "download".
  await page.getByTestId('file-name').getByText('sub-01/sub-01_ecephys.nwb').waitFor();
  // The Units table (a top-level group) shows its neurodata type like the other groups.
  const units = page.locator('details.section[data-path="/units"] > summary');
  assert.match(await units.innerText(), /units \(\d+\)\s*Units/);
  await page.screenshot({ path: join(shots, 'dandi-link-overview.png') });
  assert.deepEqual(page.errors, []);
});

test('path= (asset path instead of url) and embedded=1 work', async () => {
  const page = await newPage();
  await page.goto(`${app}/nwb?dandisetId=000001&dandisetVersion=draft&path=sub-01/sub-01_ecephys.nwb&embedded=1`);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.equal(await page.locator('header.appbar').count(), 0, 'no app bar when embedded');
});

test('legacy ?p=/nwb links are rewritten and open the tab', async () => {
  const page = await newPage();
  const url = `${files}/files/nwb_ecephys.nwb`;
  await page.goto(`${app}/?p=/nwb&url=${encodeURIComponent(url)}&dandisetId=000001&dandisetVersion=draft&tab=neurodata-item:/units/spike_times|VectorData`);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.ok(page.url().includes('/nwb?url='), page.url());
  const raw = page.getByTestId('raw');
  await raw.getByText('/units/spike_times').waitFor();
  await raw.getByTestId('values').getByText('9.44146').waitFor();
  assert.ok((await raw.getByTestId('attrs').innerText()).includes('VectorData'));
  await page.screenshot({ path: join(shots, 'legacy-link-raw-view.png') });
});

test('dandiset page lists folders and sizes and opens an NWB asset', async () => {
  const page = await newPage();
  await page.goto(`${app}/dandiset/000001?dandisetVersion=draft`);
  await page.getByText('Test dandiset: ephys and behavior').waitFor();
  await page.getByText('Synthetic recordings written by pynwb').waitFor();
  await page.getByRole('link', { name: 'sub-01/' }).click();
  await page.getByRole('link', { name: 'sub-01_behavior.nwb' }).waitFor();
  const assets = await page.locator('table.assets').innerText();
  assert.match(assets, /sub-01_ecephys\.nwb\s+1\.\d MB/);
  await page.screenshot({ path: join(shots, 'dandiset.png') });
  await page.getByRole('link', { name: 'sub-01_behavior.nwb' }).click();
  try {
    await session(page).getByText('Behavior test session').waitFor({ timeout: 10000 });
  } finally {
    await page.screenshot({ path: join(shots, 'dandiset-open-asset.png') });
  }
  assert.ok(page.url().includes('dandisetId=000001'));
  // All of it in one page load: the links were followed in the app, and
  // Back and the brand link are too.
  await page.evaluate(() => { window.sameLoad = true; });
  await page.goBack();
  await page.getByRole('link', { name: 'sub-01_behavior.nwb' }).waitFor();
  assert.match(page.url(), /[/]dandiset[/]000001[?]/);
  await page.locator('a.brand').click();
  await page.getByTestId('url-input').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.goBack();
  await page.getByRole('link', { name: 'sub-01_behavior.nwb' }).waitFor();
  assert.equal(await page.evaluate(() => window.sameLoad), true);
  await page.goto(`${app}/nowhere`);
  await page.getByText('Page not found.').waitFor();
});

test('a local file opens without being loaded whole', async () => {
  const page = await newPage();
  await page.goto(`${app}/`);
  await page.getByTestId('file-input').setInputFiles(join(fixtures, 'nwb_ecephys.nwb'));
  await session(page).getByText('Extracellular ephys test session').waitFor();
  // Three workers, but the file is read once (the others start from the
  // first one's pages), and only in part.
  const status = await page.getByTestId('status').innerText();
  const loaded = status.match(/([\d.]+) (KB|MB) loaded/);
  const kb = Number(loaded?.[1] ?? 'NaN') * (loaded?.[2] === 'MB' ? 1000 : 1);
  assert.ok(kb < size('nwb_ecephys.nwb') / 1000, `${status} for a ${size('nwb_ecephys.nwb')}-byte file`);
  await page.screenshot({ path: join(shots, 'local-file.png') });
});

test('a link without a dandiset is titled by the file name', async () => {
  const page = await newPage();
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${files}/files/nwb_ecephys.nwb?x=1`)}`);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.equal(await page.getByTestId('file-name').innerText(), 'nwb_ecephys.nwb');
});

test('the DANDI API key goes to the DANDI API only, never to another origin', async () => {
  const stats = async (server) => (await (await fetch(`${server}/__control/stats`)).json());
  const reset = (server) => fetch(`${server}/__control/reset`, { method: 'POST' });
  // A server that is both the (configured) DANDI API and the home of a LINDI
  // file whose references point at the files server (another origin).
  const dir = mkdtempSync(join(tmpdir(), 'ns-keyed-'));
  const json = readFileSync(join(fixtures, 'nwb_ecephys.nwb.lindi.json'), 'utf8')
    .replaceAll('"./nwb_ecephys.nwb"', JSON.stringify(`${files}/files/nwb_ecephys.nwb`));
  writeFileSync(join(dir, 'x.nwb.lindi.json'), json);
  const keyed = await startServer(['--dir', dir, '--api-routes', routes]);
  const page = await newPage({ apiKey: 'secret-key', api: `${keyed}/api` });
  await reset(files);
  // 1. A file on another origin (a crafted ?url=).
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${files}/files/nwb_ecephys.nwb`)}&tab=/units/spike_times`);
  await page.getByTestId('raw').getByTestId('values').getByText('9.44146').waitFor();
  // 2. A LINDI file on the API's origin (it gets the key) whose references
  //    name the other origin (they must not).
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${keyed}/files/x.nwb.lindi.json`)}&st=lindi&tab=/acquisition/ElectricalSeries/data`);
  await page.getByTestId('raw').getByTestId('values').waitFor();
  // 3. The DANDI asset URL (key sent), redirected to the other origin (not).
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${keyed}/api/assets/a1/download/`)}&dandisetId=000001&dandisetVersion=draft&lindi=0`);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  await page.getByTestId('file-name').getByText('sub-01/sub-01_ecephys.nwb').waitFor();
  const seen = await stats(files);
  assert.ok(seen.requests > 0, 'the files server was read');
  assert.equal(seen.authorized, 0, 'the files server never saw Authorization');
  assert.ok((await stats(keyed)).authorized > 0, 'the configured DANDI API got the key');
  assert.deepEqual(page.errors, []);
});

test('raw view pages through dataset values', async () => {
  const page = await newPage();
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${files}/files/nwb_ecephys.nwb`)}&tab=/acquisition/ElectricalSeries/data`);
  const raw = page.getByTestId('raw');
  await raw.getByTestId('values').waitFor();
  assert.match(await raw.innerText(), /rows 0–100 of 30000/);
  await raw.getByRole('button', { name: 'next ›' }).click();
  await raw.getByText('rows 100–200 of 30000').waitFor();
  await raw.getByTestId('values').getByText('199', { exact: true }).waitFor();
  await page.screenshot({ path: join(shots, 'raw-values.png') });
});

test('a crashed reader fails its request visibly and is replaced', async () => {
  const page = await newPage();
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${files}/files/nwb_ecephys.nwb`)}&tab=/acquisition/ElectricalSeries/data`);
  const raw = page.getByTestId('raw');
  await raw.getByTestId('values').waitFor();
  // Every worker of the pool panics in turn; each pending request fails
  // with a "crashed" error, never hangs, and the app says so.
  for (const index of [0, 1, 2]) {
    const error = await page.evaluate((i) => window.neurosiftCrashWorker(i), index);
    assert.match(error, /^Crashed: .*panic/, `worker ${index}: ${error}`);
  }
  await page.getByTestId('notice').getByText('A file reader crashed and was restarted').waitFor();
  // The replacements reopened the file from its saved pages: values still come.
  await raw.getByRole('button', { name: 'next ›' }).click();
  await raw.getByText('rows 100–200 of 30000').waitFor();
  await raw.getByTestId('values').getByText('199', { exact: true }).waitFor({ timeout: 15000 });
  await page.screenshot({ path: join(shots, 'worker-crash-recovered.png') });
  assert.deepEqual(page.errors, []);
});

test('a server without Range support gets a clear error', async () => {
  const page = await newPage();
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${noRange}/files/nwb_ecephys.nwb`)}`);
  const error = page.getByTestId('error');
  await error.waitFor();
  const text = await error.innerText();
  assert.match(text, /does not support Range requests/);
  assert.ok(text.includes(`${noRange}/files/nwb_ecephys.nwb`));
  await page.screenshot({ path: join(shots, 'error-no-range.png') });
});

test('a missing file and a non-HDF5 file say so', async () => {
  const page = await newPage();
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${files}/files/nope.nwb`)}`);
  await page.getByTestId('error').getByText('Not found', { exact: true }).waitFor();
  await page.goto(`${app}/nwb?url=${encodeURIComponent(`${files}/files/bad/not_hdf5.txt`)}`);
  await page.getByTestId('error').getByText('Not an HDF5/NWB file').waitFor();
  assert.match(await page.getByTestId('error').innerText(), /no HDF5 signature/);
});

test('home page searches DANDI', async () => {
  const page = await newPage();
  await page.goto(`${app}/`);
  await page.getByTestId('dandi-search').fill('ephys');
  await page.getByTestId('dandi-search').press('Enter');
  await page.getByRole('link', { name: '000001' }).waitFor();
  await page.screenshot({ path: join(shots, 'home-search.png') });
  await page.getByRole('link', { name: '000001' }).click();
  await page.getByText('Test dandiset: ephys and behavior').first().waitFor();
});

/// A server of its own for a copy of `fixture` (as `session.nwb`, which a
/// test may replace), with its request counter.
async function fileCopyServer(fixture, prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  copyFileSync(join(fixtures, fixture), join(dir, 'session.nwb'));
  const server = await startServer(['--dir', dir]);
  return {
    dir,
    fileUrl: `${server}/files/session.nwb`,
    stats: async () => (await (await fetch(`${server}/__control/stats`)).json()).requests,
    reset: () => fetch(`${server}/__control/reset`, { method: 'POST' }),
  };
}

test('reopening a file costs one round trip (metadata cached, checked against size and ETag)', async () => {
  const { dir, fileUrl, stats, reset } = await fileCopyServer('nwb_ecephys.nwb', 'ns-cache-');
  const page = await newPage();
  const url = `${app}/nwb?url=${encodeURIComponent(fileUrl)}`;
  await page.goto(url);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  const first = await stats();
  assert.ok(first >= 2, `first open: ${first} requests`);
  await page.waitForTimeout(300); // the cache write finishes after the overview shows
  await reset();
  await page.reload();
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.equal(await stats(), 1, 'a reopen costs only the probe');
  // The file changes: the cached metadata must not be used.
  copyFileSync(join(fixtures, 'nwb_behavior.nwb'), join(dir, 'session.nwb'));
  await reset();
  await page.reload();
  await session(page).getByText('Behavior test session').waitFor();
  assert.ok(await stats() >= 2);
});

test('a reopen draws the saved overview at once; one of another version, another build, damaged or not the file\'s is not kept', async () => {
  const { dir, fileUrl, stats, reset } = await fileCopyServer('nwb_ecephys.nwb', 'ns-overview-');
  const page = await newPage();
  const marks = () => page.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name));
  const saved = () => page.waitForFunction(() => performance.getEntriesByName('a-overview-saved').length > 0);
  // The saved overview of the file (`size`, `validator`, `build` lines,
  // then its JSON), edited in localStorage.
  const edit = (change) => page.evaluate(([url, change]) => {
    const key = 'neurosift.overview:' + url;
    const saved = localStorage.getItem(key);
    if (saved === null) return false;
    const [size, validator, build, ...rest] = saved.split('\n');
    const header = { size, validator, build };
    let text = rest.join('\n');
    if (change.replace) text = text.split(change.replace[0]).join(change.replace[1]);
    if (change.text !== undefined) text = change.text;
    if (change.header) header[change.header[0]] = change.header[1];
    localStorage.setItem(key, [header.size, header.validator, header.build, text].join('\n'));
    return true;
  }, [fileUrl, change]);
  // With a tab: its view asks for values as soon as it is drawn.
  await page.goto(`${app}/nwb?url=${encodeURIComponent(fileUrl)}&tab=/acquisition/ElectricalSeries/data`);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.ok(!(await marks()).includes('a-saved-overview'), 'nothing saved yet');
  await saved();
  await page.waitForTimeout(300); // the worker's pages too

  // Reopened: drawn from the saved overview, then checked against the
  // file's own (one request: the probe), and kept.
  await reset();
  await page.reload();
  await session(page).getByText('Extracellular ephys test session').waitFor();
  await page.waitForFunction(() => performance.getEntriesByName('a-saved-overview-checked').length > 0);
  let m = await marks();
  assert.ok(m.includes('a-saved-overview'), `drawn from the saved overview: ${m}`);
  assert.ok(!m.includes('a-probe-start'), 'the page did not open the file again');
  assert.equal(await stats(), 1, 'a reopen costs only the probe');
  assert.equal(await page.getByTestId('tree').locator('tr.row').count() > 0, true);
  // The tab's view, drawn before the file was open, got its values.
  await page.getByTestId('raw').getByText('rows 0–100 of 30000').waitFor();

  // Another build saved it: not used.
  assert.ok(await edit({ header: ['build', 'another-build'] }));
  await page.reload();
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.ok(!(await marks()).includes('a-saved-overview'), 'another build\'s overview is not drawn');
  await saved();

  // Damaged: not used, and saved again.
  assert.ok(await edit({ text: '{"location": 3' }));
  await page.reload();
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.ok(!(await marks()).includes('a-saved-overview'), 'a damaged overview is not drawn');
  await saved();

  // Saved for this version but not what the file says (as if drawn by a
  // reader with a bug): replaced by the file's own once it is open.
  assert.ok(await edit({ replace: ['Extracellular ephys test session', 'Not this session'] }));
  await page.reload();
  await session(page).getByText('Extracellular ephys test session').waitFor();
  m = await marks();
  assert.ok(m.includes('a-saved-overview-checked'), `checked: ${m}`);
  assert.equal(await session(page).getByText('Not this session').count(), 0);
  await saved();

  // The file changes: its saved overview is not drawn.
  copyFileSync(join(fixtures, 'nwb_behavior.nwb'), join(dir, 'session.nwb'));
  await page.reload();
  await session(page).getByText('Behavior test session').waitFor();
  assert.ok(!(await marks()).includes('a-saved-overview'), 'another version\'s overview is not drawn');
  assert.deepEqual(page.errors, []);
});

test('LINDI files (.lindi.json and .lindi.tar) open, and values come from their references', async () => {
  const page = await newPage();
  for (const name of ['nwb_ecephys.nwb.lindi.json', 'nwb_ecephys.nwb.lindi.tar']) {
    await page.goto(`${app}/nwb?url=${encodeURIComponent(`${files}/files/${name}`)}&st=lindi&tab=/units/spike_times`);
    await session(page).getByText('Extracellular ephys test session').waitFor();
    assert.ok((await session(page).innerText()).includes(name));
    await page.getByTestId('raw').getByTestId('values').getByText('9.44146').waitFor();
  }
  await page.screenshot({ path: join(shots, 'lindi.png') });
  assert.deepEqual(page.errors, []);
});

test('an NWB-Zarr store (hdmf-zarr) opens from its URL like any NWB file', async () => {
  const expected = JSON.parse(readFileSync(join(fixtures, 'nwb_zarr.nwb.zarr.expected.json'), 'utf8'));
  const spikes = expected.samples.find((s) => s.path === '/units/spike_times' && s.slice === null);
  const page = await newPage();
  const url = `${files}/files/nwb_zarr.nwb.zarr`;
  await page.goto(`${app}/nwb?url=${encodeURIComponent(url)}&tab=/units/spike_times`);
  await session(page).getByText('NWB-Zarr test session').waitFor();
  const text = await page.locator('body').innerText();
  for (const name of ['ElectricalSeries', 'behavior/', 'trials/', 'Session ID']) assert.ok(text.includes(name), name);
  // Values read from the store's chunks, as zarr-python read them.
  await page.getByTestId('raw').getByTestId('values').getByText(String(spikes.data[0])).first().waitFor();
  await page.screenshot({ path: join(shots, 'nwb_zarr.png') });
  assert.deepEqual(page.errors, []);
});

test('DANDI assets use their LINDI index when there is one, unless lindi=0', async () => {
  const page = await newPage({ lindi: lindiBase });
  const asset = encodeURIComponent(`${app}/api/assets/a1/download/`);
  await page.goto(`${app}/nwb?url=${asset}&dandisetId=000001&dandisetVersion=draft`);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.match(await session(page).innerText(), /nwb\.lindi\.json/);
  await page.goto(`${app}/nwb?url=${asset}&dandisetId=000001&dandisetVersion=draft&lindi=0`);
  await session(page).getByText('Extracellular ephys test session').waitFor();
  assert.doesNotMatch(await session(page).innerText(), /lindi/);
});
