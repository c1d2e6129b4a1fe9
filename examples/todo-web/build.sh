#!/usr/bin/env bash
# Builds the todo app into examples/todo-web/dist (index.html, style.css, pkg/): the Leptos app
# and the converge kernel as one WASM module. Needs the wasm32-unknown-unknown target and
# wasm-bindgen-cli 0.2.130 (bindings/leptos/test.sh installs both).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
cd "$root"
CARGO_TARGET_DIR="$target" cargo build --release --target wasm32-unknown-unknown -p todo-web
rm -rf "$here/dist"
mkdir -p "$here/dist"
wasm-bindgen --target web --no-typescript --out-dir "$here/dist/pkg" \
  "$target/wasm32-unknown-unknown/release/todo_web.wasm"
cp "$here/index.html" "$here/style.css" "$here/dist/"
echo "built $here/dist ($(du -sh "$here/dist/pkg/todo_web_bg.wasm" | cut -f1) of wasm)"
