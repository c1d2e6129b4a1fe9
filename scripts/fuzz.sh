#!/usr/bin/env bash
# Runs every cargo-fuzz target briefly (nightly + cargo-fuzz). Called by scripts/test.sh.
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh        # a longer local run
#   bash scripts/fuzz.sh doc_actions              # one target
# Crashes land in fuzz/artifacts/<target>/; each one found becomes a named regression test in
# kernel/tests/doc_atomic.rs (raw bytes) or kernel/tests/doc_sim.rs (action sequences).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-20}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/converge-fuzz-target}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(apply_update doc_load doc_actions text_bytes text_batch)
cd fuzz
for t in "${targets[@]}"; do
  echo "--- fuzz $t for ${seconds}s"
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  if ! cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz target $t failed (a crash, or the build failed): see above and fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$log" || tail -n 3 "$log"
  rm -f "$log"
done
