// What the browser tests share: the range server processes, Chromium, a
// page that records its errors, and fixtures written once by a Python script.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const servers = [];

/// Starts the range server (NEUROSIFT_RANGE_SERVER) with `args`; resolves to its base URL.
export function startServer(args, bin = process.env.NEUROSIFT_RANGE_SERVER) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(child);
    child.on('error', reject);
    createInterface({ input: child.stdout }).once('line', (line) => {
      const m = line.match(/listening on (http:\/\/\S+)/);
      m ? resolvePromise(m[1]) : reject(new Error(`unexpected: ${line}`));
    });
  });
}

export function stopServers() {
  for (const s of servers) s.kill();
}

/// Debian's Chromium, headless.
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/// A page (no LINDI index host) whose uncaught errors land in `page.errors`.
export async function newViewPage(browser, width = 1600) {
  const context = await browser.newContext({ viewport: { width, height: 1100 } });
  await context.addInitScript(() => {
    localStorage.setItem('neurosift.lindiBase', 'http://127.0.0.1:9/none');
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  if (process.env.DEBUG_BROWSER) page.on('console', (m) => console.log('console:', m.type(), m.text()));
  return page;
}

/// `dir/name`, written by `python script` the first time (then kept).
export function ensureFixture(script, dir, name) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  if (!existsSync(file)) {
    execFileSync(process.env.NEUROSIFT_PYTHON ?? 'python3', [resolve('..', 'fixtures', script), `${file}.tmp`]);
    execFileSync('mv', [`${file}.tmp`, file]);
  }
  return file;
}
