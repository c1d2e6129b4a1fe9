// Same-process benchmark: converge-crdt against loro-crdt, yjs and @automerge/automerge on the
// automerge-paper trace (B4) and the crdt-benchmarks workloads B1-B3 (as defined in
// benches/src/compare/workloads.rs), every result verified against a plain JS model.
//
// Usage (from bindings/wasm, after `npm run build`):
//   npm --prefix bench install && npm run bench                 full run, writes
//                                                               ../../perf/results/wasm-<date>.md
//   node bench/run.mjs --smoke                                  small sizes, prints only
// Options: --n N (default 6000), --b4-prefix K (replay K patches), --out FILE, --only LIB,...

import { gunzipSync, gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

import * as Y from 'yjs';
import { LoroDoc } from 'loro-crdt';
import * as A from '@automerge/automerge';
import { Doc as CDoc } from '../dist/node.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const repo = join(pkg, '..', '..');
const { values: opts } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    n: { type: 'string' },
    'b4-prefix': { type: 'string' },
    out: { type: 'string' },
    only: { type: 'string' },
    native: { type: 'boolean' },
  },
});
const N = Number(opts.n ?? (opts.smoke ? 200 : 6000));
const B4_PREFIX = opts['b4-prefix'] ? Number(opts['b4-prefix']) : opts.smoke ? 3000 : undefined;
// The default report goes beside the Rust comparison's, by date; perf/wasm.md keeps the notes.
const today = new Date().toISOString().slice(0, 10);
const OUT = opts.out ?? (opts.smoke ? undefined : join(repo, 'perf', 'results', `wasm-${today}.md`));

// ------------------------------------------------------------------------------ inputs

/** mulberry32: a small seeded generator (the Rust suite's inputs are not reused byte for byte). */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const range = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive
  return {
    range,
    coin: () => next() < 0.5,
    num: () => Math.floor(next() * 4294967296) >>> 0,
    word: (abc, lo, hi) => {
      let s = '';
      for (let i = range(lo, hi); i > 0; i--) s += abc[range(0, abc.length - 1)];
      return s;
    },
  };
}
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';

const applyEdit = (s, e) => (e[0] === 'ins' ? s.slice(0, e[1]) + e[2] + s.slice(e[1]) : s.slice(0, e[1]) + s.slice(e[1] + e[2]));

function textInputs(r) {
  const out = [];
  const one = (id, name, changes) => {
    let model = '';
    for (const c of changes) for (const e of c) model = applyEdit(model, e);
    out.push({ id, name, kind: 'text', changes, expected: model });
  };
  let s = r.word(LOWER, N, N);
  one('B1.1', 'append N characters', [...s].map((c, i) => [['ins', i, c]]));
  one('B1.2', 'insert string of length N', [[['ins', 0, r.word(LOWER, N, N)]]]);
  s = r.word(LOWER, N, N);
  one('B1.3', 'prepend N characters', [...s].reverse().map((c) => [['ins', 0, c]]));
  let changes = [];
  for (let len = 0; len < N; len++) changes.push([['ins', r.range(0, len), r.word(LOWER, 1, 1)]]);
  one('B1.4', 'insert N characters at random positions', changes);
  changes = [];
  let len = 0;
  for (let i = 0; i < N; i++) {
    const w = r.word(LOWER, 2, 10);
    changes.push([['ins', r.range(0, len), w]]);
    len += w.length;
  }
  one('B1.5', 'insert N words at random positions', changes);
  s = r.word(LOWER, N, N);
  one('B1.6', 'insert string, then delete it', [[['ins', 0, s], ['del', 0, N]]]);
  changes = [];
  len = 0;
  for (let i = 0; i < N; i++) {
    const pos = r.range(0, len);
    if (pos === len || r.coin()) {
      const w = r.word(LOWER, 2, 10);
      len += w.length;
      changes.push([['ins', pos, w]]);
    } else {
      const del = r.range(1, Math.min(9, len - pos));
      len -= del;
      changes.push([['del', pos, del]]);
    }
  }
  one('B1.7', 'insert/delete strings at random positions', changes);
  return out;
}

