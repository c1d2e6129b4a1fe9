#!/usr/bin/env bash
# Every check of the mobile binding: build the cdylib and uniffi-bindgen (one debug build),
# generate Kotlin and Swift, fail if the committed Swift sources drifted, clippy, and the
# Kotlin build + JUnit tests on the JVM (mvn verify). Needs cargo, a JDK 17+ and Maven (Maven
# Central reachable; the repository cache is ~/.m2).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/converge-target}"

need() {
    command -v "$1" >/dev/null && return
    echo "test.sh: $1 not found; installing $2 from apt" >&2
    if ! { sudo -n true 2>/dev/null || [ "$(id -u)" = 0 ]; }; then
        echo "test.sh: cannot install $2" >&2; exit 1
    fi
    apt-get -o DPkg::Lock::Timeout=900 install -y "$2" >&2
}
need java openjdk-17-jdk-headless
need mvn maven

cd "$root"
echo "== build converge-ffi and generate Kotlin + Swift"
"$here/generate.sh" debug

echo "== Swift sources match the library (no diff, no new file)"
if [ -n "$(git -C "$root" status --porcelain -- "$here/swift/Sources")" ]; then
    git -C "$root" status --short -- "$here/swift/Sources"
    git -C "$root" --no-pager diff --stat -- "$here/swift/Sources"
    echo "test.sh: generated Swift drifted from the committed files; run generate.sh and commit" >&2
    exit 1
fi

echo "== clippy"
cargo clippy -p converge-ffi --all-targets --no-deps -- -D warnings
cargo fmt -p converge-ffi --check

echo "== Kotlin: mvn verify (JUnit on the JVM against the library just built)"
cd "$here/kotlin"
mvn -B -q verify -Dconverge.lib.dir="$CARGO_TARGET_DIR/debug"
echo "mobile: all checks passed"
