// Where the package's gzipped .wasm bytes go: for each group of functions, how many gzip -9
// bytes the file loses when the group's bodies are replaced by `unreachable` (the group's
// marginal cost; groups overlap in what they share, so the rows do not add up to the total).
//
// Usage (from bindings/wasm), on a build that keeps the name section:
//   node build.mjs --named /tmp/named.wasm
//   node bench/size.mjs /tmp/named.wasm [--top 40] ['label=regex' ...]
// Without groups it uses the ones below. `--top N` also lists the N largest functions.
// `--copies` counts only the second and later functions of one name in each group (the copies
// of generic functions for other types).

import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { demangle, readModule, uleb } from '../tools/wasm-names.mjs';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string' }, copies: { type: 'boolean' } },
});
const [file, ...groupArgs] = positionals;
if (!file) throw new Error('usage: node bench/size.mjs FILE.wasm [--top N] [label=regex ...]');

const DEFAULT_GROUPS = [
  'BTreeMap/BTreeSet=^<?alloc::collections::btree',
  'list engine=^<?converge::list',
  'document=^<?converge::doc',
  'serde+postcard=serde|postcard',
  'state CRDTs=^<?converge::(set|map|causal|counter|register|crdt|version|value|sync|clock)',
  'encoding=^<?converge::encoding',
  'sorts=sort',
  'binding=^<?converge_wasm|maybe_catch_unwind',
  'wasm-bindgen+js-sys=wasm_bindgen|js_sys',
  'hashbrown=hashbrown|foldhash',
  'core::fmt=fmt',
  'allocator=dlmalloc|__rdl_',
  'Vec=^<?alloc::(vec|raw_vec)',
];

const bytes = readFileSync(file);

const { sections, imported, bodies, names } = readModule(bytes);
if (names.size === 0) throw new Error(`${file} has no name section (see the usage above)`);
const fnNames = bodies.map((_, i) => demangle(names.get(i + imported) ?? `func${i + imported}`));

/** The module without custom sections, the bodies `drop(i)` replaced by `unreachable`. */
function rebuild(drop) {
  const parts = [bytes.subarray(0, 8)];
  for (const s of sections) {
    if (s.id === 0) continue;
    if (s.id !== 10) {
      parts.push(bytes.subarray(s.start, s.end));
      continue;
    }
    const code = [uleb(bodies.length)];
    bodies.forEach(([a, b], i) => {
      const body = drop(i) ? Buffer.from([0, 0x00, 0x0b]) : bytes.subarray(a, b);
      code.push(uleb(body.length), body);
    });
    const content = Buffer.concat(code);
    parts.push(Buffer.from([10]), uleb(content.length), content);
  }
  return Buffer.concat(parts);
}
const gz = (b) => gzipSync(b, { level: 9 }).length;

const whole = rebuild(() => false);
const total = gz(whole);
console.log(`${file}: ${whole.length} bytes without custom sections, ${total} gzip -9`);
console.log('| group | functions | raw bytes | gzip -9 bytes it adds |');
console.log('| --- | ---: | ---: | ---: |');
for (const arg of groupArgs.length ? groupArgs : DEFAULT_GROUPS) {
  const eq = arg.indexOf('=');
  const re = new RegExp(arg.slice(eq + 1));
  const members = new Set();
  const seen = new Set();
  fnNames.forEach((n, i) => {
    if (!re.test(n)) return;
    if (!opts.copies || seen.has(n)) members.add(i);
    seen.add(n);
  });
  const raw = [...members].reduce((sum, i) => sum + bodies[i][1] - bodies[i][0], 0);
  const saved = total - gz(rebuild((i) => members.has(i)));
  console.log(`| ${arg.slice(0, eq)} | ${members.size} | ${raw} | ${saved} |`);
}
const top = Number(opts.top ?? 0);
if (top) {
  console.log(`\nThe ${top} largest functions (raw bytes):`);
  bodies
    .map(([a, b], i) => [b - a, fnNames[i]])
    .sort((x, y) => y[0] - x[0])
    .slice(0, top)
    .forEach(([n, name]) => console.log(`${String(n).padStart(7)}  ${name.slice(0, 140)}`));
}