function listInputs(r) {
  const nums = () => Array.from({ length: N }, () => r.num());
  const out = [];
  const one = (id, name, changes) => {
    const model = [];
    for (const [pos, vals] of changes) model.splice(pos, 0, ...vals);
    out.push({ id, name, kind: 'list', changes, expected: model });
  };
  one('B1.8', 'append N numbers', nums().map((x, i) => [i, [x]]));
  one('B1.9', 'insert array of N numbers', [[0, nums()]]);
  one('B1.10', 'prepend N numbers', nums().map((x) => [0, [x]]));
  const changes = [];
  for (let len = 0; len < N; len++) changes.push([r.range(0, len), [r.num()]]);
  one('B1.11', 'insert N numbers at random positions', changes);
  return out;
}

function concurrentInputs(r) {
  const init = r.word(DIGITS, 100, 100);
  const out = [];
  const one = (id, name, a, b) => {
    // What the merge must contain: each user's letters in order, and the start digits that
    // neither user deleted (tracked by index).
    const tagged = (edits) => {
      let m = [...init].map((c, i) => [c, i]);
      for (const e of edits) {
        if (e[0] === 'ins') m.splice(e[1], 0, ...[...e[2]].map((c) => [c, -1]));
        else m.splice(e[1], e[2]);
      }
      return m;
    };
    const ma = tagged(a);
    const mb = tagged(b);
    const keptB = new Set(mb.filter((t) => t[1] >= 0).map((t) => t[1]));
    out.push({
      id, name, kind: 'concurrent', init, a, b,
      lower: ma.filter((t) => t[1] < 0).map((t) => t[0]).join(''),
      upper: mb.filter((t) => t[1] < 0).map((t) => t[0]).join(''),
      digits: ma.filter((t) => t[1] >= 0 && keptB.has(t[1])).map((t) => t[0]).join(''),
    });
  };
  one('B2.1', 'concurrently insert string of length N at index 0',
    [['ins', 0, r.word(LOWER, N, N)]], [['ins', 0, r.word(UPPER, N, N)]]);
  const inserts = (abc, lo, hi) => {
    let len = 100;
    return Array.from({ length: N }, () => {
      const pos = r.range(0, len);
      const w = r.word(abc, lo, hi);
      len += w.length;
      return ['ins', pos, w];
    });
  };
  one('B2.2', 'concurrently insert N characters at random positions', inserts(LOWER, 1, 1), inserts(UPPER, 1, 1));
  one('B2.3', 'concurrently insert N words at random positions', inserts(LOWER, 3, 9), inserts(UPPER, 3, 9));
  const mixed = (abc) => {
    let len = 100;
    const edits = [];
    for (let i = 0; i < N; i++) {
      const pos = r.range(0, len);
      const w = r.word(abc, 3, 9);
      len += w.length;
      edits.push(['ins', pos, w]);
      if (pos === len || r.coin()) {
        const w2 = r.word(abc, 2, 10);
        len += w2.length;
        edits.push(['ins', pos, w2]);
      } else {
        const del = r.range(1, Math.min(9, len - pos));
        len -= del;
        edits.push(['del', pos, del]);
      }
    }
    return edits;
  };
  one('B2.4', 'concurrently insert & delete', mixed(LOWER), mixed(UPPER));
  return out;
}

function b3Inputs() {
  const m = 20 * Math.floor(Math.sqrt(N));
  const all = Array.from({ length: m }, (_, i) => String(i)).sort();
  return [
    { id: 'B3.1', name: '20√N clients concurrently set number in map', kind: 'b3map', m, of: (i) => i, expected: m - 1 },
    { id: 'B3.3', name: '20√N clients concurrently set string in map', kind: 'b3map', m, of: (i) => String(i).repeat(m), expected: String(m - 1).repeat(m) },
    { id: 'B3.4', name: '20√N clients concurrently insert text in array', kind: 'b3list', m, of: (i) => [String(i)], expected: all },
  ];
}

