#!/usr/bin/env bash
# The mobile benchmark: automerge-paper through the native Rust Doc (examples/paper_native.rs),
# then in one JVM through converge's Kotlin API (one call per patch, and the batch call) and
# automerge-java 0.0.7; writes the table into perf/mobile.md (between its `bench.sh table`
# markers, so the text around it stays; the whole file if there are none). Release build.
#   bindings/mobile/bench.sh [runs]      (default 5 measured runs, best taken, after 2 warm-ups)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"
runs="${1:-5}"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
trace="$root/../shared/traces/automerge-paper.json.gz"

"$here/generate.sh" release
native="$(cargo run --release -q -p converge-ffi --example paper_native -- "$trace" "$runs")"
echo "native: $native"
percall="$(sed -n 's/.*percall_ms=\([0-9.]*\).*/\1/p' <<<"$native")"
txn="$(sed -n 's/.*txn_ms=\([0-9.]*\).*/\1/p' <<<"$native")"
ffi="$(sed -n 's/.*ffi_batch_rust_ms=\([0-9.]*\).*/\1/p' <<<"$native")"
batch="$(sed -n 's/.*splice_batch_ms=\([0-9.]*\).*/\1/p' <<<"$native")"

table="$(mktemp)"
cd "$here/kotlin"
mvn -B -q test-compile exec:java \
    -Dconverge.lib.dir="$CARGO_TARGET_DIR/release" -Dconverge.traces.dir="$(dirname "$trace")" \
    -Dbench.runs="$runs" -Dbench.out="$table" -Dnative.percall="$percall" -Dnative.txn="$txn" -Dnative.ffi="$ffi" -Dnative.batch="$batch"

section="$(mktemp)"
{
    echo "<!-- bench.sh table: written by bindings/mobile/bench.sh; edit around it -->"
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m)), $(java -version 2>&1 | head -1),"
    echo "load average before the run: $load. Command: \`bindings/mobile/bench.sh $runs\` (best of $runs runs"
    echo "after 2 warm-ups, release build). Every path's final text is checked. The native figures"
    echo "are \`examples/paper_native.rs\` in its own process; \"over native\" is (binding time − native"
    echo "time) / patches."
    echo
    cat "$table"
    echo "<!-- end of bench.sh table -->"
} > "$section"
out="$root/perf/mobile.md"
if [ -f "$out" ] && grep -q '^<!-- bench.sh table' "$out"; then
    awk -v f="$section" '/^<!-- bench.sh table/ { while ((getline l < f) > 0) print l; skip = 1; next }
        /^<!-- end of bench.sh table/ { skip = 0; next } !skip' "$out" > "$out.new"
    mv "$out.new" "$out"
else
    { echo "# Mobile binding: automerge-paper on the JVM"; echo; cat "$section"; } > "$out"
fi
rm -f "$table" "$section"
cat "$out"
