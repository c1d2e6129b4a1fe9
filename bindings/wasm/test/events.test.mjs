// Change events: delivered after the causing call returns, one per transaction or update.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Doc } from '../dist/node.mjs';

test('local edits: one event per call, after the Rust call returned, with UTF-16 ranges', () => {
  const doc = new Doc(1);
  const t = doc.getText('t');
  const m = doc.getMap('m');
  const seen = [];
  const textSeen = [];
  const off = doc.subscribe((ev) => {
    // Reading the document from the listener works only once the edit has returned from
    // WebAssembly (a call into a document that is mid-call throws).
    textSeen.push(t.toString());
    seen.push(ev);
  });
  t.insert(0, '😀');
  assert.equal(seen.length, 1);
  t.insert(2, 'ab');
  assert.deepEqual(textSeen, ['😀', '😀ab'], 'the listener sees the state after the edit');
  assert.deepEqual(seen[1], {
    origin: 'local',
    changes: [{ container: t, type: 'range', start: 2, removed: 0, inserted: 2 }],
  });
  m.set('k', 1);
  assert.deepEqual(seen[2].changes, [{ container: m, type: 'keys', keys: ['k'] }]);
  doc.getCounter('c').add(1);
  assert.equal(seen[3].changes[0].type, 'value');
  doc.transact(() => {
    t.insert(0, 'x');
    m.set('j', 2);
    assert.equal(seen.length, 4, 'nothing during the transaction');
  });
  assert.equal(seen.length, 5);
  assert.equal(seen[4].changes.length, 2);
  off();
  t.insert(0, 'y');
  assert.equal(seen.length, 5, 'unsubscribed');
});

test('remote updates raise one remote event; failed calls raise none', () => {
  const a = new Doc(1);
  const b = new Doc(2);
  const events = [];
  b.subscribe((e) => events.push(e));
  a.getText('t').insert(0, 'hello');
  a.getList('l').push(1, 2);
  b.applyUpdate(a.encodeUpdatesSince());
  assert.equal(events.length, 1);
  assert.equal(events[0].origin, 'remote');
  assert.deepEqual(
    events[0].changes.map((c) => [c.container.kind, c.type]).sort(),
    [['list', 'range'], ['text', 'range']],
  );
  assert.throws(() => b.getText('t').insert(99, 'x'));
  assert.throws(() => b.applyUpdate(new Uint8Array([1, 2, 3])));
  assert.equal(events.length, 1);
});

test('a listener may edit the document; its event follows, never nested', () => {
  const doc = new Doc(1);
  const t = doc.getText('t');
  const order = [];
  let depth = 0;
  doc.subscribe((ev) => {
    depth++;
    assert.equal(depth, 1, 'not re-entered');
    order.push(ev.changes[0].inserted);
    if (t.length < 3) t.insert(t.length, 'x');
    depth--;
  });
  t.insert(0, 'a');
  assert.equal(t.toString(), 'axx');
  assert.deepEqual(order, [1, 1, 1]);
});

test('a throwing listener does not break the call or other listeners', async () => {
  const doc = new Doc(1);
  const got = [];
  const reported = new Promise((resolve) => {
    const prev = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.once('uncaughtException', (e) => {
      for (const l of prev) process.on('uncaughtException', l);
      resolve(e);
    });
  });
  doc.subscribe(() => {
    throw new Error('listener failed');
  });
  doc.subscribe((e) => got.push(e));
  doc.getText('t').insert(0, 'ok');
  assert.equal(got.length, 1);
  assert.equal(doc.getText('t').toString(), 'ok');
  assert.equal((await reported).message, 'listener failed');
});
