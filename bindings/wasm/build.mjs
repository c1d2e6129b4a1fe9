// Builds the npm package into dist/: the Rust crate for wasm32 (cargo profile `wasm`), the JS
// glue by wasm-bindgen-cli (--target web, loadable by every entry point), the hand-written
// wrapper and types, and a CommonJS bundle of the Node entry point (esbuild).
//
// Usage: node build.mjs            (needs cargo, the wasm32 target and wasm-bindgen on PATH)
// Env:   CARGO_TARGET_DIR          where cargo builds (default: the workspace's target/)
//        CONVERGE_WASM_OPT=path    run this wasm-opt (npm's binaryen) on the output, -O3

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
  '--target', 'web', '--no-typescript', '--out-dir', dist, '--out-name', 'converge_wasm', wasm,
]);
const out = join(dist, 'converge_wasm_bg.wasm');
if (process.env.CONVERGE_WASM_OPT) {
  run(process.env.CONVERGE_WASM_OPT, ['-O3', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext', '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', out, '-o', out]);
}

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
