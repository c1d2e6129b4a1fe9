// End to end: the todo app (examples/todo-web/dist) served by converge-relay, driven in
// Debian's Chromium through playwright-core, two browser contexts (two "devices").
//
//   RELAY_BIN=path/to/converge-relay DIST=examples/todo-web/dist OUT=dir node todo.e2e.mjs
//
// Checks: both edit and converge; one goes offline (context.setOffline, which Chromium does
// not apply to open WebSockets, so the app closes its socket on the window's `offline` event),
// edits, comes back, and both show the same list; a reload keeps the state, also with the relay
// unreachable (IndexedDB); the relay killed with SIGKILL and restarted keeps the state.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const RELAY_BIN = process.env.RELAY_BIN;
const DIST = process.env.DIST;
const OUT = process.env.OUT ?? mkdtempSync(join(tmpdir(), 'converge-e2e-out-'));
const PORT = Number(process.env.PORT ?? 18787);
const BASE = `http://127.0.0.1:${PORT}`;
const ROOM = `e2e-${Date.now()}`;
const URL = `${BASE}/?room=${ROOM}`;
const TIMEOUT = 15000;
assert.ok(RELAY_BIN && DIST, 'RELAY_BIN and DIST must be set');
mkdirSync(OUT, { recursive: true });
const db = join(mkdtempSync(join(tmpdir(), 'converge-e2e-db-')), 'relay.sqlite3');

let relay;
async function startRelay() {
  relay = spawn(RELAY_BIN, ['--addr', `127.0.0.1:${PORT}`, '--db', db, '--serve', DIST], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${BASE}/index.html`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('relay did not start');
}
async function killRelay() {
  const exited = new Promise((r) => relay.once('exit', r));
  relay.kill('SIGKILL'); // no clean shutdown: acknowledged updates must already be on disk
  await exited;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const items = (page) => page.$$eval('li.item', (lis) => lis.map((li) =>
  (li.querySelector('.item-text').value) + (li.querySelector('.toggle').checked ? ' [x]' : '')));
const title = (page) => page.$eval('input.title', (el) => el.value);
const status = (page) => page.$eval('p.status', (el) => [el.dataset.connected, el.dataset.pending]);

async function waitFor(what, fn) {
  const start = Date.now();
  let last;
  while (Date.now() - start < TIMEOUT) {
    try {
      last = await fn();
      if (last === true) return;
    } catch (e) { last = e.message; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
const synced = (page) => waitFor('synced status', async () => {
  const [c, p] = await status(page);
  return (c === 'true' && p === 'false') || [c, p];
});
async function same(a, b, expected) {
  await waitFor(`the same list ${JSON.stringify(expected)}`, async () => {
    const [x, y] = [await items(a), await items(b)];
    return JSON.stringify(x) === JSON.stringify(y) && JSON.stringify(x) === JSON.stringify(expected);
  });
}
async function add(page, text) {
  await page.fill('input.new', text);
  await page.press('input.new', 'Enter');
}
async function rowIndex(page, text) {
  return (await items(page)).findIndex((t) => t.replace(' [x]', '') === text);
}

let failed = false;
try {
  await startRelay();
  const ctxA = await browser.newContext();
  const ctxB = await browser.newContext();
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  for (const p of [a, b]) p.on('pageerror', (e) => { console.error('page error:', e); failed = true; });
  await a.goto(URL);
  await b.goto(URL);
  await synced(a);
  await synced(b);

  // Both edit.
  await a.fill('input.title', 'Groceries');
  await add(a, 'milk');
  await add(b, 'bread');
  await waitFor('two items in A', async () => (await items(a)).length === 2);
  await add(a, 'eggs');
  await waitFor('B sees the title', async () => (await title(b)) === 'Groceries');
  const first = await items(a);
  await same(a, b, first);
  await (b.locator('li.item .toggle').nth(await rowIndex(b, 'milk'))).check();
  await waitFor('A sees milk done', async () => (await items(a)).includes('milk [x]'));
  console.log('both edited:', await items(a));

  // B goes offline, edits; A edits meanwhile; B comes back.
  await ctxB.setOffline(true);
  await waitFor('B offline', async () => (await status(b))[0] === 'false');
  await add(b, 'cheese');
  await b.locator('li.item .delete').nth(await rowIndex(b, 'bread')).click();
  await b.locator('li.item .up').nth(await rowIndex(b, 'eggs')).click();
  await waitFor('B shows pending changes', async () => (await status(b))[1] === 'true');
  assert.match(await b.textContent('p.status'), /Offline · changes pending/);
  await add(a, 'apples');
  await a.fill('input.title', 'Groceries for Sunday');
  await waitFor('A synced', async () => (await status(a)).join() === 'true,false');
  assert.ok(!(await items(b)).includes('apples'), 'offline B must not see A\'s new item');
  await ctxB.setOffline(false);
  await synced(b);
  await synced(a);
  // "Synced" says nothing is pending here; the other tab may still be receiving, so wait for
  // both to show every edit made on either side before comparing orders.
  await waitFor('both tabs show the offline and online edits', async () => {
    const [x, y] = [await items(a), await items(b)];
    return (JSON.stringify(x) === JSON.stringify(y) && x.includes('cheese') && x.includes('apples')) || [x, y];
  });
  const merged = await items(a);
  for (const t of ['milk [x]', 'eggs', 'cheese', 'apples']) assert.ok(merged.includes(t), `${t} in ${merged}`);
  assert.ok(!merged.some((t) => t.startsWith('bread')), 'bread was deleted');
  assert.ok(merged.indexOf('eggs') < merged.indexOf('milk [x]'), 'eggs moved above milk');
  assert.equal(await title(b), 'Groceries for Sunday');
  console.log('after offline edits:', merged);

  // A reload keeps the state; with the relay unreachable too (IndexedDB).
  await b.reload();
  await synced(b);
  await same(a, b, merged);
  let relayBlocked = true;
  await b.routeWebSocket(/\/sync\//, (ws) => {
    if (relayBlocked) ws.close();
    else ws.connectToServer();
  });
  await b.reload();
  await waitFor('B shows the stored list without the relay', async () =>
    JSON.stringify(await items(b)) === JSON.stringify(merged));
  assert.equal((await status(b))[0], 'false');
  relayBlocked = false;
  await b.reload();
  await synced(b);

  // The relay is killed and restarted: state kept; A reconnects by itself.
  await killRelay();
  await waitFor('A notices the relay is gone', async () => (await status(a))[0] === 'false');
  await startRelay();
  await synced(a);
  const ctxC = await browser.newContext();
  const c = await ctxC.newPage();
  await c.goto(URL);
  await synced(c);
  await same(a, c, merged);
  assert.equal(await title(c), 'Groceries for Sunday');
  await add(c, 'coffee');
  await same(a, b, [...merged, 'coffee']);
  await c.screenshot({ path: join(OUT, 'todo-after-restart.png') });
  await a.screenshot({ path: join(OUT, 'todo.png') });
  console.log(`final: ${JSON.stringify(await items(a))}; screenshots in ${OUT}`);
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  await browser.close();
  if (relay && relay.exitCode === null) await killRelay();
}
if (failed) {
  console.error('e2e: FAILED');
  process.exit(1);
}
console.log('e2e: passed');
