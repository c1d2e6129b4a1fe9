// The public API, method by method, as a user sees it (Node ESM entry point).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  Doc,
  ConvergeError,
  DecodeError,
  OutOfBoundsError,
  InvalidPositionError,
  TransactionError,
  BudgetExceededError,
  TextRef,
  MapRef,
  ListRef,
  CounterRef,
  RegisterRef,
  SetRef,
  init,
  initSync,
  wasmMemoryBytes,
} from '../dist/node.mjs';

const bytesEqual = (a, b) => assert.deepEqual(Array.from(a), Array.from(b));

test('init is a resolved no-op in Node', async () => {
  await init();
  initSync();
});

test('replica ids: given as number or bigint, random otherwise', () => {
  assert.equal(new Doc(7).replicaId, 7n);
  assert.equal(new Doc(2n ** 64n - 1n).replicaId, 2n ** 64n - 1n);
  assert.notEqual(new Doc().replicaId, new Doc().replicaId);
  assert.throws(() => new Doc(-1), RangeError);
  assert.throws(() => new Doc(1.5), RangeError);
  assert.throws(() => new Doc(2n ** 64n), RangeError);
});

test('text: UTF-16 positions, insert, delete, splice, length, toString, toJSON', () => {
  const doc = new Doc(1);
  const t = doc.getText('title');
  assert.ok(t instanceof TextRef);
  assert.equal(t.kind, 'text');
  assert.equal(t.doc, doc);
  assert.equal(doc.getText('title'), t, 'the same reference each time');
  t.insert(0, 'héllo');
  t.insert(5, ' 😀 world');
  assert.equal(t.toString(), 'héllo 😀 world');
  assert.equal(t.length, 'héllo 😀 world'.length);
  // '😀' is two UTF-16 units at 6..8
  t.delete(6, 2);
  assert.equal(t.toString(), 'héllo  world');
  t.splice(0, 5, 'HELLO');
  assert.equal(t.toString(), 'HELLO  world');
  t.splice(5, 1);
  assert.equal(t.toJSON(), 'HELLO world');
  assert.deepEqual(doc.toJSON(), { title: 'HELLO world' });
  t.insert(0, '😀');
  assert.throws(() => t.insert(1, 'x'), InvalidPositionError);
  assert.throws(() => t.delete(0, 1), (e) => e instanceof ConvergeError && e.code === 'INVALID_POSITION');
  assert.throws(() => t.insert(999, 'x'), (e) => e instanceof OutOfBoundsError && e.code === 'OUT_OF_BOUNDS');
  assert.throws(() => t.insert(-1, 'x'), RangeError);
  assert.equal(t.toString(), '😀HELLO world');
});

test('text: long strings (sent as UTF-8 from TextEncoder) edit as short ones do', () => {
  const long = 'a😀é'.repeat(100) + 'z'.repeat(300);
  const a = new Doc(1);
  const b = new Doc(1);
  const ta = a.getText('t');
  const tb = b.getText('t');
  ta.insert(0, 'xy');
  ta.insert(1, long);
  ta.splice(4, 4, long);
  ta.splice(0, 1, long.slice(1));
  // The same edits through the batch, which packs UTF-16 units and never takes that path.
  tb.applyPatches([[0, 0, 'xy']]);
  tb.applyPatches([[1, 0, long]]);
  tb.applyPatches([[4, 4, long]]);
  tb.applyPatches([[0, 1, long.slice(1)]]);
  assert.equal(ta.toString(), tb.toString());
  bytesEqual(a.encodeUpdatesSince(), b.encodeUpdatesSince());
  // Errors as for short strings, the document unchanged.
  const before = a.save();
  assert.throws(() => ta.insert(ta.length + 1, long), OutOfBoundsError);
  const inPair = ta.toString().indexOf('😀') + 1;
  assert.throws(() => ta.splice(inPair, 1, long), InvalidPositionError);
  bytesEqual(a.save(), before);
  // A lone surrogate becomes U+FFFD on both paths.
  ta.insert(0, '\ud800');
  ta.insert(0, `\ud800${'q'.repeat(300)}`);
  assert.equal(ta.toString().slice(0, 302), `\ufffd${'q'.repeat(300)}\ufffd`);
});