function loadTrace() {
  const path = join(repo, '..', 'shared', 'traces', 'automerge-paper.json.gz');
  const trace = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));
  let patches = trace.txns.flatMap((t) => t.patches);
  let expected = trace.endContent;
  if (B4_PREFIX !== undefined) {
    patches = patches.slice(0, B4_PREFIX);
    expected = '';
    for (const [pos, del, ins] of patches) expected = expected.slice(0, pos) + ins + expected.slice(pos + del);
  }
  // The trace is ASCII, so its char positions are UTF-16 positions too.
  if (!/^[\x00-\x7f]*$/.test(trace.endContent)) throw new Error('trace is not ASCII');
  return { patches, expected };
}

// ------------------------------------------------------------------------------ adapters

const hexId = (id) => id.toString(16).padStart(16, '0');

const converge = {
  name: 'converge',
  create(id) {
    const d = new CDoc(id);
    return { d, t: d.getText('text'), l: d.getList('list'), m: d.getMap('map'), sent: undefined };
  },
  takeUpdate(s) {
    const u = s.d.encodeUpdatesSince(s.sent);
    s.sent = s.d.version();
    return u;
  },
  applyUpdates(s, us) {
    for (const u of us) s.d.applyUpdate(u);
  },
  edit(s, edits) {
    const t = s.t;
    const run = () => {
      for (const e of edits) {
        if (e[0] === 'ins') t.insert(e[1], e[2]);
        else t.delete(e[1], e[2]);
      }
    };
    if (edits.length === 1) run();
    else s.d.transact(run);
  },
  text: (s) => s.t.toString(),
  insertVals(s, pos, vals) {
    s.l.insertMany(pos, vals);
  },
  vals: (s) => s.l.toArray(),
  set(s, k, v) {
    s.m.set(k, v);
  },
  get: (s, k) => s.m.get(k),
  patch(s, pos, del, ins) {
    if (del > 0) s.t.delete(pos, del);
    if (ins.length > 0) s.t.insert(pos, ins);
  },
  encode: (s) => s.d.save(),
  load(bytes) {
    const d = CDoc.load(bytes);
    return { d, t: d.getText('text'), l: d.getList('list'), m: d.getMap('map') };
  },
  free: (s) => s.d.free(),
};

const loro = {
  name: 'loro-crdt',
  create(id) {
    const d = new LoroDoc();
    d.setPeerId(BigInt(id));
    return { d, t: d.getText('text'), l: d.getList('list'), m: d.getMap('map'), sent: undefined };
  },
  takeUpdate(s) {
    const u = s.sent === undefined ? s.d.export({ mode: 'update' }) : s.d.export({ mode: 'update', from: s.sent });
    s.sent = s.d.oplogVersion();
    return u;
  },
  applyUpdates(s, us) {
    for (const u of us) s.d.import(u);
  },
  edit(s, edits) {
    for (const e of edits) {
      if (e[0] === 'ins') s.t.insert(e[1], e[2]);
      else s.t.delete(e[1], e[2]);
    }
    s.d.commit();
  },
  text: (s) => s.t.toString(),
  insertVals(s, pos, vals) {
    for (let i = 0; i < vals.length; i++) s.l.insert(pos + i, vals[i]);
    s.d.commit();
  },
  vals: (s) => s.l.toArray(),
  set(s, k, v) {
    s.m.set(k, v);
    s.d.commit();
  },
  get: (s, k) => s.m.get(k),
  patch(s, pos, del, ins) {
    if (del > 0) s.t.delete(pos, del);
    if (ins.length > 0) s.t.insert(pos, ins);
  },
  encode: (s) => s.d.export({ mode: 'snapshot' }),
  load(bytes) {
    const d = LoroDoc.fromSnapshot(bytes);
    return { d, t: d.getText('text'), l: d.getList('list'), m: d.getMap('map') };
  },
  free: (s) => s.d.free(),
};

