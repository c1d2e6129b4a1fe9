// Builds the npm package into dist/: the Rust crate for wasm32 (cargo profile `wasm`), the JS
// glue by wasm-bindgen-cli (--target web, loadable by every entry point), binaryen's wasm-opt
// (npm package `binaryen`) over the module, the hand-written wrapper and types, and a CommonJS
// bundle of the Node entry point (esbuild).
//
// Usage: node build.mjs [--named FILE]   (needs cargo, the wasm32 target and wasm-bindgen on
//                                         PATH, and `npm ci` run here for wasm-opt)
//        --named FILE                    also writes the module with its function names kept
//                                        (for bench/size.mjs)
// Env:   CARGO_TARGET_DIR          where cargo builds (default: the workspace's target/)
//        CARGO_PROFILE_WASM_OPT_LEVEL=z   smallest build (cargo's own override of the profile):
//                                  about 2x slower, see perf/wasm.md
//
// wasm-opt runs its size passes with its own inlining off (binaryen's inlining made the
// gzipped module larger, and LLVM has already inlined what the speed needs), then orders the
// functions by path, generic arguments ignored: gzip only finds repeats within 32 KB, and the
// many copies of one generic function (BTreeMap's insert for each key and value type, ...)
// are alike. Measured in perf/wasm.md: 13 KB less gzip and a faster batch replay.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { groupedByPath, withoutNames } from './tools/wasm-names.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const dist = join(here, 'dist');
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root });
const { values: opts } = parseArgs({ options: { named: { type: 'string' } } });

// The WebAssembly features rustc's wasm32 target enables by default (wasm-opt must neither
// reject them nor emit others).
const FEATURES = [
  'bulk-memory', 'bulk-memory-opt', 'call-indirect-overlong', 'multivalue', 'mutable-globals',
  'nontrapping-float-to-int', 'reference-types', 'sign-ext',
].map((f) => `--enable-${f}`);

const wasmOpt = join(here, 'node_modules', '.bin', 'wasm-opt');
if (!existsSync(wasmOpt)) throw new Error(`${wasmOpt} is missing: run \`npm ci\` in ${here} first`);

// LLVM's inlining budget, lowered for the npm build only (the native kernel keeps rustc's).
// At opt-level "s" a callee marked `#[inline]` may cost up to 325 and any other up to 50; std
// marks most of its generic code so (B-tree internals, iterators), and those copies were about
// 12 KB of the gzipped module. Here every callee gets 30, `#[inline]` ones 50; the kernel's hot
// paths that need inlining say `#[inline(always)]`. Measured in perf/wasm.md ("no inline-hint
// bonus" and "serde out of the module"): 16 KB smaller in all, the batch replay about as fast,
// calls one at a time 5-15% slower.
const INLINE = ['-Cllvm-args=-inlinehint-threshold=50', '-Cllvm-args=-inline-threshold=30'];
const env = { ...process.env };
if (env.CARGO_ENCODED_RUSTFLAGS !== undefined) {
  env.CARGO_ENCODED_RUSTFLAGS = [env.CARGO_ENCODED_RUSTFLAGS, ...INLINE].filter(Boolean).join('\x1f');
} else {
  env.RUSTFLAGS = [env.RUSTFLAGS, ...INLINE].filter(Boolean).join(' ');
}
execFileSync('cargo', [
  'build', '-p', 'converge-wasm', '--lib', '--profile', 'wasm', '--target', 'wasm32-unknown-unknown',
], { stdio: 'inherit', cwd: root, env });
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const wasm = join(targetDir, 'wasm32-unknown-unknown', 'wasm', 'converge_wasm.wasm');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
run('wasm-bindgen', [
  '--target', 'web', '--no-typescript', '--remove-producers-section',
  '--out-dir', dist, '--out-name', 'converge_wasm', wasm,
]);
const out = join(dist, 'converge_wasm_bg.wasm');
writeFileSync(out, groupedByPath(readFileSync(out)));
run(wasmOpt, [
  out, ...FEATURES, '-Os', '--always-inline-max-function-size', '0',
  '--flexible-inline-max-function-size', '0', '--one-caller-inline-max-function-size', '0',
  '--converge', '--reorder-functions-by-name', '--strip-producers', '--strip-target-features',
  '--debuginfo', '-o', out,
]);
if (opts.named) copyFileSync(out, opts.named);
writeFileSync(out, withoutNames(readFileSync(out)));

for (const f of ['core.js', 'browser.js', 'node.mjs']) copyFileSync(join(here, 'js', f), join(dist, f));
copyFileSync(join(here, 'types', 'index.d.ts'), join(dist, 'index.d.ts'));
copyFileSync(join(here, 'types', 'index.d.ts'), join(dist, 'index.d.cts'));

await build({
  entryPoints: [join(dist, 'node.mjs')],
  outfile: join(dist, 'node.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  define: { 'import.meta.url': '__converge_url' },
  banner: { js: "const __converge_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

console.log(`built ${dist}: converge_wasm_bg.wasm ${statSync(out).size} bytes`);