test('text: applyPatches and applyEncodedPatches carry many edits, all or nothing', () => {
  const doc = new Doc(1);
  const t = doc.getText('t');
  t.applyPatches([
    [0, 0, 'hello world'],
    [5, 6, ''],
    [5, 0, ', 😀 there'],
    [0, 1, 'H'],
  ]);
  assert.equal(t.toString(), 'Hello, 😀 there');
  const before = doc.save();
  // The third patch is out of bounds: nothing of the batch stays.
  assert.throws(
    () => t.applyPatches([[0, 0, 'a'], [1, 0, 'b'], [999, 0, 'c']]),
    OutOfBoundsError,
  );
  assert.equal(t.toString(), 'Hello, 😀 there');
  bytesEqual(doc.save(), before);
  t.applyEncodedPatches(new Uint32Array([0, 5, 2, 2, 0, 1]), 'Yoo');
  assert.equal(t.toString(), 'Yoo, 😀 there');
  assert.throws(() => t.applyEncodedPatches(new Uint32Array([0, 0, 5]), 'ab'), TypeError);
  assert.throws(() => t.applyEncodedPatches(new Uint32Array([0, 0]), ''), TypeError);
  // A cut inside a surrogate pair does not match the patches.
  assert.throws(() => t.applyEncodedPatches(new Uint32Array([0, 0, 1, 0, 0, 1]), '😀'), TypeError);
  assert.equal(t.toString(), 'Yoo, 😀 there');
});

/** A text that applied `patches` one `splice` call each. */
function splicedOneByOne(patches) {
  const t = new Doc(1).getText('t');
  for (const [pos, del, text] of patches) t.splice(pos, del, text);
  return t;
}

test('text: applyPatches reads the same as one call per patch, astral chars and lone surrogates included', () => {
  const patches = [
    [0, 0, 'añb'],
    [1, 1, '😀😀'],
    [5, 0, '\ud800'],
    [0, 0, 'z\udc00'],
    [2, 3, ''],
    [4, 0, 'é🎉'],
  ];
  const batch = new Doc(1);
  batch.getText('t').applyPatches(patches);
  const t = splicedOneByOne(patches);
  // A lone surrogate is stored as U+FFFD in both.
  assert.equal(batch.getText('t').toString(), t.toString());
  assert.equal(batch.getText('t').length, t.length);
  assert.ok(t.toString().includes('\ufffd'));
  const before = batch.save();
  assert.throws(() => batch.getText('t').applyPatches([[0, 0, 'x'], [0, 0, 5]]), TypeError);
  assert.throws(() => batch.getText('t').applyPatches([[0, 0, 'x'], [-1, 0, 'y']]), RangeError);
  assert.throws(() => batch.getText('t').applyPatches([[0, 1.5, 'x']]), RangeError);
  assert.throws(() => batch.getText('t').applyPatches([['0', 0, 'x']]), RangeError);
  bytesEqual(batch.save(), before);
  // Many patches: the unit buffer grows past its first size.
  const many = [];
  for (let i = 0, len = 0; i < 5000; i++) {
    const text = i % 7 === 0 ? '😀' : 'ab'.slice(0, 1 + (i % 2));
    many.push([i % 3 === 0 ? 0 : len, 0, text]);
    len += text.length;
  }
  const big = new Doc(1);
  big.getText('t').applyPatches(many);
  assert.equal(big.getText('t').toString(), splicedOneByOne(many).toString());
  // The patches are packed in the module's memory; a long text late in the batch makes it
  // grow while packing (the packing's views of the old memory are then empty).
  const grown = wasmMemoryBytes();
  const huge = 'q'.repeat(grown);
  const late = [[0, 0, 'xy'], [1, 0, 'z'], [3, 0, huge], [0, 1, '']];
  big.getText('t').applyPatches(late);
  assert.ok(wasmMemoryBytes() > grown);
  assert.equal(big.getText('t').toString(), splicedOneByOne([...many, ...late]).toString());
});

