#!/usr/bin/env bash
# Reproduces every figure in BENCHMARKS.md with one command:
#
#   scripts/bench.sh                 # all parts, then the summary
#   scripts/bench.sh verify summary  # only some parts
#   BENCH_FILTER=EdDSA scripts/bench.sh peers-rust_crypto summary
#                                    # re-run one noisy group (criterion filter)
#
# Parts, in order: sign, verify, replay, client_store (this crate's benches: the
# unpublished crate in benches/, built in this crate's target directory),
# peers-rust_crypto, peers-aws_lc_rs (the detached crate in benches/peers,
# once per jsonwebtoken crypto backend), summary (mean point estimates from
# criterion's new/estimates.json files, as tables).
#
# Criterion writes to target/criterion (this crate) and to
# benches/peers/target/criterion-<backend> (one directory per backend, so
# the two peer runs do not overwrite each other). The load average before
# each part is logged to target/criterion/bench-loadavg.log: numbers taken
# while the machine is busy are noisy. To blunt that, the verify, replay and
# peer benches count on-CPU time (time spent preempted by other processes
# is left out); BENCH_CLOCK=wall makes them count wall time like sign.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

main_target=${CARGO_TARGET_DIR:-$root/target}
main_crit=${CRITERION_HOME:-$main_target/criterion}
peers_target=$root/benches/peers/target
loadlog=$main_crit/bench-loadavg.log
mkdir -p "$main_crit"

note_load() {
    local line
    line="$(date -u +%Y-%m-%dT%H:%M:%SZ) $1: loadavg $(cat /proc/loadavg 2>/dev/null || echo n/a)"
    echo "== $line"
    echo "$line" >>"$loadlog"
}

run_part() {
    case "$1" in
    sign | verify | replay | client_store)
        note_load "$1"
        CARGO_TARGET_DIR=$main_target CRITERION_HOME=$main_crit \
            cargo bench --manifest-path benches/Cargo.toml --bench "$1" -- --noplot \
            ${BENCH_FILTER:+"$BENCH_FILTER"}
        ;;
    peers-rust_crypto | peers-aws_lc_rs)
        local backend=${1#peers-}
        note_load "$1"
        (cd benches/peers &&
            JWT_BACKEND=$backend CRITERION_HOME=$peers_target/criterion-$backend \
                cargo bench --bench peers -- --noplot ${BENCH_FILTER:+"$BENCH_FILTER"})
        ;;
    summary) summary ;;
    *)
        echo "unknown part: $1 (sign verify replay client_store peers-rust_crypto peers-aws_lc_rs summary)" >&2
        exit 2
        ;;
    esac
}

summary() {
    echo
    echo "== machine"
    echo "nproc: $(nproc)"
    lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|L2|L3)' || true
    rustc --version
    echo
    python3 - "$main_crit" "$peers_target" "$loadlog" <<'PY'
import json, os, sys

main_crit, peers_target, loadlog = sys.argv[1:4]
BACKENDS = ["rust_crypto", "aws_lc_rs"]
ALGS = ["ES256", "ES384", "EdDSA", "RS256", "PS256"]
PEER_GROUPS = ALGS + ["RS256-4096", "PS256-4096"]