const yjs = {
  name: 'yjs',
  create(id) {
    const d = new Y.Doc();
    d.clientID = id;
    const s = { d, t: d.getText('text'), l: d.getArray('list'), m: d.getMap('map'), pending: [] };
    d.on('update', (u) => s.pending.push(u));
    return s;
  },
  takeUpdate(s) {
    const u = s.pending.length === 1 ? s.pending[0] : Y.mergeUpdates(s.pending);
    s.pending = [];
    return u;
  },
  applyUpdates(s, us) {
    for (const u of us) Y.applyUpdate(s.d, u);
  },
  edit(s, edits) {
    s.d.transact(() => {
      for (const e of edits) {
        if (e[0] === 'ins') s.t.insert(e[1], e[2]);
        else s.t.delete(e[1], e[2]);
      }
    });
  },
  text: (s) => s.t.toString(),
  insertVals(s, pos, vals) {
    s.l.insert(pos, vals);
  },
  vals: (s) => s.l.toArray(),
  set(s, k, v) {
    s.m.set(k, v);
  },
  get: (s, k) => s.m.get(k),
  patch(s, pos, del, ins) {
    if (del > 0) s.t.delete(pos, del);
    if (ins.length > 0) s.t.insert(pos, ins);
  },
  encode: (s) => Y.encodeStateAsUpdate(s.d),
  load(bytes) {
    const d = new Y.Doc();
    Y.applyUpdate(d, bytes);
    return { d, t: d.getText('text'), l: d.getArray('list'), m: d.getMap('map'), pending: [] };
  },
  free: (s) => s.d.destroy(),
};

// Every Automerge replica starts from one shared base document holding the three objects
// (an object created independently on two replicas would be two different objects).
let amBase;
const automerge = {
  name: '@automerge/automerge',
  create(id) {
    amBase ??= A.save(A.change(A.init({ actor: hexId(0) }), (d) => {
      d.text = '';
      d.list = [];
      d.map = {};
    }));
    return { d: A.load(amBase, { actor: hexId(id) }) };
  },
  takeUpdate(s) {
    return A.getLastLocalChange(s.d);
  },
  applyUpdates(s, us) {
    [s.d] = A.applyChanges(s.d, us);
  },
  edit(s, edits) {
    s.d = A.change(s.d, (d) => {
      for (const e of edits) {
        if (e[0] === 'ins') A.splice(d, ['text'], e[1], 0, e[2]);
        else A.splice(d, ['text'], e[1], e[2]);
      }
    });
  },
  text: (s) => s.d.text,
  insertVals(s, pos, vals) {
    s.d = A.change(s.d, (d) => {
      A.insertAt(d.list, pos, ...vals);
    });
  },
  vals: (s) => [...s.d.list],
  set(s, k, v) {
    s.d = A.change(s.d, (d) => {
      d.map[k] = v;
    });
  },
  get: (s, k) => s.d.map[k],
  patch(s, pos, del, ins) {
    s.d = A.change(s.d, (d) => {
      A.splice(d, ['text'], pos, del, ins);
    });
  },
  encode: (s) => A.save(s.d),
  load: (bytes) => ({ d: A.load(bytes) }),
  free: (s) => A.free(s.d),
};

let LIBS = [converge, loro, yjs, automerge];
if (opts.only) {
  const keep = opts.only.split(',');
  LIBS = LIBS.filter((l) => keep.some((k) => l.name.includes(k)));
}

// ------------------------------------------------------------------------------ runs

class Mismatch extends Error {}
const check = (ok, msg) => {
  if (!ok) throw new Mismatch(msg);
};
const sameArray = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

function timeIt(f) {
  const t = performance.now();
  f();
  return performance.now() - t;
}

/** Encodes, reloads and checks the reloaded copy; returns { bytes, loadMs }. */
function roundTrip(lib, s, ok) {
  const bytes = lib.encode(s);
  let loaded;
  const loadMs = timeIt(() => {
    loaded = lib.load(bytes);
  });
  check(ok(loaded), `${lib.name}: reloaded document differs`);
  lib.free(loaded);
  return { bytes: bytes.length, loadMs };
}

function runB1Text(lib, w) {
  const d1 = lib.create(1);
  const updates = [];
  const ms = timeIt(() => {
    for (const c of w.changes) {
      lib.edit(d1, c);
      updates.push(lib.takeUpdate(d1));
    }
  });
  check(lib.text(d1) === w.expected, `${lib.name}: text differs from the model`);
  const d2 = lib.create(2);
  lib.applyUpdates(d2, updates);
  check(lib.text(d2) === w.expected, `${lib.name}: remote replica differs`);
  const rt = roundTrip(lib, d1, (d) => lib.text(d) === w.expected);
  lib.free(d1);
  lib.free(d2);
  return { ms, ...rt };
}