test('map: set, setMany, get, has, keys, values, entries, size, delete, nested containers', () => {
  const doc = new Doc(1);
  const m = doc.getMap('m');
  assert.ok(m instanceof MapRef);
  m.set('n', 1).set('f', 1.5).set('s', 'str').set('b', true).set('z', null);
  m.set('big', 2n ** 60n).set('bytes', new Uint8Array([1, 2, 255]));
  assert.equal(m.get('n'), 1);
  assert.equal(m.get('f'), 1.5);
  assert.equal(m.get('s'), 'str');
  assert.equal(m.get('b'), true);
  assert.equal(m.get('z'), null);
  assert.equal(m.get('big'), 2n ** 60n);
  assert.deepEqual(m.get('bytes'), new Uint8Array([1, 2, 255]));
  assert.equal(m.get('missing'), undefined);
  assert.equal(m.has('n'), true);
  assert.equal(m.has('missing'), false);
  m.setMany({ a: 'A', c: 'C' });
  m.setMany([['d', 4]]);
  assert.deepEqual(m.keys(), ['a', 'b', 'big', 'bytes', 'c', 'd', 'f', 'n', 's', 'z']);
  assert.equal(m.size, 10);
  m.delete('big');
  m.delete('bytes');
  assert.deepEqual(m.entries().slice(0, 3), [['a', 'A'], ['b', true], ['c', 'C']]);
  assert.deepEqual(m.values().length, 8);
  assert.deepEqual([...m].length, 8);
  const inner = m.insertContainer('inner', 'list');
  assert.ok(inner instanceof ListRef);
  inner.push('x');
  assert.equal(m.get('inner'), inner, 'a nested container reads back as the same reference');
  const txt = inner.insertContainer(1, 'text');
  txt.insert(0, 'deep');
  assert.deepEqual(m.toJSON().inner, ['x', 'deep']);
  assert.throws(() => m.set('bad', undefined), TypeError);
  assert.throws(() => m.set('bad', {}), TypeError);
  assert.throws(() => m.insertContainer('bad', 'tree'), TypeError);
});

test('list: a batch of numbers (one Float64Array) stores what one value at a time stores', () => {
  const nums = [0, -0, 1, -7, 2 ** 53 - 1, 2 ** 53, 1.5, -2.25, NaN, Infinity, -Infinity, 1e300];
  const fast = new Doc(1);
  const slow = new Doc(1);
  fast.getList('l').insertMany(0, nums);
  fast.getList('l').push(3, 4.5);
  for (const x of nums) slow.getList('l').push(x);
  slow.getList('l').push(3);
  slow.getList('l').push(4.5);
  assert.deepEqual(fast.getList('l').toArray(), slow.getList('l').toArray());
  assert.ok(Object.is(fast.getList('l').get(1), -0));
  assert.equal(typeof fast.getList('l').get(5), 'number');
  assert.throws(() => fast.getList('l').insertMany(99, [1, 2]), OutOfBoundsError);
  assert.equal(fast.getList('l').length, nums.length + 2);
  // The same saved state: the values, not just their rendering, are equal.
  const a = Doc.load(fast.save()).getList('l').toArray();
  assert.deepEqual(a, slow.getList('l').toArray());
  fast.free();
  slow.free();
});

test('list: insert, insertMany, push, delete, get, length, toArray, containers', () => {
  const doc = new Doc(1);
  const l = doc.getList('l');
  assert.ok(l instanceof ListRef);
  assert.equal(l.push(1, 2, 3), 3);
  l.insert(0, 'a', 'b');
  l.insertMany(5, ['end']);
  assert.deepEqual(l.toArray(), ['a', 'b', 1, 2, 3, 'end']);
  l.delete(1);
  l.delete(1, 2);
  assert.deepEqual([...l], ['a', 3, 'end']);
  assert.equal(l.get(1), 3);
  assert.equal(l.get(10), undefined);
  assert.equal(l.length, 3);
  const c = l.pushContainer('counter');
  assert.ok(c instanceof CounterRef);
  c.add(5);
  const m = l.insertContainer(0, 'map');
  m.set('k', 'v');
  assert.deepEqual(l.toJSON(), [{ k: 'v' }, 'a', 3, 'end', 5]);
  assert.equal(l.get(0), m);
  assert.throws(() => l.delete(3, 10), OutOfBoundsError);
  assert.throws(() => l.insert(99, 'x'), OutOfBoundsError);
  assert.equal(l.length, 5);
});

