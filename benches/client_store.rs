//! Client store scale (issue 18), in one run:
//!
//! - **Scale** (only under `cargo bench`; each part in a child process of
//!   this bench, so that one part's freed memory does not hide the next
//!   part's growth): [`CLIENTS`] clients (1 000 000, or
//!   `CLIENT_STORE_BENCH_CLIENTS`), one P-256 key each,
//!   - `registry`: registered in a [`ClientRegistry`] (`register` of a
//!     one-key [`JwkSet`]); memory per client (`VmRSS` growth / clients)
//!     and registration time;
//!   - `cache`: rows of an in-memory [`ClientStore`] (id, version, the JWK
//!     Set as JSON, as a database table would hold them; answers on the
//!     synchronous path), read through a [`ClientCache`] once per client
//!     (the first request: JSON parsed, keys parsed into the cache's
//!     registry); memory per client of the store's rows and of the cache,
//!     and the warm-up time;
//!   - then, in the same process, verification through a [`TokenEndpoint`]
//!     of a random client (uniform over all clients) against a hot one
//!     (always the same client): alternating blocks of [`PAIR_BLOCK`]
//!     requests, [`PAIR_ROUNDS`] rounds, the assertions signed outside the
//!     timed blocks, on-CPU time.
//! - **Two threads** against one: one shared endpoint (verifier, registry,
//!   memory replay cache; and the same over a `ClientCache`), requests for
//!   random clients among [`THREAD_CLIENTS`]; per round one thread verifies
//!   [`THREAD_REQUESTS`] requests alone, then two threads verify as many
//!   each at once. Reported: each thread's on-CPU throughput (wall time
//!   minus its run-queue wait: time blocked on a lock counts, time
//!   preempted by other processes does not) and the wall-clock aggregate,
//!   as ratios two threads / one thread (ideal: 1.0 per thread, 2.0
//!   aggregate on this 2-core machine).
//! - Criterion: `client_store/<registry|cache>/<hot|random>` over
//!   [`CRITERION_CLIENTS`] clients.
//!
//! The figures are printed and written to
//! `<criterion home>/client_store/scale.json` for `scripts/bench.sh`.
//!
//! **Keys.** [`POOL`] P-256 keys are generated; client `i` registers the
//! public JWK of key `i % POOL` (its `kid` the RFC 7638 thumbprint, 43
//! characters as a real client's would be). Generating a million keys
//! would cost a scalar multiplication each and measure nothing of the
//! store; reusing JWKs does not distort memory per client, because every
//! registration parses its JWK into its own verifying key, `kid` and
//! thumbprint strings (nothing is shared between clients but the pool,
//! allocated before the first `VmRSS` reading), and verification of a
//! pool key costs the same as of any other P-256 key.
//!
//! ```text
//! cargo bench --manifest-path benches/Cargo.toml --bench client_store -- --noplot
//! CLIENT_STORE_BENCH_CLIENTS=100000 cargo bench ... --bench client_store -- --noplot
//! ```

mod support;

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use client_assertion::server::{
    ClientCache, ClientCacheConfig, ClientCredentials, ClientStore, Lookup, StoreFuture,
    StoredClient, TokenEndpoint, TokenRequest,
};
use client_assertion::time::{Clock, ManualClock};
use client_assertion::{
    AssertionSigner, ClientRegistry, JwkSet, KeyType, MemoryReplayCache, PrivateKey, PublicJwk,
    Verifier,
};
use criterion::Criterion;
use support::criterion_home;

const AUDIENCE: &str = "https://as.example.com";
/// Clients of the scale part (`CLIENT_STORE_BENCH_CLIENTS` overrides).
const CLIENTS: usize = 1_000_000;
/// Distinct keys the clients' JWKs come from.
const POOL: usize = 4096;
/// Requests per timed block of the hot / random pairing.
const PAIR_BLOCK: usize = 500;
/// Rounds (one hot block, one random block) of the pairing.
const PAIR_ROUNDS: usize = 6;
/// Clients of the two-thread part.
const THREAD_CLIENTS: usize = 10_000;
/// Requests per thread and run of the two-thread part.
const THREAD_REQUESTS: usize = 1_500;
/// Rounds (one thread, then two) of the two-thread part.
const THREAD_ROUNDS: usize = 3;
/// `resolve_now` calls per thread and run of the two-thread part.
const RESOLVES: usize = 300_000;
/// Clients of the criterion groups.
const CRITERION_CLIENTS: usize = 100_000;
/// The environment variable a child process of the scale part reads.
const PART_VAR: &str = "CLIENT_STORE_BENCH_PART";

