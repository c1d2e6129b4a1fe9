#!/usr/bin/env bash
# Every check of the Leptos binding, the relay and the todo example:
#   formatting and clippy (host, and wasm32 for the browser code), the relay's integration
#   tests over real sockets, the binding's unit tests, the wasm build of examples/todo-web,
#   and the end-to-end test in Chromium (playwright-core) against the relay serving the app.
# Installs what it needs; with CI set, a tool that fails to install fails the script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
WASM_BINDGEN_VERSION=0.2.130
cd "$root"

fail_or_warn() {
  if [[ -n "${CI:-}" ]]; then echo "test.sh: $1" >&2; exit 1; fi
  echo "test.sh: WARNING: $1" >&2
}

step() { echo; echo "== $*"; }

step "tools"
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || fail_or_warn "rustup target add wasm32-unknown-unknown failed"
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  # Without --locked: its lockfile names versions newer than the registry mirror (TOOLCHAIN.md).
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" || fail_or_warn "installing wasm-bindgen-cli failed"
fi
if [[ ! -x /usr/bin/chromium ]]; then
  { apt-get update && apt-get -o DPkg::Lock::Timeout=900 install -y chromium; } \
    || fail_or_warn "installing chromium failed"
fi
(cd "$here/e2e" && npm install --no-audit --no-fund --silent) || fail_or_warn "npm install playwright-core failed"

step "fmt and clippy"
cargo fmt --check -p converge-relay -p converge-leptos -p todo-web
cargo clippy --no-deps -p converge-relay -p converge-leptos -p todo-web --all-targets -- -D warnings
cargo clippy --no-deps -p converge-leptos -p todo-web --target wasm32-unknown-unknown -- -D warnings

step "relay integration tests and binding unit tests"
cargo test -p converge-relay -p converge-leptos

step "wasm build of examples/todo-web"
"$root/examples/todo-web/build.sh"

step "end to end in Chromium"
cargo build -p converge-relay
out="${E2E_OUT:-$CARGO_TARGET_DIR/e2e-output}"
RELAY_BIN="$CARGO_TARGET_DIR/debug/converge-relay" DIST="$root/examples/todo-web/dist" OUT="$out" \
  node "$here/e2e/todo.e2e.mjs"
echo "test.sh: all checks passed (screenshots in $out)"
