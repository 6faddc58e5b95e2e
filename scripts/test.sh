#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian
# machine, then runs formatting, lints and every test. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# (services for the feature-gated tests are added here as they land)
if ((${#need_apt[@]})); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
    fi
fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --all-features -- -D warnings
echo "== cargo test"
cargo test --all-features
