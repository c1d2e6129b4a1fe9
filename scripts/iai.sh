#!/usr/bin/env bash
# Instruction-count benchmarks (iai-callgrind + valgrind): stable numbers on noisy machines.
# Installs valgrind (Debian) and the runner at the version that matches the crate if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
version=0.16.1 # keep equal to iai-callgrind in benches/Cargo.toml
if ! command -v valgrind >/dev/null; then
  apt-get update -qq && apt-get install -y -qq valgrind
fi
if ! cargo install --list | grep -q "^iai-callgrind-runner v$version:"; then
  cargo install --locked iai-callgrind-runner --version "$version"
fi
cargo bench -p converge-benches --bench iai "$@"
