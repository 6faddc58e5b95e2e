#!/usr/bin/env bash
# Installs redis-server (and redis-benchmark, from the same package) and
# redis-tools (redis-cli, for a Redis Cluster's `--cluster create`) for the
# Redis replay-cache tests and bench (feature `redis`) when they are
# missing. Nothing else: the tests and the bench start and stop their own
# private instances on 127.0.0.1.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    exit 0
fi

. "$(dirname "$0")/lib.sh"
apt_install redis-server redis-tools

for tool in redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "redis.sh: $tool was installed but is not on PATH" >&2
        exit 1
    fi
done
