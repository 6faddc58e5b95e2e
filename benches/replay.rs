//! The in-memory replay cache on one core:
//!
//! - `replay/memory/check_and_insert/<N>`:
//!   [`MemoryReplayCache::check_and_insert`] with fresh, distinct `jti`s
//!   (43-character base64url strings like the signer's, generated before
//!   measuring), from one thread. A pool of N `jti`s is walked once per
//!   cache: when it is used up a fresh cache of default capacity
//!   (1 048 576) is swapped in outside the timed region, so the figure
//!   includes the hash tables' growth from empty to N entries (see
//!   [`POOLS`]). Criterion reports the time per operation and operations
//!   per second, counting on-CPU time (wall time minus the time the thread
//!   waited for a CPU, so that other processes on a busy machine do not
//!   count; `BENCH_CLOCK=wall` for wall time).
//! - Memory per entry, measured once before criterion runs (only under
//!   `cargo bench`): the resident set size (`VmRSS`) before and after
//!   inserting [`MEMORY_ENTRIES`] entries into a cache of capacity
//!   [`MEMORY_CAPACITY`], divided by the entry count.
//!
//! - `replay/quarantine/paired` (only under `cargo bench`): the cost of the
//!   quarantine rule on the in-memory hot path. [`Verifier::verify`] (EdDSA,
//!   default memory cache) with the quarantine on (the default) and off
//!   (`danger_accept_replays_after_state_loss`), alternating blocks of
//!   [`PAIR_BLOCK`] fresh assertions for [`PAIR_ROUNDS`] rounds (the order
//!   swapped each round, fresh verifiers built outside the timed blocks),
//!   on-CPU time; prints the ratio of the totals (on / off).
//!
//! ```text
//! cargo bench --bench replay -- --noplot
//! ```
//! Target: at least 2 million check-and-inserts per second on one core.

mod support;

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::replay::{ReplayEntry, ReplayKind, ReplayScope};
use client_assertion::{MemoryReplayCache, ReplayCache};
use criterion::{BenchmarkId, Criterion, Throughput};
use support::{criterion_home, measure};

/// Distinct `jti`s per cache in the throughput bench: a quarter of the
/// default capacity, and 95 % of it (1 000 000 of 1 048 576).
/// The entry a client-authentication verifier for `"https://as.example.com"` records.
fn entry<'a>(client: &'a str, jti: &'a str, until: SystemTime, now: SystemTime) -> ReplayEntry<'a> {
    let scope = ReplayScope::new(
        ReplayKind::ClientAssertion,
        "https://as.example.com",
        client,
    );
    ReplayEntry::new(scope, jti, now).retain_until(until)
}

const POOLS: [usize; 2] = [1 << 18, 1_000_000];
/// Entries inserted for the memory measurement.
const MEMORY_ENTRIES: usize = 1_000_000;
/// Capacity of the cache used for the memory measurement.
const MEMORY_CAPACITY: usize = 2_000_000;
const CLIENT: &str = "bench-client";

fn times() -> (SystemTime, SystemTime) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    (now + Duration::from_secs(391), now)
}

/// `n` random 256-bit `jti`s, base64url as the signer writes them.
fn jtis(n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("OS RNG");
            URL_SAFE_NO_PAD.encode(bytes)
        })
        .collect()
}

fn throughput(c: &mut Criterion) {
    let (until, now) = times();
    let mut group = c.benchmark_group("replay/memory");
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for size in POOLS {
        let pool = jtis(size);
        group.bench_function(BenchmarkId::new("check_and_insert", size), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(size as u64) as usize;
                    let cache = MemoryReplayCache::default();
                    total += measure(|| {
                        for jti in &pool[..n] {
                            cache
                                .check_and_insert(&entry(CLIENT, black_box(jti), until, now))
                                .expect("a fresh jti is accepted");
                        }
                    });
                    drop(cache);
                    left -= n as u64;
                }
                total
            });
        });
    }
    group.finish();
}

