// Where the package's gzipped .wasm bytes go: for each group of functions, how many gzip -9
// bytes the file loses when the group's bodies are replaced by `unreachable` (the group's
// marginal cost; groups overlap in what they share, so the rows do not add up to the total).
//
// Usage (from bindings/wasm), on a build that keeps the name section:
//   cargo build -p converge-wasm --lib --profile wasm --target wasm32-unknown-unknown
//   wasm-bindgen --target web --no-typescript --out-dir /tmp/named --out-name converge_wasm \
//     ../../target/wasm32-unknown-unknown/wasm/converge_wasm.wasm
//   node bench/size.mjs /tmp/named/converge_wasm_bg.wasm [--top 40] ['label=regex' ...]
// Without groups it uses the ones below. `--top N` also lists the N largest functions.

import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string' } },
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

function leb(at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

function uleb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

// Sections, imported function count, function bodies and names.
const sections = [];
for (let at = 8; at < bytes.length; ) {
  const start = at;
  const id = bytes[at++];
  const [size, body] = leb(at);
  sections.push({ id, start, body, end: body + size });
  at = body + size;
}
let imported = 0;
const bodies = [];
const names = new Map();
for (const s of sections) {
  if (s.id === 2) {
    let [count, at] = leb(s.body);
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < 2; k++) {
        const [len, next] = leb(at);
        at = next + len;
      }
      const kind = bytes[at++];
      if (kind === 0) {
        imported++;
        at = leb(at)[1];
      } else if (kind === 1 || kind === 2) {
        if (kind === 1) at++;
        const flags = bytes[at++];
        at = leb(at)[1];
        if (flags & 1) at = leb(at)[1];
      } else {
        at += 2;
      }
    }
  } else if (s.id === 10) {
    let [count, at] = leb(s.body);
    for (let i = 0; i < count; i++) {
      const [len, next] = leb(at);
      bodies.push([next, next + len]);
      at = next + len;
    }
  } else if (s.id === 0) {
    const [len, at] = leb(s.body);
    if (bytes.toString('latin1', at, at + len) !== 'name') continue;
    for (let sub = at + len; sub < s.end; ) {
      const kind = bytes[sub];
      const [size, content] = leb(sub + 1);
      if (kind === 1) {
        let [count, p] = leb(content);
        for (let i = 0; i < count; i++) {
          const [idx, q] = leb(p);
          const [n, r] = leb(q);
          names.set(idx, bytes.toString('utf8', r, r + n));
          p = r + n;
        }
      }
      sub = content + size;
    }
  }
}
if (names.size === 0) throw new Error(`${file} has no name section (see the usage above)`);

/** A function's path: Rust's legacy mangling (`_ZN...E`) undone, the hash suffix dropped. */
function demangle(name) {
  if (!name.startsWith('_ZN')) return name.replace(/::h[0-9a-f]{16}$/, '');
  const parts = [];
  for (let at = 3; at < name.length && name[at] !== 'E'; ) {
    const m = /^\d+/.exec(name.slice(at));
    if (!m) break;
    at += m[0].length;
    parts.push(name.slice(at, at + Number(m[0])));
    at += Number(m[0]);
  }
  if (/^h[0-9a-f]{16}$/.test(parts.at(-1) ?? '')) parts.pop();
  return parts
    .join('::')
    .replaceAll('$LT$', '<')
    .replaceAll('$GT$', '>')
    .replaceAll('$u20$', ' ')
    .replaceAll('$C$', ',')
    .replaceAll('$RF$', '&')
    .replaceAll('..', '::');
}
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
  fnNames.forEach((n, i) => re.test(n) && members.add(i));
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