test('counter, register, set', () => {
  const doc = new Doc(1);
  const c = doc.getCounter('c');
  c.add();
  c.add(10);
  c.add(-3);
  assert.equal(c.value, 8);
  c.add(2n ** 60n);
  assert.equal(c.value, 2n ** 60n + 8n);
  assert.equal(c.toJSON(), 2n ** 60n + 8n);
  assert.throws(() => c.add(1.5), TypeError);

  const r = doc.getRegister('r');
  assert.ok(r instanceof RegisterRef);
  assert.equal(r.get(), undefined);
  assert.equal(r.toJSON(), null);
  r.set('v1');
  r.set(42);
  assert.equal(r.get(), 42);

  const s = doc.getSet('s');
  assert.ok(s instanceof SetRef);
  s.add('b').add('a').add(3);
  s.addMany(['c', 'd']);
  s.delete('a');
  s.deleteMany(['c']);
  assert.equal(s.has('b'), true);
  assert.equal(s.has('a'), false);
  assert.deepEqual(s.values(), [3, 'b', 'd']);
  assert.equal(s.size, 3);
  assert.deepEqual([...s], [3, 'b', 'd']);
  assert.deepEqual(doc.toJSON().s, [3, 'b', 'd']);
});

test('transactions: transact, begin/commit/rollback, errors inside', () => {
  const doc = new Doc(1);
  const t = doc.getText('t');
  const got = doc.transact((d) => {
    assert.equal(d.inTransaction, true);
    t.insert(0, 'abc');
    doc.getCounter('n').add(2);
    return 'result';
  });
  assert.equal(got, 'result');
  assert.equal(doc.inTransaction, false);
  const before = doc.save();
  assert.throws(() =>
    doc.transact(() => {
      t.insert(0, 'zzz');
      throw new Error('boom');
    }),
  /boom/);
  assert.equal(t.toString(), 'abc');
  bytesEqual(doc.save(), before);
  assert.throws(() => doc.transact(async () => {}), TypeError);
  assert.equal(doc.inTransaction, false);

  doc.begin();
  t.insert(3, 'd');
  assert.throws(() => doc.begin(), (e) => e instanceof TransactionError && e.code === 'TRANSACTION_OPEN');
  assert.throws(() => doc.save(), TransactionError);
  assert.throws(() => doc.applyUpdate(new Uint8Array()), TransactionError);
  doc.rollback();
  assert.equal(t.toString(), 'abc');
  assert.throws(() => doc.commit(), (e) => e.code === 'NO_TRANSACTION');
  doc.begin();
  t.insert(3, 'd');
  doc.commit();
  assert.equal(t.toString(), 'abcd');
});

test('sync: two documents exchange updates by version vector', () => {
  const a = new Doc(1);
  const b = new Doc(2);
  a.getText('t').insert(0, 'hello');
  b.getList('l').push('from b');
  const toB = a.encodeUpdatesSince(b.version());
  const toA = b.encodeUpdatesSince(a.version());
  assert.ok(toB instanceof Uint8Array);
  const r = b.applyUpdate(toB);
  assert.equal(r.applied, 1);
  assert.equal(r.pending, 0);
  assert.ok(r.missing instanceof Uint8Array);
  a.applyUpdate(toA);
  // Root names travel with the updates.
  assert.deepEqual(a.toJSON(), b.toJSON());
  assert.deepEqual(a.toJSON(), { l: ['from b'], t: 'hello' });
  // Concurrent edits of the same text converge.
  a.getText('t').insert(5, ' world');
  b.getText('t').insert(0, '>> ');
  const va = a.version();
  a.applyUpdate(b.encodeUpdatesSince(va));
  b.applyUpdate(a.encodeUpdatesSince(b.version()));
  assert.equal(a.getText('t').toString(), b.getText('t').toString());
  assert.equal(a.getText('t').toString(), '>> hello world');
  // Applying again is a no-op.
  assert.equal(a.applyUpdate(b.encodeUpdatesSince()).applied, 0);
  // Everything from scratch, merged into one message.
  const merged = Doc.mergeUpdates([a.encodeUpdatesSince(), b.encodeUpdatesSince()]);
  const c = new Doc(3);
  c.applyUpdate(merged);
  assert.deepEqual(c.toJSON(), a.toJSON());
  bytesEqual(c.version(), a.version());
});

