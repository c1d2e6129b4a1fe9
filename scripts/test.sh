#!/usr/bin/env bash
# The one test command (README, CI): installs what it needs, then runs every check.
#   bash scripts/test.sh            # everything
#   SKIP_MIRI=1 bash scripts/test.sh  # skip the Miri step (local iteration only; with CI set, a skip fails)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export CARGO_INCREMENTAL=0
start=$(date +%s)
step() { printf '\n==> [%4ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

step "toolchain: stable components, no_std targets, nightly + Miri"
rustup component add rustfmt clippy >/dev/null
rustup target add wasm32-unknown-unknown thumbv7em-none-eabihf >/dev/null
miri=yes
if [ -n "${SKIP_MIRI:-}" ]; then
  miri="no (SKIP_MIRI set)"
elif ! rustup toolchain install nightly --profile minimal --component miri,rust-src >/dev/null 2>&1 \
  && ! rustup component add --toolchain nightly miri rust-src >/dev/null 2>&1; then
  miri="no (could not install nightly + miri: see 'rustup toolchain install nightly --component miri')"
fi

step "cargo fmt --check"
cargo fmt --all -- --check
rustfmt --check --edition 2024 fuzz/fuzz_targets/*.rs

step "cargo clippy -D warnings (workspace, all targets)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p converge --no-default-features --lib -- -D warnings
cargo clippy -p converge --no-default-features --features alloc --lib -- -D warnings

# The bindings' crates are linted above and tested by their own scripts below.
bindings=(--exclude converge-py --exclude converge-wasm --exclude converge-ffi
  --exclude converge-leptos --exclude todo-web --exclude converge-relay)

step "cargo test (workspace; the bindings' own tests run below; benches/tests/smoke.rs smoke-runs compare, concurrent_report and load_compare, every result verified)"
cargo test --workspace "${bindings[@]}"

# The same package selection as the tests, so the dependencies' features (and builds) are shared.
step "benches: build every bench target"
cargo test --workspace "${bindings[@]}" --benches --no-run

step "examples run"
cargo run -p converge --example quickstart >/dev/null
cargo run -p converge --example todo >/dev/null

step "cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps "${bindings[@]}"

step "no_std target builds"
for target in thumbv7em-none-eabihf wasm32-unknown-unknown; do
  cargo build -p converge --no-default-features --target "$target"
  cargo build -p converge --no-default-features --features alloc --target "$target"
  cargo build -p converge-pool --no-default-features --target "$target"
done

step "no std:: in kernel/src outside cfg(feature = \"std\")"
if grep -rnE '(^|[^a-z_])std::' kernel/src | grep -v '^\S*:\s*//' ; then
  echo "kernel/src uses std:: (use core:: / alloc::)" >&2
  exit 1
fi

if [ "$miri" = yes ]; then
  step "Miri: converge-pool (the crate that holds all unsafe)"
  cargo +nightly miri setup >/dev/null 2>&1 || cargo +nightly miri setup
  # A target directory per checkout: cargo-miri records the directory it built in, so its
  # artifacts, reused from a clone at another path (same sources, fresh fingerprints), would
  # run tests from a directory that no longer exists.
  miri_target="$CARGO_TARGET_DIR/miri-$(printf %s "$PWD" | cksum | cut -d' ' -f1)"
  CARGO_TARGET_DIR="$miri_target" MIRIFLAGS="${MIRIFLAGS:-}" cargo +nightly miri test -p converge-pool

  step "cargo-fuzz: each target briefly (FUZZ_SECONDS=${FUZZ_SECONDS:-15})"
  FUZZ_SECONDS="${FUZZ_SECONDS:-15}" bash scripts/fuzz.sh
elif [ -n "${CI:-}" ]; then
  echo "Miri and cargo-fuzz could not run in CI: $miri" >&2
  exit 1
else
  step "SKIPPED Miri and cargo-fuzz: $miri"
fi

step "bindings: Python (maturin wheel in a fresh virtualenv, pytest, mypy --strict)"
bash bindings/python/test.sh

step "bindings: npm package (wasm-bindgen, node --test, tsc, npm pack + ESM/CJS/Vite, Chromium)"
bash bindings/wasm/test.sh

step "bindings: Kotlin/Swift (uniffi, Swift drift check, Maven + JUnit)"
bash bindings/mobile/test.sh

step "bindings: Leptos, the relay and the todo app (relay tests, wasm build, Chromium end to end)"
bash bindings/leptos/test.sh

step "all checks passed"
