// Entry point for Node.js (ESM, and CommonJS through the bundled node.cjs): the WebAssembly
// module is loaded synchronously on import, so init() is optional here.

import { readFileSync } from 'node:fs';
import { initSync as wasmInitSync } from './converge_wasm.js';

wasmInitSync({ module: readFileSync(new URL('./converge_wasm_bg.wasm', import.meta.url)) });

export * from './core.js';

/** Already loaded in Node.js; kept so code shared with browsers can call it. */
export function init() {
  return Promise.resolve();
}

/** Already loaded in Node.js; kept so code shared with browsers can call it. */
export function initSync() {}