fn clients() -> usize {
    std::env::var("CLIENT_STORE_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(CLIENTS)
}

fn client_id(i: usize) -> String {
    format!("client-{i:07}")
}

/// The key pool, its public JWKs and a clock shared by signers and
/// verifiers.
struct Keys {
    pool: Vec<Arc<PrivateKey>>,
    jwks: Vec<PublicJwk>,
    clock: Arc<dyn Clock>,
}

impl Keys {
    fn new() -> Self {
        let pool: Vec<_> = (0..POOL)
            .map(|_| Arc::new(PrivateKey::generate(KeyType::P256).expect("P-256 key")))
            .collect();
        let jwks = pool.iter().map(|k| k.public_jwk()).collect();
        Self {
            pool,
            jwks,
            clock: Arc::new(ManualClock::at_unix(1_750_000_000)),
        }
    }

    fn set(&self, i: usize) -> JwkSet {
        JwkSet::from_keys([self.jwks[i % POOL].clone()])
    }

    /// A token request of client `i` (a fresh assertion).
    fn request(&self, i: usize) -> TokenRequest {
        let signer = AssertionSigner::builder(self.pool[i % POOL].clone(), client_id(i), AUDIENCE)
            .clock(self.clock.clone())
            .build()
            .expect("signer");
        let body = signer
            .sign()
            .expect("sign")
            .form_params()
            .client_credentials()
            .to_urlencoded();
        TokenRequest::from_form(body.as_bytes(), None).expect("request")
    }
}

/// An in-memory client table: id -> (version, JWK Set JSON).
#[derive(Debug, Default)]
struct TableStore {
    rows: HashMap<String, (String, String)>,
}

impl ClientStore for TableStore {
    fn find_now(&self, client_id: &str) -> Option<Lookup> {
        Some(Ok(self.rows.get(client_id).map(|(version, jwks)| {
            StoredClient::new(
                client_id,
                version.clone(),
                ClientCredentials::jwks_json(jwks.clone()),
            )
        })))
    }

    fn find<'a>(&'a self, client_id: &'a str) -> StoreFuture<'a> {
        Box::pin(std::future::ready(self.find_now(client_id).expect("sync")))
    }
}

fn table(keys: &Keys, n: usize) -> TableStore {
    let jsons: Vec<String> = keys
        .jwks
        .iter()
        .map(|j| JwkSet::from_keys([j.clone()]).to_json())
        .collect();
    let rows = (0..n)
        .map(|i| (client_id(i), ("1".to_owned(), jsons[i % POOL].clone())))
        .collect();
    TableStore { rows }
}

fn verifier(keys: &Keys, registry: Arc<ClientRegistry>) -> Verifier {
    Verifier::builder(AUDIENCE, registry)
        .clock(keys.clock.clone())
        .replay_cache(Arc::new(MemoryReplayCache::with_capacity(1 << 22)))
        .build()
        .expect("verifier")
}

fn registry_endpoint(keys: &Keys, n: usize) -> TokenEndpoint {
    let registry = Arc::new(ClientRegistry::new());
    for i in 0..n {
        registry
            .register(client_id(i), &keys.set(i))
            .expect("register");
    }
    TokenEndpoint::new(verifier(keys, registry))
}

fn cache_over(store: TableStore, n: usize) -> Arc<ClientCache> {
    let mut config = ClientCacheConfig::default();
    config.max_clients = n.max(1);
    Arc::new(
        ClientCache::new(Arc::new(store))
            .config(config)
            .expect("config"),
    )
}

fn cache_endpoint(keys: &Keys, cache: &Arc<ClientCache>) -> TokenEndpoint {
    let v = verifier(keys, cache.registry().clone());
    TokenEndpoint::with_cache(v, cache.clone()).expect("endpoint")
}

// ----- clocks and memory -----

/// What a block took: `unpreempted` = wall time minus the time the thread
/// waited for a CPU (the on-CPU clock of the other benches: time blocked
/// on a lock counts, time preempted by other processes does not).
#[derive(Clone, Copy, Default)]
struct Took {
    unpreempted: Duration,
}

fn measure(f: impl FnOnce()) -> Took {
    let (wall, on_cpu) = support::timed(f);
    Took {
        unpreempted: on_cpu.unwrap_or(wall),
    }
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_owned())
}

