#!/usr/bin/env bash
# The mobile benchmark: automerge-paper through the native Rust Doc (examples/paper_native.rs),
# then in one JVM through converge's Kotlin API (one call per patch, and the batch call) and
# automerge-java 0.0.7; writes the table to perf/mobile.md. Release build.
#   bindings/mobile/bench.sh [runs]      (default 5 measured runs, best taken, after 2 warm-ups)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
runs="${1:-5}"
trace="$root/../shared/traces/automerge-paper.json.gz"

"$here/generate.sh" release
native="$(cargo run --release -q -p converge-ffi --example paper_native -- "$trace" "$runs")"
echo "native: $native"
percall="$(sed -n 's/.*percall_ms=\([0-9.]*\).*/\1/p' <<<"$native")"
txn="$(sed -n 's/.*txn_ms=\([0-9.]*\).*/\1/p' <<<"$native")"

table="$(mktemp)"
cd "$here/kotlin"
mvn -B -q test-compile exec:java \
    -Dconverge.lib.dir="$CARGO_TARGET_DIR/release" -Dconverge.traces.dir="$(dirname "$trace")" \
    -Dbench.runs="$runs" -Dbench.out="$table" -Dnative.percall="$percall" -Dnative.txn="$txn"

{
    echo "# Mobile binding: automerge-paper on the JVM"
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m)), $(java -version 2>&1 | head -1)."
    echo "Command: \`bindings/mobile/bench.sh $runs\` (best of $runs runs after 2 warm-ups, release"
    echo "build). Every path's final text is checked against the trace's \`endContent\`. The native"
    echo "figures are \`examples/paper_native.rs\` (the kernel \`Doc\`, no FFI) in its own process;"
    echo "\"over native\" is (binding time − native time) / patches."
    echo
    cat "$table"
} > "$root/perf/mobile.md"
rm -f "$table"
cat "$root/perf/mobile.md"
