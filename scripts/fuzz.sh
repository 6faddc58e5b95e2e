#!/usr/bin/env bash
# Fuzzing with libFuzzer on the stable toolchain (no sanitizer), building the
# cargo-fuzz crate in fuzz/ the way `cargo fuzz build --sanitizer none` does.
#
#   scripts/fuzz.sh smoke           CI: build every target, run each briefly
#                                   from a temporary copy of its seed corpus
#   scripts/fuzz.sh long [SECONDS]  run every target SECONDS (default 600),
#                                   one after another, growing fuzz/corpus/
#
# Environment: FUZZ_TARGETS="a b" runs a subset; FUZZ_FEATURES are the fuzz
# crate's features (smoke: none, the pure-Rust backend only; long:
# "aws-lc-rs", both of our crypto backends, which must then agree);
# FUZZ_SMOKE_RUNS (default 5000) and FUZZ_SMOKE_SECONDS (default 15) bound
# each smoke run, whichever comes first. Exits non-zero if any target
# crashes, times out or fails to build; the failing input is in
# fuzz/artifacts/<target>/ and reproduces with
#   fuzz/target/<host triple>/release/<target> fuzz/artifacts/<target>/<file>
# or, with cargo-fuzz installed (`cargo install cargo-fuzz --locked`),
#   cargo fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>
# With AddressSanitizer (nightly features on stable):
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target>
# cargo-fuzz builds every crate with `--cfg fuzzing`, the only cfg under which
# `client_assertion::fuzzing` exists (never pass `--no-cfg-fuzzing`). The
# regression suite fuzz/tests/regressions.rs replays seeds and found inputs
# without libFuzzer (scripts/test.sh):
#   RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=fuzz/target/regressions \
#       cargo test --manifest-path fuzz/Cargo.toml --test regressions
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-smoke}
ALL_TARGETS=(verify_token parse_token parse_private_key parse_public_key parse_jwks differential)
read -r -a targets <<<"${FUZZ_TARGETS:-${ALL_TARGETS[*]}}"
case "$mode" in
long) features=${FUZZ_FEATURES-aws-lc-rs} ;;
*) features=${FUZZ_FEATURES-} ;;
esac
cargo_flags=()
if [ -n "$features" ]; then
    cargo_flags+=(--features "$features")
fi
common=(-rss_limit_mb=2048 -print_final_stats=1)

# The build `cargo fuzz build --sanitizer none` makes, without installing
# cargo-fuzz (which costs CI minutes): the same instrumentation flags, for
# the host target only (so build scripts and proc macros stay plain), in
# release with debug assertions. `cargo fuzz run --sanitizer none TARGET`
# reproduces with an identical binary.
triple=$(rustc -vV | sed -n 's/^host: //p')
target_dir=fuzz/target
bin_dir="$target_dir/$triple/release"
fuzz_rustflags="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
fuzz_rustflags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
fuzz_rustflags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
fuzz_rustflags+=" -Cllvm-args=-sanitizer-coverage-trace-compares"
fuzz_rustflags+=" -Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions"
echo "== cargo build (libFuzzer targets, ${features:-default features})"
RUSTFLAGS="$fuzz_rustflags" cargo build --manifest-path fuzz/Cargo.toml --release \
    --target "$triple" --target-dir "$target_dir" --bins "${cargo_flags[@]}"

failed=()
# run_target TARGET CORPUS_DIR LIBFUZZER_ARGS...
run_target() {
    local target=$1 corpus=$2
    shift 2
    local log="fuzz/artifacts/logs/$target.log"
    mkdir -p "$(dirname "$log")"
    local start=$SECONDS
    mkdir -p "fuzz/artifacts/$target"
    if "$bin_dir/$target" -artifact_prefix="fuzz/artifacts/$target/" "${common[@]}" "$@" \
        "$corpus" >"$log" 2>&1; then
        local runs
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        printf '%-18s ok   %10s executions in %4ds (log %s)\n' \
            "$target" "${runs:-?}" $((SECONDS - start)) "$log"
    else
        printf '%-18s FAIL after %ds; end of %s:\n' "$target" $((SECONDS - start)) "$log"
        tail -n 60 "$log"
        failed+=("$target")
    fi
}

case "$mode" in
smoke)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    for target in "${targets[@]}"; do
        # Never write new corpus entries into the repository during CI.
        mkdir -p "$tmp/$target"
        cp fuzz/corpus/"$target"/seed-* "$tmp/$target"/
        run_target "$target" "$tmp/$target" -seed=1 -timeout=10 \
            -runs="${FUZZ_SMOKE_RUNS:-5000}" -max_total_time="${FUZZ_SMOKE_SECONDS:-15}"
    done
    ;;
long)
    seconds=${2:-600}
    for target in "${targets[@]}"; do
        # fuzz/corpus/<target> grows locally; only seed-* files are tracked.
        run_target "$target" "fuzz/corpus/$target" -timeout=30 -max_total_time="$seconds"
    done
    ;;
*)
    echo "usage: $0 smoke | long [SECONDS]" >&2
    exit 2
    ;;
esac

if ((${#failed[@]})); then
    echo "fuzzing failed: ${failed[*]}" >&2
    exit 1
fi