/// A small xorshift: the random clients, reproducible.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

// ----- scale: hot vs random -----

fn run_block(endpoint: &TokenEndpoint, requests: &[TokenRequest]) -> Duration {
    measure(|| {
        for r in requests {
            black_box(endpoint.authenticate(black_box(r)).expect("authenticated"));
        }
    })
    .unpreempted
}

/// Mean ns per request (hot, random), alternating blocks.
fn hot_vs_random(keys: &Keys, endpoint: &TokenEndpoint, n: usize) -> (f64, f64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let hot = n / 2;
    let (mut t_hot, mut t_random) = (Duration::ZERO, Duration::ZERO);
    for round in 0..PAIR_ROUNDS {
        let hots: Vec<_> = (0..PAIR_BLOCK).map(|_| keys.request(hot)).collect();
        let randoms: Vec<_> = (0..PAIR_BLOCK)
            .map(|_| keys.request(rng.below(n)))
            .collect();
        if round % 2 == 0 {
            t_hot += run_block(endpoint, &hots);
            t_random += run_block(endpoint, &randoms);
        } else {
            t_random += run_block(endpoint, &randoms);
            t_hot += run_block(endpoint, &hots);
        }
    }
    let per = |t: Duration| t.as_nanos() as f64 / (PAIR_BLOCK * PAIR_ROUNDS) as f64;
    (per(t_hot), per(t_random))
}

/// The `registry` scale part: JSON of its figures.
fn registry_part(n: usize) -> String {
    let keys = Keys::new();
    let before = rss_bytes();
    let start = Instant::now();
    let mut endpoint = None;
    let cpu = measure(|| endpoint = Some(registry_endpoint(&keys, n))).unpreempted;
    let took = start.elapsed();
    let endpoint = endpoint.expect("built");
    let after = rss_bytes();
    let per_client = after.saturating_sub(before) as f64 / n as f64;
    format!(
        "{{\"clients\":{n},\"bytes_per_client\":{per_client:.1},\"rss_before\":{before},\
         \"rss_after\":{after},{}}}",
        timing_fields(&keys, &endpoint, n, took, cpu),
    )
}

/// The `cache` scale part: JSON of its figures.
fn cache_part(n: usize) -> String {
    let keys = Keys::new();
    let before = rss_bytes();
    let store = table(&keys, n);
    let stored = rss_bytes();
    let cache = cache_over(store, n);
    let start = Instant::now();
    let cpu = measure(|| {
        for i in 0..n {
            cache.resolve_now(&client_id(i)).expect("known client");
        }
    })
    .unpreempted;
    let took = start.elapsed();
    let after = rss_bytes();
    assert_eq!(cache.key_parses(), n as u64);
    let endpoint = cache_endpoint(&keys, &cache);
    let store_per = stored.saturating_sub(before) as f64 / n as f64;
    let cache_per = after.saturating_sub(stored) as f64 / n as f64;
    format!(
        "{{\"clients\":{n},\"store_bytes_per_client\":{store_per:.1},\
         \"bytes_per_client\":{cache_per:.1},\"rss_before\":{before},\"rss_store\":{stored},\
         \"rss_after\":{after},{}}}",
        timing_fields(&keys, &endpoint, n, took, cpu),
    )
}

/// The JSON members both scale parts share: registration time (wall and on
/// CPU, per client), then the hot and random verification costs and the load.
fn timing_fields(
    keys: &Keys,
    endpoint: &TokenEndpoint,
    n: usize,
    took: Duration,
    cpu: Duration,
) -> String {
    let (hot, random) = hot_vs_random(keys, endpoint, n);
    format!(
        "\"register_s\":{:.3},\"register_us_per_client\":{:.3},\
         \"register_oncpu_us_per_client\":{:.3},\"hot_ns\":{hot:.0},\"random_ns\":{random:.0},\
         \"loadavg\":\"{}\"",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64,
        cpu.as_secs_f64() * 1e6 / n as f64,
        loadavg(),
    )
}