function runB1List(lib, w) {
  const d1 = lib.create(1);
  const updates = [];
  const ms = timeIt(() => {
    for (const [pos, vals] of w.changes) {
      lib.insertVals(d1, pos, vals);
      updates.push(lib.takeUpdate(d1));
    }
  });
  check(sameArray(lib.vals(d1), w.expected), `${lib.name}: list differs from the model`);
  const d2 = lib.create(2);
  lib.applyUpdates(d2, updates);
  check(sameArray(lib.vals(d2), w.expected), `${lib.name}: remote list differs`);
  const rt = roundTrip(lib, d1, (d) => sameArray(lib.vals(d), w.expected));
  lib.free(d1);
  lib.free(d2);
  return { ms, ...rt };
}

function runB2(lib, w) {
  const d1 = lib.create(1);
  const d2 = lib.create(2);
  lib.edit(d1, [['ins', 0, w.init]]);
  lib.applyUpdates(d2, [lib.takeUpdate(d1)]);
  lib.takeUpdate(d2);
  const ms = timeIt(() => {
    lib.edit(d1, w.a);
    lib.edit(d2, w.b);
    const u1 = lib.takeUpdate(d1);
    const u2 = lib.takeUpdate(d2);
    lib.applyUpdates(d1, [u2]);
    lib.applyUpdates(d2, [u1]);
  });
  const t1 = lib.text(d1);
  check(t1 === lib.text(d2), `${lib.name}: replicas differ after sync`);
  const pick = (re) => [...t1].filter((c) => re.test(c)).join('');
  check(
    t1.length === w.lower.length + w.upper.length + w.digits.length &&
      pick(/[a-z]/) === w.lower && pick(/[A-Z]/) === w.upper && pick(/[0-9]/) === w.digits,
    `${lib.name}: merged text breaks the model`,
  );
  const rt = roundTrip(lib, d1, (d) => lib.text(d) === t1);
  lib.free(d1);
  lib.free(d2);
  return { ms, ...rt };
}

function b3Updates(lib, w, change) {
  const out = [];
  for (let i = 0; i < w.m; i++) {
    const d = lib.create(i + 1);
    change(d, i);
    out.push(lib.takeUpdate(d));
    lib.free(d);
  }
  return out;
}

function runB3(lib, w) {
  const isMap = w.kind === 'b3map';
  const updates = b3Updates(lib, w, (d, i) => (isMap ? lib.set(d, 'v', w.of(i)) : lib.insertVals(d, 0, w.of(i))));
  const fresh = lib.create(w.m + 2);
  const ms = timeIt(() => lib.applyUpdates(fresh, updates));
  if (isMap) {
    check(lib.get(fresh, 'v') === w.expected, `${lib.name}: v is not the highest id's write`);
  } else {
    const got = lib.vals(fresh);
    check(sameArray([...got].sort(), w.expected), `${lib.name}: merged list lost or duplicated elements`);
  }
  const ok = isMap ? (d) => lib.get(d, 'v') === w.expected : (d) => lib.vals(d).length === w.m;
  const rt = roundTrip(lib, fresh, ok);
  lib.free(fresh);
  return { ms, ...rt };
}

/** A short untimed replay first, so no library is timed while its code is still cold. */
function warmB4(lib, trace) {
  const d = lib.create(1);
  const n = Math.min(trace.patches.length, 20000);
  for (let i = 0; i < n; i++) {
    const p = trace.patches[i];
    lib.patch(d, p[0], p[1], p[2]);
  }
  lib.free(d);
}

function runB4(lib, trace) {
  warmB4(lib, trace);
  const d = lib.create(1);
  const { patches } = trace;
  const ms = timeIt(() => {
    for (let i = 0; i < patches.length; i++) {
      const p = patches[i];
      lib.patch(d, p[0], p[1], p[2]);
    }
  });
  check(lib.text(d) === trace.expected, `${lib.name}: replay ends with different text`);
  const rt = roundTrip(lib, d, (x) => lib.text(x) === trace.expected);
  lib.free(d);
  return { ms, ...rt };
}

