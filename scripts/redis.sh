#!/usr/bin/env bash
# Installs redis-server (and redis-benchmark, from the same package) for the
# Redis replay-cache tests and bench (feature `redis`) when it is missing.
# Nothing else: the tests and the bench start and stop their own private
# instance on 127.0.0.1.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

. "$(dirname "$0")/lib.sh"
apt_install redis-server

if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis.sh: redis-server was installed but is not on PATH" >&2
    exit 1
fi