/// Runs a scale part in a child process and returns its JSON.
fn child_part(part: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .arg("--bench")
        .env(PART_VAR, part)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "client_store {part}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))?
        .to_owned();
    println!("client_store/scale/{part}: {json}");
    Some(json)
}

// ----- two threads against one -----

/// One run: `threads` threads, each verifying its own requests; each
/// thread's [`Took`] and the wall time of the whole run.
fn threaded(endpoint: &TokenEndpoint, batches: &[Vec<TokenRequest>]) -> (Vec<Took>, Duration) {
    on_threads(batches, |batch| {
        for r in batch {
            black_box(endpoint.authenticate(r).expect("authenticated"));
        }
    })
}

/// Runs `work` on one thread per input, all released together by a
/// barrier: each thread's [`Took`] and the wall time of the whole run.
fn on_threads<I: Sync>(inputs: &[I], work: impl Fn(&I) + Sync) -> (Vec<Took>, Duration) {
    let barrier = Barrier::new(inputs.len());
    let start = Instant::now();
    let took = std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|input| {
                let (barrier, work) = (&barrier, &work);
                s.spawn(move || {
                    barrier.wait();
                    measure(|| work(input))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    (took, start.elapsed())
}

/// Two threads against one, summed over [`THREAD_ROUNDS`] rounds: the
/// on-CPU time of each thread and the wall time of each run.
struct Ratios {
    /// Operations per thread over all rounds.
    n: f64,
    one: Duration,
    one_wall: Duration,
    two: [Duration; 2],
    two_wall: Duration,
}

impl Ratios {
    /// [`THREAD_ROUNDS`] rounds of `run(1)` then `run(2)`, where `run(t)`
    /// does `per_thread` operations on each of `t` threads.
    fn measure(per_thread: usize, mut run: impl FnMut(usize) -> (Vec<Took>, Duration)) -> Self {
        let mut r = Self {
            n: (per_thread * THREAD_ROUNDS) as f64,
            one: Duration::ZERO,
            one_wall: Duration::ZERO,
            two: [Duration::ZERO; 2],
            two_wall: Duration::ZERO,
        };
        for _ in 0..THREAD_ROUNDS {
            let (t, w) = run(1);
            r.one += t[0].unpreempted;
            r.one_wall += w;
            let (t, w) = run(2);
            r.two[0] += t[0].unpreempted;
            r.two[1] += t[1].unpreempted;
            r.two_wall += w;
        }
        r
    }

    /// Prints the figures as `client_store/threads/{name}` (`unit`s per
    /// second) and returns them as JSON (the keys `scripts/bench.sh` reads).
    fn report(&self, name: &str, unit: &str) -> String {
        let rate = |d: Duration| self.n / d.as_secs_f64();
        let (single, single_wall) = (rate(self.one), rate(self.one_wall));
        let two = [rate(self.two[0]), rate(self.two[1])];
        let per_thread = (two[0] + two[1]) / 2.0 / single;
        let wall_aggregate = 2.0 * rate(self.two_wall);
        let wall_ratio = wall_aggregate / single_wall;
        let load = loadavg();
        println!(
            "client_store/threads/{name}: one thread {single:.0} {unit}/s on-CPU ({single_wall:.0} \
             wall); two threads {:.0} + {:.0} {unit}/s on-CPU, per-thread ratio {per_thread:.3}, \
             aggregate on-CPU ratio {:.3}, wall aggregate {wall_aggregate:.0} {unit}/s, wall \
             ratio {wall_ratio:.3} (load {load})",
            two[0],
            two[1],
            2.0 * per_thread,
        );
        format!(
            "{{\"one_thread_per_s\":{single:.0},\"one_thread_wall_per_s\":{single_wall:.0},\
             \"two_threads_per_s\":[{:.0},{:.0}],\"per_thread_ratio\":{per_thread:.3},\
             \"aggregate_ratio\":{:.3},\"wall_aggregate_per_s\":{wall_aggregate:.0},\
             \"wall_ratio\":{wall_ratio:.3},\"loadavg\":\"{load}\"}}",
            two[0],
            two[1],
            2.0 * per_thread,
        )
    }
}

/// Two threads against one on `endpoint`: JSON of the ratios.
fn two_threads(keys: &Keys, endpoint: &TokenEndpoint, name: &str) -> String {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    Ratios::measure(THREAD_REQUESTS, |threads| {
        let batches: Vec<Vec<TokenRequest>> = (0..threads)
            .map(|_| {
                (0..THREAD_REQUESTS)
                    .map(|_| keys.request(rng.below(THREAD_CLIENTS)))
                    .collect()
            })
            .collect();
        threaded(endpoint, &batches)
    })
    .report(name, "req")
}

/// `ClientCache::resolve_now` alone (no signature: the cache's own hot
/// path, where a lock shared by all requests would show at once), two
/// threads against one: JSON of the ratios.
fn resolve_threads(cache: &ClientCache) -> String {
    Ratios::measure(RESOLVES, |threads| {
        let ids: Vec<Vec<_>> = (0..threads as u64)
            .map(|t| {
                let mut rng = Rng(0x5851_f42d_4c95_7f2d ^ (t + 1));
                (0..RESOLVES)
                    .map(|_| client_id(rng.below(THREAD_CLIENTS)))
                    .collect()
            })
            .collect();
        on_threads(&ids, |ids| {
            for id in ids {
                black_box(cache.resolve_now(id).expect("known"));
            }
        })
    })
    .report("resolve", "lookups")
}

fn threads_part(keys: &Keys) -> String {
    let registry = two_threads(keys, &registry_endpoint(keys, THREAD_CLIENTS), "registry");
    let cache = cache_over(table(keys, THREAD_CLIENTS), THREAD_CLIENTS);
    for i in 0..THREAD_CLIENTS {
        cache.resolve_now(&client_id(i)).expect("known client");
    }
    let resolve = resolve_threads(&cache);
    let endpoint = cache_endpoint(keys, &cache);
    let cached = two_threads(keys, &endpoint, "cache");
    format!("{{\"registry\":{registry},\"cache\":{cached},\"resolve\":{resolve}}}")
}

// ----- criterion -----

fn criterion_groups(c: &mut Criterion, keys: &Keys) {
    let n = clients().min(CRITERION_CLIENTS);
    let registry = registry_endpoint(keys, n);
    let cache = cache_over(table(keys, n), n);
    let cached = cache_endpoint(keys, &cache);
    let mut group = c.benchmark_group("client_store");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (path, endpoint) in [("registry", &registry), ("cache", &cached)] {
        for hot in [true, false] {
            let name = format!("{path}/{}", if hot { "hot" } else { "random" });
            let mut rng = Rng(0x1234_5678_9abc_def1);
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut left = iters as usize;
                    while left > 0 {
                        let m = left.min(PAIR_BLOCK);
                        let batch: Vec<_> = (0..m)
                            .map(|_| keys.request(if hot { n / 2 } else { rng.below(n) }))
                            .collect();
                        total += run_block(endpoint, &batch);
                        left -= m;
                    }
                    total
                });
            });
        }
    }
    group.finish();
}

fn write_json(scale: &[(&str, Option<String>)], threads: &str) {
    let mut json = String::from("{");
    for (part, figures) in scale {
        json += &format!("\"{part}\":{},", figures.as_deref().unwrap_or("null"));
    }
    json += &format!("\"threads\":{threads},\"loadavg\":\"{}\"}}\n", loadavg());
    let dir = criterion_home().join("client_store");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("scale.json"), json);
    }
}

fn main() {
    if let Ok(part) = std::env::var(PART_VAR) {
        let json = match part.as_str() {
            "registry" => registry_part(clients()),
            "cache" => cache_part(clients()),
            other => panic!("unknown part {other}"),
        };
        println!("RESULT {json}");
        return;
    }
    let keys = Keys::new();
    // Only under `cargo bench` (which passes `--bench`), not in test mode.
    if std::env::args().any(|a| a == "--bench") {
        println!("client_store: {} clients, load {}", clients(), loadavg());
        let scale = [
            ("registry", child_part("registry")),
            ("cache", child_part("cache")),
        ];
        let threads = threads_part(&keys);
        write_json(&scale, &threads);
    }
    let mut criterion = Criterion::default().configure_from_args();
    criterion_groups(&mut criterion, &keys);
    criterion.final_summary();
}
