#!/usr/bin/env bash
# Every check of the Python binding: clippy, a release wheel built by maturin, installed into a
# fresh virtualenv with the test tools, then pytest (unit, property, vector, thread and trace
# tests), mypy --strict on the package, tests and examples, and the examples themselves.
# Pinned tools are cached under $HOME; nothing depends on the cache being there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
python="${PYTHON:-python3}"

MATURIN=1.16.0
PYTEST=9.2.0
HYPOTHESIS=6.170.27
MYPY=2.4.1

start=$SECONDS
echo "== python binding: clippy"
(cd "$repo" && cargo clippy -q -p converge-py --no-deps --all-targets -- -D warnings)

echo "== python binding: maturin build --release"
tools="$HOME/.cache/converge-py-tools/maturin-$MATURIN"
if [[ ! -x "$tools/bin/maturin" ]]; then
    "$python" -m venv "$tools"
    "$tools/bin/pip" install -q "maturin==$MATURIN"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$here" && "$tools/bin/maturin" build --release --quiet --out "$work/dist")
wheel="$(ls "$work"/dist/converge-*.whl)"

echo "== python binding: fresh virtualenv with $(basename "$wheel")"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$wheel" "pytest==$PYTEST" "hypothesis==$HYPOTHESIS" "mypy==$MYPY"

echo "== python binding: pytest"
# Run from the tests folder so `converge` is the installed wheel, not the source tree.
(cd "$here/tests" && "$work/venv/bin/python" -m pytest -q -p no:cacheprovider \
    -o "testpaths=." --rootdir "$here/tests" .)

echo "== python binding: mypy --strict"
mypy=("$work/venv/bin/python" -m mypy --strict --no-incremental --cache-dir=/dev/null)
(cd "$work" && "${mypy[@]}" -p converge && "${mypy[@]}" "$here/tests" "$here/examples")

echo "== python binding: examples"
for ex in "$here"/examples/*.py; do
    (cd "$work" && "$work/venv/bin/python" "$ex" >/dev/null)
done
echo "== python binding: all checks passed in $((SECONDS - start)) s"