/// The resident set size in bytes, from `/proc/self/status`.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Inserts [`MEMORY_ENTRIES`] entries and prints the RSS growth per entry.
fn memory_per_entry() {
    let (until, now) = times();
    let cache = MemoryReplayCache::with_capacity(MEMORY_CAPACITY);
    // The jti text is built in one reused buffer: nothing but the cache grows.
    let mut jti = String::with_capacity(64);
    let Some(before) = rss_bytes() else {
        println!("replay/memory/bytes_per_entry: /proc/self/status unavailable, skipped");
        return;
    };
    let start = Instant::now();
    for i in 0..MEMORY_ENTRIES {
        jti.clear();
        let _ = write!(jti, "jti-{i:039}");
        cache
            .check_and_insert(&entry(CLIENT, &jti, until, now))
            .expect("within capacity");
    }
    let elapsed = start.elapsed();
    let after = rss_bytes().unwrap_or(before);
    assert_eq!(cache.len(), MEMORY_ENTRIES);
    let per_entry = after.saturating_sub(before) as f64 / MEMORY_ENTRIES as f64;
    println!(
        "replay/memory/bytes_per_entry: {per_entry:.1} bytes/entry \
         (VmRSS {:.1} MiB -> {:.1} MiB for {MEMORY_ENTRIES} entries in a cache of capacity \
         {MEMORY_CAPACITY}; filled in {:.0} ms)",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        elapsed.as_secs_f64() * 1e3,
    );
    // Kept for scripts/bench.sh, next to criterion's own estimates.
    let dir = criterion_home().join("replay");
    if std::fs::create_dir_all(&dir).is_ok() {
        let json = format!(
            "{{\"bytes_per_entry\":{per_entry:.1},\"entries\":{MEMORY_ENTRIES},\
             \"capacity\":{MEMORY_CAPACITY},\"rss_before\":{before},\"rss_after\":{after}}}\n"
        );
        let _ = std::fs::write(dir.join("memory.json"), json);
    }
}

/// Assertions per timed block of the quarantine pairing.
const PAIR_BLOCK: usize = 2_000;
/// Rounds (one block on, one block off) of the quarantine pairing.
const PAIR_ROUNDS: usize = 20;

/// The paired quarantine on / off measurement (see the module docs).
fn quarantine_pair() {
    use client_assertion::time::{Clock, ManualClock};
    use client_assertion::{
        jwk_set, AssertionSigner, ClientRegistry, KeyType, PrivateKey, Verifier,
    };
    use std::sync::Arc;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at_unix(1_750_000_000));
    let key = Arc::new(PrivateKey::generate(KeyType::Ed25519).expect("key"));
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register(CLIENT, &jwk_set([&*key]))
        .expect("register");
    let signer = AssertionSigner::builder(key, CLIENT, "https://as.example.com")
        .clock(clock.clone())
        .build()
        .expect("signer");
    let tokens: Vec<String> = (0..PAIR_BLOCK)
        .map(|_| signer.sign().expect("sign").into_string())
        .collect();
    let build = |quarantine: bool| {
        let b = Verifier::builder("https://as.example.com", registry.clone()).clock(clock.clone());
        let b = if quarantine {
            b
        } else {
            b.danger_accept_replays_after_state_loss()
        };
        b.build().expect("verifier")
    };
    let block = |v: &Verifier| {
        measure(|| {
            for t in &tokens {
                black_box(v.verify(black_box(t)).expect("verifies"));
            }
        })
    };
    let (mut on, mut off) = (Duration::ZERO, Duration::ZERO);
    for round in 0..PAIR_ROUNDS {
        let (v_on, v_off) = (build(true), build(false));
        if round % 2 == 0 {
            on += block(&v_on);
            off += block(&v_off);
        } else {
            off += block(&v_off);
            on += block(&v_on);
        }
    }
    let n = (PAIR_BLOCK * PAIR_ROUNDS) as f64;
    println!(
        "replay/quarantine/paired: on {:.0} ns/verify, off {:.0} ns/verify, ratio on/off {:.4} \
         ({} verifications each, EdDSA, memory cache)",
        on.as_nanos() as f64 / n,
        off.as_nanos() as f64 / n,
        on.as_secs_f64() / off.as_secs_f64(),
        PAIR_BLOCK * PAIR_ROUNDS,
    );
}

fn main() {
    // Only under `cargo bench` (which passes `--bench`), not in test mode.
    if std::env::args().any(|a| a == "--bench") {
        quarantine_pair();
        memory_per_entry();
    }
    let mut criterion = Criterion::default().configure_from_args();
    throughput(&mut criterion);
    criterion.final_summary();
}
