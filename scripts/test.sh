#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian
# machine, then runs formatting, lints and every test. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Real components for the feature-gated tests: installed here when missing;
# the tests start (and stop) their own SoftHSM2 token and Redis instance.
bash scripts/softhsm.sh
bash scripts/redis.sh

rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --all-features -- -D warnings
echo "== cargo test (backend: rust-crypto)"
cargo test --all-features
echo "== cargo test (backend: aws-lc)"
CLIENT_ASSERTION_TEST_BACKEND=aws-lc cargo test --all-features
echo "== fuzz smoke (every target, briefly, from its seed corpus)"
bash scripts/fuzz.sh smoke