def load(root):
    """full_id -> mean point estimate (ns) for every benchmark under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        try:
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                full_id = json.load(f)["full_id"]
            with open(os.path.join(dirpath, "estimates.json")) as f:
                out[full_id] = json.load(f)["mean"]["point_estimate"]
        except (OSError, KeyError, ValueError):
            pass
    return out


def t(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.3f}"


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    print()


main = load(main_crit)
peers = {b: load(os.path.join(peers_target, f"criterion-{b}")) for b in BACKENDS}

def paired(alg):
    try:
        with open(os.path.join(main_crit, "verify", f"paired-{alg}.json")) as f:
            p = json.load(f)
        return f"{p['ratio']:.3f} ({p['clock']}; wall {p['ratio_wall']:.3f})"
    except (OSError, KeyError, ValueError):
        return "n/a"


print("== ours vs the raw primitive (this crate's sign and verify benches; target: ratio <= 1.10)")
print("   ratio = criterion mean / criterion mean; paired = ratio of the totals of interleaved")
print("   blocks on the same tokens, sweeping stack offsets (the steadier figure)")
print("   sign: wall time; verify, replay: on-CPU time (wall minus run-queue wait) unless BENCH_CLOCK=wall")
rows = []
for alg in ALGS:
    se, sr = main.get(f"sign/{alg}/end_to_end"), main.get(f"sign/{alg}/raw")
    ve, vn, vr = (main.get(f"verify/{alg}/{k}") for k in ("end_to_end", "without_replay", "raw"))
    rows.append([alg, t(se), t(sr), ratio(se, sr), t(ve), t(vn), t(vr), ratio(ve, vr),
                 paired(alg)])
table(["alg", "sign end_to_end", "sign raw", "ratio", "verify end_to_end",
       "verify without_replay", "verify raw", "ratio", "paired"], rows)

print("== RSA signing: rsa 0.10 (ours) vs rsa 0.9 (peer, RUSTSEC-2023-0071) vs AWS-LC (benches/peers,")
print("   rust_crypto run; raw primitives on the same key and signing input)")
rows = []
for alg in ["RS256", "PS256", "RS256-4096", "PS256-4096"]:
    p = peers["rust_crypto"]
    g = lambda k: p.get(f"peers/{alg}/{k}")
    new, old, lc = g("raw/sign"), g("rsa-0.9/sign"), g("raw-aws-lc/sign")
    rows.append([alg, t(new), t(old), t(lc), ratio(new, old), ratio(new, lc),
                 t(g("ours/sign")), t(g("ours-aws-lc/sign"))])
table(["group", "rsa 0.10", "rsa 0.9", "aws-lc-rs", "0.10 / 0.9", "0.10 / aws-lc",
       "ours (0.10)", "ours on AWS-LC"], rows)

print("== peers (benches/peers; mean thread CPU time per operation unless BENCH_CLOCK=wall;")
print("   'x' = peer time / ours in the same run, > 1 means ours is faster)")
for alg in PEER_GROUPS:
    rows = []
    for b in BACKENDS:
        p = peers[b]
        g = lambda k: p.get(f"peers/{alg}/{k}")
        os_, ov = g("ours/sign"), g("ours/verify")
        rs, rv = g("raw/sign"), g("raw/verify")
        je, jd = g(f"jsonwebtoken-{b}/encode"), g(f"jsonwebtoken-{b}/decode")
        ss, sv = g("jwt-simple/sign"), g("jwt-simple/verify")
        run = f"[{b} run]"
        rows += [
            [f"ours {run}", t(os_), t(ov)],
            [f"raw primitive {run}", t(rs), t(rv)],
            [f"ours / raw {run}", ratio(os_, rs), ratio(ov, rv)],
            [f"jsonwebtoken-{b} encode / decode", t(je), t(jd)],
            [f"  x vs ours", ratio(je, os_), ratio(jd, ov)],
            [f"jwt-simple (pure-rust) {run}", t(ss), t(sv)],
            [f"  x vs ours", ratio(ss, os_), ratio(sv, ov)],
        ]
        ls_, lv = g("ours-aws-lc/sign"), g("ours-aws-lc/verify")
        lrs, lrv = g("raw-aws-lc/sign"), g("raw-aws-lc/verify")
        rows += [
            [f"ours on AWS-LC {run}", t(ls_), t(lv)],
            [f"raw aws-lc-rs {run}", t(lrs), t(lrv)],
            [f"ours on AWS-LC / raw aws-lc-rs {run}", ratio(ls_, lrs), ratio(lv, lrv)],
            [f"jsonwebtoken-{b} / ours on AWS-LC", ratio(je, ls_), ratio(jd, lv)],
        ]
    print(f"-- {alg}")
    table(["", "sign", "verify"], rows)

print("== replay cache (one thread; target >= 2 000 000 ops/s)")
rows = []
for k in sorted(k for k in main if k.startswith("replay/memory/")):
    ns = main[k]
    rows.append([k, t(ns), f"{1e9 / ns:,.0f}"])
table(["bench", "per op", "ops/s"], rows)
try:
    with open(os.path.join(main_crit, "replay", "memory.json")) as f:
        m = json.load(f)
    print(f"memory: {m['bytes_per_entry']} bytes/entry (VmRSS {m['rss_before']} -> "
          f"{m['rss_after']} bytes for {m['entries']} entries, capacity {m['capacity']})")
except (OSError, KeyError, ValueError):
    print("memory: not measured (run the replay part)")
print()

print("== client store scale (issue 18; benches/client_store.rs, CLIENT_STORE_BENCH_CLIENTS lowers the count)")
try:
    with open(os.path.join(main_crit, "client_store", "scale.json")) as f:
        cs = json.load(f)
    rows = []
    for part in ["registry", "cache"]:
        p = cs.get(part)
        if not p:
            rows.append([part, "n/a", "", "", "", ""])
            continue
        mem = f"{p['bytes_per_client']:.0f} B"
        if "store_bytes_per_client" in p:
            mem += f" (+ store rows {p['store_bytes_per_client']:.0f} B)"
        rows.append([part, f"{p['clients']:,}", mem,
                     f"{p['register_s']:.1f} s ({p['register_us_per_client']:.2f} µs; "
                     f"on-CPU {p['register_oncpu_us_per_client']:.2f} µs)",
                     t(p["hot_ns"]), t(p["random_ns"])])
    table(["path", "clients", "memory / client", "registration (per client)",
           "verify hot", "verify random"], rows)
    rows = []
    for name in ["registry", "cache", "resolve"]:
        p = cs.get("threads", {}).get(name)
        if p:
            rows.append([name, f"{p['one_thread_per_s']:,}",
                         f"{p['two_threads_per_s'][0]:,} + {p['two_threads_per_s'][1]:,}",
                         f"{p['per_thread_ratio']:.3f}", f"{p['aggregate_ratio']:.3f}",
                         f"{p['wall_ratio']:.3f}", p["loadavg"]])
    print("two threads vs one (per second, on-CPU = wall minus run-queue wait; ideal ratios 1.0 per")
    print("thread, 2.0 aggregate; 'resolve' = ClientCache::resolve_now alone, no signature)")
    table(["shared", "one thread", "two threads", "per-thread ratio", "aggregate on-CPU",
           "wall ratio", "load"], rows)
except (OSError, KeyError, ValueError, TypeError) as e:
    print(f"not measured (run the client_store part): {e}")
print()
if os.path.exists(loadlog):
    print("== load average before each part (from", loadlog + ")")
    with open(loadlog) as f:
        print("".join(f.readlines()[-12:]), end="")
PY
}

parts=("$@")
if ((${#parts[@]} == 0)); then
    parts=(sign verify replay client_store peers-rust_crypto peers-aws_lc_rs summary)
fi
for part in "${parts[@]}"; do
    run_part "$part"
done
