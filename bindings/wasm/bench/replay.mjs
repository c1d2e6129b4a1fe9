// A/B timing of the automerge-paper replay (B4) for one or more builds of the package, each
// run in its own process: per-patch calls, `text.applyPatches(all)`, `save()` and
// `encodeUpdatesSince()` of the whole history (best of three calls each), and 10,000
// one-character edits each followed by `encodeUpdatesSince(version)`. Builds run
// alternately, `--rounds` times; the report gives the median and best per build.
//
// Usage (from bindings/wasm): node bench/replay.mjs [--reps 5] [--rounds 5] DIST [DIST...]
//   where DIST is a copy of dist/ (e.g. `cp -r dist /tmp/before` before a change).

import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { reps: { type: 'string' }, rounds: { type: 'string' }, child: { type: 'boolean' } },
});
const reps = Number(opts.reps ?? 5);

if (!opts.child) {
  const dists = positionals.length ? positionals : [join(here, '..', 'dist')];
  const runs = Object.fromEntries(dists.map((d) => [d, []]));
  for (let r = 0; r < Number(opts.rounds ?? 5); r++) {
    for (const d of dists) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', '--reps', `${reps}`, d]);
      runs[d].push(JSON.parse(out.toString()));
    }
  }
  const med = (x) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
  const f = (x) => `${med(x).toFixed(1)} (best ${Math.min(...x).toFixed(1)})`;
  console.log('| build | per patch ms | applyPatches ms | save ms | encodeUpdatesSince(all) ms | 10k edits + updates ms |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [d, rs] of Object.entries(runs)) {
    const all = (k) => rs.flatMap((r) => r[k]);
    console.log(`| ${d} | ${f(all('perPatch'))} | ${f(all('batch'))} | ${f(all('save'))} | ${f(all('updates'))} | ${f(all('small'))} |`);
  }
  process.exit(0);
}

const { Doc } = await import(pathToFileURL(join(resolve(positionals[0]), 'node.mjs')).href);
const trace = JSON.parse(
  gunzipSync(readFileSync(join(here, '..', '..', '..', '..', 'shared', 'traces', 'automerge-paper.json.gz'))).toString('utf8'),
);
const patches = trace.txns.flatMap((t) => t.patches);
const res = { perPatch: [], batch: [], save: [], updates: [], small: [] };
const time = (f) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

function perPatch(n, record) {
  const d = new Doc(1n);
  const t = d.getText('text');
  const ms = time(() => {
    for (let i = 0; i < n; i++) {
      const p = patches[i];
      if (p[1] > 0) t.delete(p[0], p[1]);
      if (p[2].length > 0) t.insert(p[0], p[2]);
    }
  });
  if (record) {
    if (t.toString() !== trace.endContent) throw new Error('replay ends with different text');
    res.perPatch.push(ms);
    // Best of three: the first call also pays for growing the memory.
    const best = (g) => Math.min(time(g), time(g), time(g));
    res.save.push(best(() => d.save()));
    res.updates.push(best(() => d.encodeUpdatesSince(undefined)));
  }
  d.free();
}
function batch(n, record) {
  const d = new Doc(1n);
  const t = d.getText('text');
  const ps = patches.slice(0, n);
  const ms = time(() => t.applyPatches(ps));
  if (record) {
    if (t.toString() !== trace.endContent) throw new Error('batch replay ends with different text');
    res.batch.push(ms);
  }
  d.free();
}
function small(n, record) {
  const d = new Doc(1n);
  const t = d.getText('text');
  let v = d.version();
  const ms = time(() => {
    for (let i = 0; i < n; i++) {
      t.insert(i, 'a');
      d.encodeUpdatesSince(v);
      v = d.version();
    }
  });
  if (record) res.small.push(ms);
  d.free();
}

perPatch(20000, false);
batch(20000, false);
small(2000, false);
for (let r = 0; r < reps; r++) {
  perPatch(patches.length, true);
  batch(patches.length, true);
  small(10000, true);
}
console.log(JSON.stringify(res));
