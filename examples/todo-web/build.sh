#!/usr/bin/env bash
# Builds the todo app into examples/todo-web/dist (index.html, style.css, pkg/): the Leptos app
# and the converge kernel as one WASM module. Adds the wasm32-unknown-unknown target and
# installs wasm-bindgen-cli (the version the crates pin) when they are missing.
set -euo pipefail
WASM_BINDGEN_VERSION=0.2.130 # = the pinned wasm-bindgen of bindings/leptos and todo-web
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
cd "$root"
rustup target add wasm32-unknown-unknown >/dev/null
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
CARGO_TARGET_DIR="$target" cargo build --release --target wasm32-unknown-unknown -p todo-web
rm -rf "$here/dist"
mkdir -p "$here/dist"
wasm-bindgen --target web --no-typescript --out-dir "$here/dist/pkg" \
  "$target/wasm32-unknown-unknown/release/todo_web.wasm"
cp "$here/index.html" "$here/style.css" "$here/dist/"
echo "built $here/dist ($(du -sh "$here/dist/pkg/todo_web_bg.wasm" | cut -f1) of wasm)"
