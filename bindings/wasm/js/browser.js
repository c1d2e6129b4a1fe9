// Entry point for browsers and bundlers: call `await init()` once before using the API.
// No top-level await: importing this module does nothing until init() is called.

import wasmInit, { initSync as wasmInitSync } from './converge_wasm.js';

export * from './core.js';

let loading = null;

/**
 * Loads the WebAssembly module. Without an argument it fetches `converge_wasm_bg.wasm` next
 * to this file (bundlers such as Vite rewrite that URL); pass a URL, a Response, bytes or a
 * compiled WebAssembly.Module to load it from elsewhere. Calling it again returns the same
 * promise.
 */
export function init(input) {
  loading ??= wasmInit(input === undefined ? undefined : { module_or_path: input }).then(
    () => undefined,
  );
  return loading;
}

/** Loads the module synchronously from bytes or a compiled WebAssembly.Module. */
export function initSync(module) {
  wasmInitSync({ module });
  loading ??= Promise.resolve();
}
