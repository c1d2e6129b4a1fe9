// Times the batch entry points on the automerge-paper trace for one build of the package:
// `text.applyPatches(all)` (the JS packing included) and `text.applyEncodedPatches(ops,
// joined)` (packed once beforehand), each on a fresh `Doc`, `--reps` times; prints medians
// and bests in ms. The final text is checked after every run.
//
// Usage (from bindings/wasm): node bench/batch.mjs [--reps 10] [DIST]   (default: dist/)

import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { reps: { type: 'string' } },
});
const reps = Number(opts.reps ?? 10);
const dist = resolve(positionals[0] ?? join(here, '..', 'dist'));
const { Doc } = await import(pathToFileURL(join(dist, 'node.mjs')).href);
const tracePath = join(here, '..', '..', '..', '..', 'shared', 'traces', 'automerge-paper.json.gz');
const trace = JSON.parse(gunzipSync(readFileSync(tracePath)).toString('utf8'));
const patches = trace.txns.flatMap((t) => t.patches);

const n = patches.length;
const ops = new Uint32Array(n * 3);
let joined = '';
for (let i = 0, j = 0; i < n; i++, j += 3) {
  const [pos, del, ins = ''] = patches[i];
  ops[j] = pos;
  ops[j + 1] = del;
  ops[j + 2] = ins.length;
  joined += ins;
}

function time(apply) {
  const times = [];
  for (let r = 0; r < reps; r++) {
    const doc = new Doc(1n);
    const text = doc.getText('text');
    const t0 = performance.now();
    apply(text);
    times.push(performance.now() - t0);
    if (text.toString() !== trace.endContent) throw new Error('the replay ends with a different text');
    doc.free();
  }
  times.sort((a, b) => a - b);
  return `median ${times[reps >> 1].toFixed(1)}, best ${times[0].toFixed(1)}`;
}

console.log(`${dist}: applyPatches(all) ${time((t) => t.applyPatches(patches))} ms; ` +
  `applyEncodedPatches ${time((t) => t.applyEncodedPatches(ops, joined))} ms`);
