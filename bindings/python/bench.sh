#!/usr/bin/env bash
# Builds the release wheel, installs it with the peers (versions as in TOOLCHAIN.md) into a fresh
# virtualenv and runs bench.py, which writes perf/python.md. Arguments go to bench.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
python="${PYTHON:-python3}"
tools="$HOME/.cache/converge-py-tools/maturin-1.16.0"
if [[ ! -x "$tools/bin/maturin" ]]; then
    "$python" -m venv "$tools"
    "$tools/bin/pip" install -q "maturin==1.16.0"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$here" && "$tools/bin/maturin" build --release --quiet --out "$work/dist")
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work"/dist/converge-*.whl "loro==1.17.1" "pycrdt==0.14.13"
cd "$here/../.."
"$work/venv/bin/python" bindings/python/bench.py "$@"