function runB4Batch(trace) {
  const d = converge.create(1);
  const ms = timeIt(() => d.t.applyPatches(trace.patches));
  check(d.t.toString() === trace.expected, 'converge batch: replay ends with different text');
  converge.free(d);
  return { ms };
}

// ------------------------------------------------------------------------------ main

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const rows = [];
const r = rng(0x5eedc0de);
const workloads = [...textInputs(r), ...listInputs(r), ...concurrentInputs(r), ...b3Inputs()];
const runners = { text: runB1Text, list: runB1List, concurrent: runB2, b3map: runB3, b3list: runB3 };

/** Cells whose first run takes less (ms) are run again (see `runCell`). */
const SHORT_MS = 20;
const SHORT_REPS = 5;

/**
 * One cell: a run, and after a short one `SHORT_REPS` more (each checked), whose median time
 * is kept: the first run of a short cell is its warm-up, as B4's untimed replay is.
 */
function runCell(run) {
  const first = run();
  if (first.ms >= SHORT_MS) return first;
  const runs = [];
  for (let i = 0; i < SHORT_REPS; i++) runs.push(run());
  runs.sort((a, b) => a.ms - b.ms);
  return runs[SHORT_REPS >> 1];
}

for (const w of workloads) {
  const row = { id: w.id, name: w.name, res: {} };
  for (const lib of LIBS) {
    try {
      row.res[lib.name] = runCell(() => runners[w.kind](lib, w));
    } catch (e) {
      row.res[lib.name] = { error: e instanceof Mismatch ? e.message : `${e}` };
    }
  }
  rows.push(row);
  console.log(w.id, Object.entries(row.res).map(([k, v]) => `${k} ${v.error ?? fmt(v.ms) + ' ms'}`).join(' | '));
}

const trace = loadTrace();
const b4 = { id: 'B4', name: `replay automerge-paper (${trace.patches.length} patches, one call each)`, res: {} };
for (const lib of LIBS) {
  try {
    b4.res[lib.name] = runB4(lib, trace);
  } catch (e) {
    b4.res[lib.name] = { error: `${e.message ?? e}` };
  }
  console.log('B4', lib.name, b4.res[lib.name].error ?? `${fmt(b4.res[lib.name].ms)} ms`);
}
rows.push(b4);
let batch;
if (LIBS.includes(converge)) {
  // Timed as a short cell: a first run that warms the path up, then the median of five.
  batch = runCell(() => runB4Batch(trace));
  console.log('B4 converge applyPatches', `${fmt(batch.ms)} ms`);
}

// The native Rust Doc on the same patches (release build of examples/native_replay.rs).
let native;
if (opts.native ?? !opts.smoke) {
  const lines = trace.patches.map(([p, d, s]) => `${p} ${d} ${Buffer.from(s).toString('hex')}`).join('\n');
  // Five runs, each mode's median: one run of a few milliseconds is at the mercy of whatever
  // else the machine does (a single run once read 21 ms for a call that takes 7).
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const out = execFileSync('cargo', ['run', '-q', '--release', '-p', 'converge-wasm', '--example', 'native_replay'], {
      cwd: repo, input: lines, stdio: ['pipe', 'pipe', 'inherit'], maxBuffer: 1 << 20,
    }).toString();
    runs.push(out.trim().split('\n').map((l) => l.split(' ')));
  }
  native = Object.fromEntries(runs[0].map(([k, , len]) => {
    const ms = runs.map((rows) => Number(rows.find((row) => row[0] === k)[1])).sort((a, b) => a - b);
    return [k, { ms: ms[2], len: Number(len) }];
  }));
  check(native.batch.len === trace.expected.length, 'native replay ends with a different length');
  console.log('B4 native Rust Doc, medians of 5:', Object.entries(native).map(([k, v]) => `${k} ${v.ms}`).join(' | '));
}

