#!/usr/bin/env bash
# The interop tests of examples/interop (issue 18): installs oidc-provider 9
# (and jose) from npm into oidc/node_modules, then runs the crate's tests,
# which start the axum token-server, redis-server (when installed) and
# oidc-provider on 127.0.0.1 themselves and stop them by pid.
#   examples/interop/run.sh            # from the repository root
# scripts/test.sh runs it (so `.ci/run` does) in the library's target directory.
set -euo pipefail
cd "$(dirname "$0")"
step() { echo "== [${SECONDS}s] $*"; }
step "npm: oidc-provider 9 and jose"
(cd oidc && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi)
step "cargo test (interop crate)"
cargo test --manifest-path Cargo.toml
step "done"
