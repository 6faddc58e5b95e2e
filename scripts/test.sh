#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian
# machine, then runs formatting, lints and every test. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step is headed with the seconds elapsed so far (CI budget: 25 min).
step() { echo "== [${SECONDS}s] $*"; }

# Real components for the feature-gated tests: installed here when missing;
# the tests start (and stop) their own SoftHSM2 token and Redis instance.
step "SoftHSM2 and redis-server (installed when missing)"
bash scripts/softhsm.sh
bash scripts/redis.sh

rustup component add rustfmt clippy >/dev/null 2>&1 || true

# One full build, not edit-compile cycles: incremental compilation only
# costs time here (some fifty test crates).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# The unpublished crates that share this crate's target directory (their
# own workspaces: their dev-dependencies stay out of the package's builds).
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
side_crates=(benches/Cargo.toml tests/suites/Cargo.toml)
side() { CARGO_TARGET_DIR="$target_dir" "$@"; }

step "cargo fmt --check"
cargo fmt --all -- --check
for m in "${side_crates[@]}"; do cargo fmt --manifest-path "$m" --all -- --check; done
step "structure (no module cycle, no function over 80 lines, at most 25 root names)"
python3 scripts/test_check_structure.py
python3 scripts/check_structure.py
step "cargo clippy"
cargo clippy --all-targets --all-features -- -D warnings
for m in "${side_crates[@]}"; do
    side cargo clippy --manifest-path "$m" --all-targets --all-features -- -D warnings
done
step "cargo doc as docs.rs builds it (--cfg docsrs, every warning an error)"
# Its own target directory: RUSTC_BOOTSTRAP must not touch the test build's
# fingerprints. Only the library is documented; dependencies are checked.
RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS="--cfg docsrs -D warnings" CARGO_TARGET_DIR="$target_dir/docsrs" \
    cargo doc --all-features --no-deps
step "cargo test (backend: rust-crypto)"
cargo test --all-features
step "cargo test (backend: aws-lc; unit and integration tests, the doc tests ran above)"
# Only the integration tests read CLIENT_ASSERTION_TEST_BACKEND; the doc
# tests do not depend on it, so they are not compiled a second time.
CLIENT_ASSERTION_TEST_BACKEND=aws-lc cargo test --all-features --tests
step "test suites with heavy dependencies (tests/suites: proptest, jsonwebtoken on aws_lc_rs), both backends"
side cargo test --manifest-path tests/suites/Cargo.toml
CLIENT_ASSERTION_TEST_BACKEND=aws-lc side cargo test --manifest-path tests/suites/Cargo.toml
step "integration crate (examples/interop: axum token endpoint, reqwest client, live oidc-provider 9)"
# Its own workspace (the library's tree stays HTTP-free), built in the same
# target directory so that the dependencies it shares are not rebuilt.
side bash examples/interop/run.sh
step "no fuzz entry points in the library (--all-features)"
# cargo-fuzz sets `--cfg fuzzing`; no other build may contain src/fuzzing.rs.
# Compile two one-line crates against the library just built: the control
# must compile, the one naming `client_assertion::fuzzing` must not.
# The library rlib the test build above made (a plain `cargo build` would
# build it again: without dev-dependencies, features unify differently).
rlib=$(cargo test --all-features --no-run --message-format=json 2>/dev/null |
    grep -o '"filenames":\["[^"]*/libclient_assertion[^"]*\.rlib"' | cut -d'"' -f4 | tail -n 1)
# A dependency's rlib stays in deps/ (a `cargo build` target is copied up).
deps=$(dirname "$rlib")
[ "$(basename "$deps")" = deps ] || deps="$deps/deps"
probe() {
    echo "pub use client_assertion::$1;" | rustc --edition 2021 --crate-type lib \
        --emit metadata -o "$(mktemp -d)/probe.rmeta" --extern client_assertion="$rlib" \
        -L dependency="$deps" - 2>&1
}
probe jwk_set >/dev/null || { echo "control probe failed to compile against $rlib" >&2; exit 1; }
if out=$(probe fuzzing); then
    echo "client_assertion::fuzzing exists in a non-fuzzing build" >&2
    exit 1
fi
grep -q "configured out\|could not find \`fuzzing\`\|no \`fuzzing\` in the root" <<<"$out" || {
    echo "unexpected error from the probe:" >&2
    echo "$out" >&2
    exit 1
}
step "fuzz regressions (seeds and found inputs, under --cfg fuzzing)"
# Its own target directory: other RUSTFLAGS must not invalidate target/.
RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=fuzz/target/regressions \
    cargo test --manifest-path fuzz/Cargo.toml --lib --test regressions
step "fuzz smoke (every target, briefly, from its seed corpus)"
bash scripts/fuzz.sh smoke
step "done"
