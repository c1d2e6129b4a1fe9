#!/usr/bin/env bash
# Generates the Kotlin and Swift sources from a built converge-ffi library, with the
# uniffi-bindgen of the same build (so the checksums match).
#   bindings/mobile/generate.sh [debug|release]     (default: debug)
# Writes kotlin/generated/ (not committed) and swift/Sources/ConvergeFFI{,C}/ (committed,
# checked for drift by test.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
profile="${1:-debug}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"

cd "$root"
# The generator is always a debug build (it only reads the library's metadata); the library
# is built in the profile asked for.
cargo build -p converge-ffi --features cli
[ "$profile" = release ] && cargo build --release -p converge-ffi --lib
lib="$target/$profile/libconverge_ffi.so"
bindgen="$target/debug/uniffi-bindgen"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bindgen" generate "$lib" --config "$here/uniffi.toml" \
    --language kotlin --language swift --out-dir "$out" --no-format

rm -rf "$here/kotlin/generated"
mkdir -p "$here/kotlin/generated/dev/converge"
cp "$out/dev/converge/converge_ffi.kt" "$here/kotlin/generated/dev/converge/"

swift="$here/swift/Sources"
mkdir -p "$swift/ConvergeFFI" "$swift/ConvergeFFIC/include"
cp "$out/ConvergeFFI.swift" "$swift/ConvergeFFI/ConvergeFFI.swift"
cp "$out/ConvergeFFIC.h" "$swift/ConvergeFFIC/include/ConvergeFFIC.h"
# SwiftPM wants the module map named module.modulemap next to the header.
cp "$out/ConvergeFFIC.modulemap" "$swift/ConvergeFFIC/include/module.modulemap"
# SwiftPM needs a source file in a C target; the symbols come from the Rust library.
[ -f "$swift/ConvergeFFIC/dummy.c" ] || printf '// Intentionally empty: the symbols are in libconverge_ffi.\n' > "$swift/ConvergeFFIC/dummy.c"
echo "generated from $lib"
