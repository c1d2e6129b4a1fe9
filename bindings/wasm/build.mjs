// Builds the npm package into dist/: the Rust crate for wasm32 (cargo profile `wasm`), the JS
// glue by wasm-bindgen-cli (--target web, loadable by every entry point), the hand-written
// wrapper and types, and a CommonJS bundle of the Node entry point (esbuild).
//
// Usage: node build.mjs            (needs cargo, the wasm32 target and wasm-bindgen on PATH)
// Env:   CARGO_TARGET_DIR          where cargo builds (default: the workspace's target/)
//        CARGO_PROFILE_WASM_OPT_LEVEL=z   smallest build (cargo's own override of the profile):
//                                  185 KB gzip against 225 KB for "s" when measured (before
//                                  the size work in perf/wasm.md), about 2x slower
// The name and producers sections are dropped by wasm-bindgen; wasm-opt (npm's binaryen) was
// measured to make the gzipped file larger (-Oz: 221 KB against 201 KB), so it is not used.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const dist = join(here, 'dist');
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root });

run('cargo', [
  'build', '-p', 'converge-wasm', '--lib', '--profile', 'wasm', '--target', 'wasm32-unknown-unknown',
]);
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const wasm = join(targetDir, 'wasm32-unknown-unknown', 'wasm', 'converge_wasm.wasm');

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
run('wasm-bindgen', [
  '--target', 'web', '--no-typescript', '--remove-name-section', '--remove-producers-section',
  '--out-dir', dist, '--out-name', 'converge_wasm', wasm,
]);
const out = join(dist, 'converge_wasm_bg.wasm');

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