test('out-of-order updates are buffered until their dependencies arrive', () => {
  const a = new Doc(1);
  const t = a.getText('t');
  t.insert(0, 'a');
  const first = a.encodeUpdatesSince();
  const v1 = a.version();
  t.insert(1, 'b');
  const second = a.encodeUpdatesSince(v1);
  const b = new Doc(2);
  const r = b.applyUpdate(second);
  assert.equal(r.pending, 1);
  assert.equal(b.pendingCount, 1);
  assert.equal(b.getText('t').toString(), '');
  b.applyUpdate(first);
  assert.equal(b.pendingCount, 0);
  assert.equal(b.getText('t').toString(), 'ab');
});

test('save/load round trip keeps replica and content', () => {
  const a = new Doc(9);
  a.getMap('m').set('k', 'v');
  a.getText('t').insert(0, 'x😀y');
  assert.equal(a.memoryUsed, 0, 'no limit, nothing counted');
  const bytes = a.save();
  const b = Doc.load(bytes);
  assert.equal(b.replicaId, 9n);
  assert.deepEqual(b.getText('t').toString(), 'x😀y');
  b.getMap('m');
  assert.deepEqual(b.toJSON(), a.toJSON());
  bytesEqual(b.save(), bytes);
  const h = Doc.load(a.saveHistory());
  assert.equal(h.getText('t').toString(), 'x😀y');
  assert.deepEqual(h.toJSON(), a.toJSON());
});

test('memory limit: counted, and exceeding it fails with BUDGET_EXCEEDED leaving the doc unchanged', () => {
  const doc = new Doc(1, { memoryLimit: 2000 });
  const t = doc.getText('t');
  t.insert(0, 'small');
  assert.ok(doc.memoryUsed > 0);
  const before = doc.save();
  assert.throws(() => t.insert(0, 'x'.repeat(5000)), (e) => e instanceof BudgetExceededError && e.code === 'BUDGET_EXCEEDED');
  assert.equal(t.toString(), 'small');
  bytesEqual(doc.save(), before);
  const big = new Doc(2);
  big.getText('t').insert(0, 'y'.repeat(5000));
  assert.throws(() => doc.applyUpdate(big.encodeUpdatesSince()), BudgetExceededError);
  assert.throws(() => Doc.load(big.save(), { memoryLimit: 100 }), BudgetExceededError);
  assert.throws(() => new Doc(1, { memoryLimit: -1 }), RangeError);
  bytesEqual(doc.save(), before);
});

test('bad bytes give typed errors and leave the document unchanged', () => {
  const doc = new Doc(1);
  doc.getText('t').insert(0, 'keep me');
  const good = doc.encodeUpdatesSince();
  const before = doc.save();
  const bad = [new Uint8Array([1, 2, 3]), new Uint8Array([0xff, 0xff, 0xff, 0xff]), good.slice(0, good.length - 1)];
  for (const b of bad) {
    assert.throws(() => doc.applyUpdate(b), (e) => e instanceof ConvergeError && typeof e.code === 'string');
    bytesEqual(doc.save(), before);
  }
  assert.throws(() => Doc.load(new Uint8Array([9, 9, 9])), DecodeError);
  assert.throws(() => doc.encodeUpdatesSince(new Uint8Array([0xff])), DecodeError);
  assert.throws(() => Doc.mergeUpdates([new Uint8Array([7])]), ConvergeError);
  assert.equal(doc.getText('t').toString(), 'keep me');
});

test('wrong argument types throw TypeError and change nothing', () => {
  const doc = new Doc(1);
  const l = doc.getList('l');
  l.push(1);
  const before = doc.save();
  assert.throws(() => l.push(2, Symbol('x')), TypeError);
  assert.throws(() => l.push([1]), TypeError);
  assert.throws(() => doc.getText(5), TypeError);
  bytesEqual(doc.save(), before);
});

test('free, Symbol.dispose and use after free', () => {
  const doc = new Doc(1);
  const t = doc.getText('t');
  doc.free();
  doc.free();
  assert.throws(() => t.insert(0, 'x'), (e) => e instanceof ConvergeError && e.code === 'FREED');
  assert.throws(() => t.applyPatches([[0, 0, 'x']]), (e) => e instanceof ConvergeError && e.code === 'FREED');
  assert.throws(() => doc.save(), (e) => e.code === 'FREED');
  const d2 = new Doc(2);
  d2[Symbol.dispose]();
  assert.throws(() => d2.toJSON(), (e) => e.code === 'FREED');
});
