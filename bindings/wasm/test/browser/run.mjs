// Chromium test: serves the package on 127.0.0.1, opens page.html in Debian's Chromium through
// playwright-core, and checks that two documents on the page edited and synced.
// Usage: node test/browser/run.mjs [root page]   (needs playwright-core and /usr/bin/chromium)
// Without arguments it serves this package and opens test/browser/page.html; with them it
// serves `root` and opens `page` in it (the Vite build of the smoke project).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const root = process.argv[2] ? join(process.argv[2], '/') : fileURLToPath(new URL('../../', import.meta.url));
const pagePath = process.argv[3] ?? 'test/browser/page.html';
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  const file = path === '/' ? join(root, pagePath) : join(root, normalize(path));
  if (!file.startsWith(root)) return res.writeHead(403).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 20000 });
  const r = await page.evaluate(() => window.__result);
  assert.deepEqual(errors, []);
  assert.equal(r.same, true, 'both documents converged');
  assert.ok(r.alice.t.includes('Hello from Alice 😀') && r.alice.t.includes('Bob: '), r.alice.t);
  assert.deepEqual(r.alice.todo, ['milk', 'eggs']);
  assert.deepEqual(r.events, ['local', 'local', 'remote']);
  assert.equal(r.decode, 'DECODE');
  assert.equal(await page.inputValue('#alice'), await page.inputValue('#bob'));
  console.log(`chromium ok, ${pagePath} (${r.userAgent.match(/Chrome\/[\d.]+/)?.[0]}): ${JSON.stringify(r.alice)}`);
} finally {
  await browser.close();
  server.close();
}