// Package sizes.
const wasmBytes = readFileSync(join(pkg, 'dist', 'converge_wasm_bg.wasm'));
const sizes = (buf) => ({
  raw: buf.length,
  gzip: gzipSync(buf, { level: 9 }).length,
  brotli: brotliCompressSync(buf, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
const peerDir = (name) => join(here, 'node_modules', name);
const peerWasm = (name, file) => {
  try {
    const dir = peerDir(name);
    return existsSync(join(dir, file)) ? sizes(readFileSync(join(dir, file))) : undefined;
  } catch {
    return undefined;
  }
};
const sizeRows = [
  ['converge-crdt (converge_wasm_bg.wasm)', sizes(wasmBytes)],
  ['converge-crdt JS (glue + wrapper, browser.js entry)', sizes(Buffer.concat(['converge_wasm.js', 'core.js', 'browser.js'].map((f) => readFileSync(join(pkg, 'dist', f)))))],
  ['loro-crdt (nodejs/loro_wasm_bg.wasm)', peerWasm('loro-crdt', 'nodejs/loro_wasm_bg.wasm')],
  ['@automerge/automerge (automerge_wasm_bg.wasm)', peerWasm('@automerge/automerge', 'dist/automerge.wasm') ?? peerWasm('@automerge/automerge', 'dist/wasm_bindgen_output/nodejs/automerge_wasm_bg.wasm')],
  ['yjs (dist/yjs.mjs, JS)', peerWasm('yjs', 'dist/yjs.mjs')],
];

// ------------------------------------------------------------------------------ report

const versions = Object.fromEntries(
  ['loro-crdt', 'yjs', '@automerge/automerge'].map((n) => [n, JSON.parse(readFileSync(join(peerDir(n), 'package.json'), 'utf8')).version]),
);
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo }).toString().trim();
} catch {}
const cell = (v) => (v === undefined ? '' : v.error ? `FAIL: ${v.error}` : fmt(v.ms));
const names = LIBS.map((l) => l.name);
const lines = [];
lines.push('# converge-crdt (WebAssembly) against loro-crdt, yjs and Automerge in Node');
lines.push('');
lines.push(`Measured ${new Date().toISOString().slice(0, 10)} on this project's 2-core machine (shared with other jobs, so`);
lines.push('treat differences under ~20% as noise), Node ' + process.version + ', commit ' + commit + '. Versions: ' +
  Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ') + '.');
lines.push('');
lines.push('Commands (from `bindings/wasm/`):');
lines.push('');
lines.push('```');
lines.push('npm install && npm run build          # the package (cargo profile `wasm`, wasm-bindgen-cli)');
lines.push('npm --prefix bench install            # the peers, versions pinned in bench/package.json');
lines.push(`npm run bench${opts.n ? ` -- --n ${N}` : ''}                         # writes this file`);
lines.push('```');
lines.push('');
lines.push(`Workloads are those of dmonad/crdt-benchmarks as ported in \`benches/src/compare/workloads.rs\`, N = ${N},`);
lines.push('generated here by a seeded JS generator; every final state is checked against a plain JS model');
lines.push('(B1: text/list equals the model on the editing replica, on a replica that applied its updates and');
lines.push('after save+load; B2: each user\'s letters in order and exactly the surviving start digits; B3: the');
lines.push('highest replica id\'s write, or every element once; B4: the trace\'s final text). A cell reads');
lines.push('FAIL with the reason when a check failed. Time in milliseconds. B1-B3 run in the order above');
lines.push("(each library's first workloads include its JIT warm-up). A cell whose first run took under");
lines.push(`${SHORT_MS} ms runs ${SHORT_REPS} more times, on fresh documents, and shows their median: its first run is the`);
lines.push("warm-up. B4 runs once, after an untimed replay of the trace's first 20,000 patches.");
lines.push('');
lines.push('## Time (ms)');
lines.push('');
lines.push(`| id | workload | ${names.join(' | ')} | converge vs best peer |`);
lines.push(`| --- | --- | ${names.map(() => '---:').join(' | ')} | ---: |`);
for (const row of rows) {
  const conv = row.res.converge;
  const peers = names.filter((n) => n !== 'converge').map((n) => row.res[n]).filter((v) => v && !v.error);
  const best = peers.length ? Math.min(...peers.map((v) => v.ms)) : undefined;
  const ratio = conv && !conv.error && best !== undefined ? `${(conv.ms / best).toFixed(2)}×` : '';
  lines.push(`| ${row.id} | ${row.name} | ${names.map((n) => cell(row.res[n])).join(' | ')} | ${ratio} |`);
}
lines.push('');
lines.push('"converge vs best peer" is converge\'s time over the fastest other library\'s: below 1 means converge is faster.');
lines.push('');
lines.push('## automerge-paper replay (B4)');
lines.push('');
lines.push('| package | replay ms | ns/patch | saved bytes | load ms |');
lines.push('| --- | ---: | ---: | ---: | ---: |');
for (const n of names) {
  const v = b4.res[n];
  if (!v || v.error) {
    lines.push(`| ${n} | ${v ? 'FAIL: ' + v.error : ''} | | | |`);
    continue;
  }
  lines.push(`| ${n} | ${fmt(v.ms)} | ${Math.round((v.ms * 1e6) / trace.patches.length).toLocaleString('en')} | ${v.bytes.toLocaleString('en')} | ${fmt(v.loadMs)} |`);
}
if (batch) {
  lines.push(`| converge, \`text.applyPatches(all)\` (one call, timed as a short cell) | ${fmt(batch.ms)} | ${Math.round((batch.ms * 1e6) / trace.patches.length).toLocaleString('en')} | | |`);
}
if (native) {
  lines.push(`| native Rust \`Doc\`, \`text_splice\` per patch (same machine, release build, median of 5 runs) | ${fmt(native['per-call'].ms)} | ${Math.round((native['per-call'].ms * 1e6) / trace.patches.length).toLocaleString('en')} | | |`);
  lines.push(`| native Rust \`Doc\`, all patches in one transaction | ${fmt(native.batch.ms)} | ${Math.round((native.batch.ms * 1e6) / trace.patches.length).toLocaleString('en')} | | |`);
  lines.push(`| native Rust \`Doc\`, one \`text_splice_batch\` call (what \`applyPatches\` calls) | ${fmt(native['splice-batch'].ms)} | ${Math.round((native['splice-batch'].ms * 1e6) / trace.patches.length).toLocaleString('en')} | | |`);
}
const c4 = b4.res.converge;
if (c4 && !c4.error) {
  const ratios = names.filter((n) => n !== 'converge' && b4.res[n] && !b4.res[n].error)
    .map((n) => `${(c4.ms / b4.res[n].ms).toFixed(2)}× ${n}`);
  lines.push('');
  lines.push(`converge one call per patch: ${ratios.join(', ')}.`);
  if (batch && native) {
    lines.push(`converge \`applyPatches\` (the JS packing included) against the native Rust Doc's \`text_splice_batch\`: ${(batch.ms / native['splice-batch'].ms).toFixed(2)}×; against the native Doc with all patches in one transaction: ${(batch.ms / native.batch.ms).toFixed(2)}×.`);
  }
}
lines.push('');
lines.push('"saved bytes": converge `save()`, Loro `export({mode: "snapshot"})`, Yjs `encodeStateAsUpdate`,');
lines.push('Automerge `save()`; "load ms" loads those bytes back.');
lines.push('');
lines.push('## Package size');
lines.push('');
lines.push('| file | raw bytes | gzip -9 | brotli -q 11 |');
lines.push('| --- | ---: | ---: | ---: |');
for (const [name, s] of sizeRows) {
  if (s) lines.push(`| ${name} | ${s.raw.toLocaleString('en')} | ${s.gzip.toLocaleString('en')} | ${s.brotli.toLocaleString('en')} |`);
}
lines.push('');
const report = lines.join('\n');
if (OUT) {
  writeFileSync(OUT, report);
  console.log(`wrote ${relative(process.cwd(), OUT)}`);
} else {
  console.log(report);
}
const failed = rows.flatMap((row) => Object.entries(row.res).filter(([, v]) => v.error).map(([k, v]) => `${row.id} ${k}: ${v.error}`));
if (failed.length) {
  console.error(`verification failed:\n${failed.join('\n')}`);
  process.exitCode = 1;
}
