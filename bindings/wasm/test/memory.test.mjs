// Memory: freed documents give their WebAssembly memory back for reuse, whether freed by
// free(), by `using` / Symbol.dispose, or by the garbage collector (FinalizationRegistry).
// WebAssembly memory never shrinks, so "bounded" means: after a warm-up round, thousands more
// documents of the same size do not grow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Doc, wasmMemoryBytes } from '../dist/node.mjs';

const TEXT = 'lorem ipsum dolor sit amet '.repeat(40); // ~1 KB per document

function makeDoc(i) {
  const d = new Doc(i + 1);
  d.getText('t').insert(0, TEXT);
  d.getMap('m').set('i', i);
  return d;
}

test('free(): 5,000 documents after a warm-up leave memory where it was', () => {
  for (let i = 0; i < 500; i++) makeDoc(i).free();
  const warm = wasmMemoryBytes();
  for (let i = 0; i < 5000; i++) makeDoc(i).free();
  assert.equal(wasmMemoryBytes(), warm);
});

test('Symbol.dispose frees as free() does', () => {
  for (let i = 0; i < 500; i++) makeDoc(i)[Symbol.dispose]();
  const warm = wasmMemoryBytes();
  for (let i = 0; i < 5000; i++) makeDoc(i)[Symbol.dispose]();
  assert.equal(wasmMemoryBytes(), warm);
});

test('control: documents kept alive do grow memory (the measure can fail)', () => {
  const start = wasmMemoryBytes();
  const kept = [];
  for (let i = 0; i < 5000; i++) kept.push(makeDoc(i));
  assert.ok(wasmMemoryBytes() > start, 'holding 5,000 documents must grow memory');
  for (const d of kept) d.free();
});

test('dropped without free(): the FinalizationRegistry reclaims them', async (t) => {
  if (typeof globalThis.gc !== 'function') {
    if (process.env.CI) assert.fail('run with --expose-gc');
    t.skip('needs node --expose-gc');
    return;
  }
  const settle = async () => {
    for (let k = 0; k < 5; k++) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 2000; i++) makeDoc(i);
    await settle();
  }
  const warm = wasmMemoryBytes();
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 2000; i++) makeDoc(i);
    await settle();
  }
  // 20,000 more dropped documents (~20 MB of content) fit in what the warm-up used.
  assert.equal(wasmMemoryBytes(), warm);
});
