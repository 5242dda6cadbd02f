// `neurosift view-nwb` in real Chromium: the binary (with the app embedded, built after
// `cargo xtask web`) serves the app and one fixture behind a random token; the printed URL
// opens the overview, a view draws, and the file is not readable without the token.
//
// Needs: NEUROSIFT_BIN (the neurosift binary), NEUROSIFT_FIXTURES. `cargo xtask test` sets both.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const bin = process.env.NEUROSIFT_BIN;
const fixtures = process.env.NEUROSIFT_FIXTURES;
const shots = process.env.NEUROSIFT_SCREENSHOTS ?? 'target/screenshots';
mkdirSync(shots, { recursive: true });

const children = [];
function viewNwb(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['view-nwb', join(fixtures, file), '--no-browser', '--port', '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`neurosift view-nwb exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      line.startsWith('http://127.0.0.1:') ? resolve(line.trim()) : reject(new Error(`unexpected: ${line}`));
    });
  });
}

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

test('view-nwb opens the printed URL on the overview, and a view draws', async () => {
  const url = await viewNwb('nwb_ecephys.nwb');
  const fileUrl = new URL(url).searchParams.get('url');
  assert.match(fileUrl, /^http:\/\/127\.0\.0\.1:\d+\/files\/[0-9a-f]{32}\/nwb_ecephys\.nwb$/);
  const page = await newPage();
  await page.goto(url);
  await page.getByTestId('session').getByText('Extracellular ephys test session').waitFor();
  const text = await page.innerText('body');
  for (const want of ['nwb-ecephys-fixture-0001', 'ElectricalSeries', 'spike_times']) {
    assert.ok(text.includes(want), `missing ${want}`);
  }
  await page.screenshot({ path: join(shots, 'view-nwb-overview.png') });

  // A view of the same file (the tab in the URL, as the app writes it).
  const tab = encodeURIComponent('view:SimpleTimeseries|/acquisition/ElectricalSeries');
  await page.goto(`${url}&tab=${tab}`);
  const canvas = page.getByTestId('timeseries-canvas');
  await canvas.waitFor();
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid="timeseries-canvas"]');
    if (!c || !c.width) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) ink++;
    return ink > 2000;
  }, null, { timeout: 20000 });
  await page.screenshot({ path: join(shots, 'view-nwb-timeseries.png') });
  assert.deepEqual(page.errors, []);

  // Without the token, the file is not there (a page of another origin could not guess it).
  const origin = new URL(url).origin;
  const status = await page.evaluate(async (u) => (await fetch(u)).status, `${origin}/files/nwb_ecephys.nwb`);
  assert.equal(status, 404);
});
