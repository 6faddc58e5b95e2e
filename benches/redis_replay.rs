//! Throughput of `RedisReplayCache` check-and-insert against private local
//! `redis-server`s started here, with 1 and 64 checks in flight, each row
//! next to `redis-benchmark` run on the same servers in the same run
//! (`-t set`, and the cache's own command `SET key 1 NX PX 60000` with
//! random keys):
//!
//! - one node;
//! - a primary with one replica and `wait_for_replicas(1, 100 ms)`, with
//!   the default pool of connections and with one connection (the layout
//!   before the pool; 5 s timeout so that it finishes);
//! - a 3-primary Redis Cluster (`redis-cli --cluster create`,
//!   `redis-benchmark --cluster`), with the number of `INFO` each node
//!   answered during our 64-in-flight run (`INFO commandstats`);
//! - a Redis Cluster of 3 primaries with a replica each, without and with
//!   `wait_for_replicas(1, 100 ms)` (each check's `SET` and `WAIT` go to
//!   its key's primary in one pipeline).
//!
//! Then (full runs only) what the quarantine rule costs right after a
//! start: a fresh [`Verifier`] (default in-memory cache, whose epoch is its
//! first check) fed a steady stream of freshly minted assertions by
//! clients whose clocks are skewed by −2 s … +2 s (`iat` in whole
//! seconds), at four sub-second phases of the start; prints the fraction
//! refused as `replay_quarantine` in the first 1 s and 3 s, and when the
//! last one was refused.
//!
//! ```text
//! scripts/redis.sh                       # installs redis-server and redis-benchmark
//! cargo bench --manifest-path benches/Cargo.toml --features redis --bench redis_replay
//! ```
//! Target: at 64 in flight, at least half of redis-benchmark's SET rate.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use client_assertion::replay::{
    AsyncReplayCache, RedisReplayCache, RedisReplayConfig, ReplayEntry, ReplayKind, ReplayScope,
};
use client_assertion::time::Clock;
use client_assertion::{
    jwk_set, AssertionSigner, ClientRegistry, ErrorKind, KeySource, KeyType, PrivateKey, Verifier,
};

/// Checks per measurement (shared by the tasks in flight).
/// The entry a client-authentication verifier for `"https://as.example.com"` records.
fn entry<'a>(client: &'a str, jti: &'a str, until: SystemTime, now: SystemTime) -> ReplayEntry<'a> {
    let scope = ReplayScope::new(
        ReplayKind::ClientAssertion,
        "https://as.example.com",
        client,
    );
    ReplayEntry::new(scope, jti, now).retain_until(until)
}

const CHECKS: usize = 100_000;
/// Requests per redis-benchmark run.
const BENCHMARK_REQUESTS: &str = "100000";

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn start_redis() -> Server {
    start_redis_with(&[])
}

/// A server with the extra arguments `extra`.
fn start_redis_with(extra: &[&str]) -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run redis-server ({e}): install it with scripts/redis.sh")
        });
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ping(port) {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    server
}

/// `checks` check-and-inserts of fresh pairs, `in_flight` at a time;
/// returns checks per second and the checks that failed (fail-closed
/// timeouts, say).
async fn ours(
    cache: &Arc<RedisReplayCache>,
    run: &str,
    in_flight: usize,
    checks: usize,
) -> (f64, usize) {
    let per_task = checks / in_flight;
    let started = Instant::now();
    let tasks: Vec<_> = (0..in_flight)
        .map(|t| {
            let cache = cache.clone();
            let run = run.to_owned();
            tokio::spawn(async move {
                let mut failed = 0;
                for i in 0..per_task {
                    let jti = format!("{run}-{t}-{i}");
                    let now = SystemTime::now();
                    let until = now + Duration::from_secs(60);
                    let e = entry("bench-client", &jti, until, now);
                    failed += usize::from(cache.check_and_insert_async(&e).await.is_err());
                }
                failed
            })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        failed += task.await.expect("task");
    }
    let rate = (per_task * in_flight) as f64 / started.elapsed().as_secs_f64();
    (rate, failed)
}

/// `redis-benchmark -n 100000 -c <clients> -q <extra>` on `port`: requests
/// per second of its (last) test, `None` if it failed.
fn redis_benchmark(port: u16, clients: usize, extra: &[&str]) -> Option<f64> {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-n", BENCHMARK_REQUESTS, "-c", &clients.to_string(), "-q"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run redis-benchmark ({e}): install it with scripts/redis.sh")
        });
    let text = String::from_utf8_lossy(&out.stdout);
    // "SET: 98039.22 requests per second, p50=0.279 msec" (after \r progress
    // lines); a custom command is named by its own words.
    text.split(['\r', '\n'])
        .filter_map(|l| l.split_once(" requests per second"))
        .filter_map(|(l, _)| l.rsplit(' ').next()?.parse().ok())
        .next_back()
}

/// `-t set` and `SET k 1 NX PX 60000` (random keys; `{tag}` routes them on a
/// cluster) with 1 and 64 clients: `[set 1, set 64, nx 1, nx 64]`.
fn redis_benchmarks(port: u16, cluster: bool) -> [Option<f64>; 4] {
    let mode: &[&str] = if cluster { &["--cluster"] } else { &[] };
    let key = if cluster {
        "bench:{tag}:__rand_int__"
    } else {
        "bench:__rand_int__"
    };
    let set = |c| redis_benchmark(port, c, &[mode, &["-t", "set"]].concat());
    let nx = |c| {
        let cmd = ["-r", "1000000000", "SET", key, "1", "NX", "PX", "60000"];
        redis_benchmark(port, c, &[mode, &cmd[..]].concat())
    };
    [set(1), set(64), nx(1), nx(64)]
}

fn rate(r: Option<f64>) -> String {
    r.map_or_else(|| "failed".to_owned(), |r| format!("{r:.0}"))
}

/// One table row: ours at 1 and 64 in flight (failures noted).
fn row(name: &str, (one, f1): (f64, usize), (many, f64_): (f64, usize)) {
    let note = if f1 + f64_ > 0 {
        format!("  ({f1} and {f64_} checks failed closed)")
    } else {
        String::new()
    };
    println!("{name:<44} {one:>12.0} {many:>12.0}{note}");
}

fn bench_row(name: &str, r: [Option<f64>; 4]) {
    println!(
        "{:<44} {:>12} {:>12}",
        format!("redis-benchmark -t set, {name}"),
        rate(r[0]),
        rate(r[1])
    );
    println!(
        "{:<44} {:>12} {:>12}",
        format!("redis-benchmark SET NX PX, {name}"),
        rate(r[2]),
        rate(r[3])
    );
}

/// Rates at 1 and 64 in flight of `cache` (after a warm-up).
async fn both(
    cache: impl Into<Arc<RedisReplayCache>>,
    checks: usize,
) -> ((f64, usize), (f64, usize)) {
    let cache = cache.into();
    cache.ping().await.expect("ping");
    ours(&cache, "warmup", 64, checks / 10).await;
    (
        ours(&cache, "one", 1, checks / 5).await,
        ours(&cache, "many", 64, checks).await,
    )
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let checks = if quick { 1_000 } else { CHECKS };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = start_redis();
    let url = format!("redis://127.0.0.1:{}/0", server.port);
    let cache = RedisReplayCache::new(&url, RedisReplayConfig::new().key_prefix("bench:"));
    let (one, many) = runtime.block_on(both(cache.expect("cache"), checks));
    if quick {
        println!(
            "redis_replay: quick run ok ({:.0} and {:.0} checks/s)",
            one.0, many.0
        );
        return;
    }
    let single = redis_benchmarks(server.port, false);
    drop(server);
    println!("load average before: {}", loadavg());
    println!(
        "{:<44} {:>12} {:>12}",
        "check-and-insert (/s)", "1 in flight", "64 in flight"
    );
    row("ours, one node", one, many);
    bench_row("one node", single);
    runtime.block_on(wait_rows());
    runtime.block_on(cluster_rows());
    println!("load average after: {}", loadavg());
    quarantine_cost();
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The `WAIT 1` rows: a primary and its replica.
async fn wait_rows() {
    let primary = start_redis();
    let port = primary.port.to_string();
    let replica = start_redis_with(&["--replicaof", "127.0.0.1", &port]);
    std::thread::sleep(Duration::from_millis(1500)); // initial sync (an empty dataset)
    let url = format!("redis://127.0.0.1:{}/0", primary.port);
    let config = RedisReplayConfig::new()
        .key_prefix("wait:")
        .wait_for_replicas(1, Duration::from_millis(100));
    let pool = config.get_connections();
    let (p1, p64) = both(RedisReplayCache::new(&url, config).expect("cache"), CHECKS).await;
    let config = RedisReplayConfig::new()
        .key_prefix("wait1:")
        .timeout(Duration::from_secs(5))
        .connections(1)
        .wait_for_replicas(1, Duration::from_millis(100));
    let (o1, o64) = both(
        RedisReplayCache::new(&url, config).expect("cache"),
        CHECKS / 4,
    )
    .await;
    let (n1, n64) = both(
        RedisReplayCache::new(&url, RedisReplayConfig::new().key_prefix("nowait:")).expect("cache"),
        CHECKS,
    )
    .await;
    let benchmarks = redis_benchmarks(primary.port, false);
    row("ours, primary+replica, no WAIT", n1, n64);
    row(
        &format!("ours, WAIT 1, {pool} connections (default)"),
        p1,
        p64,
    );
    row("ours, WAIT 1, 1 connection, 5 s timeout", o1, o64);
    bench_row("primary+replica", benchmarks);
    drop(replica);
}
/// Three cluster primaries with `replicas` replicas each, joined by
/// `redis-cli --cluster create`.
fn start_cluster(replicas: usize) -> Vec<Server> {
    let nodes: Vec<Server> = (0..3 * (1 + replicas))
        .map(|_| {
            let bus = free_port().to_string();
            start_redis_with(&["--cluster-enabled", "yes", "--cluster-port", &bus])
        })
        .collect();
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let status = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addrs)
        .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("redis-cli (scripts/redis.sh installs redis-tools)");
    assert!(status.success(), "redis-cli --cluster create failed");
    // The cluster agrees and the replicas make their initial sync (an
    // empty dataset).
    std::thread::sleep(Duration::from_secs(2 + 2 * replicas as u64));
    nodes
}

/// The cluster rows: 3 primaries without replicas, then 3 primaries with a
/// replica each, without and with `WAIT 1`.
async fn cluster_rows() {
    let nodes = start_cluster(0);
    let cache = cluster_cache(&nodes, RedisReplayConfig::new().key_prefix("cl:"));
    cache.ping().await.expect("ping");
    ours(&cache, "warmup", 64, CHECKS / 10).await;
    let c1 = ours(&cache, "one", 1, CHECKS / 5).await;
    let before: Vec<u64> = nodes.iter().map(|n| info_calls(n.port)).collect();
    let started = Instant::now();
    let c64 = ours(&cache, "many", 64, CHECKS).await;
    let secs = started.elapsed().as_secs_f64();
    let infos: Vec<u64> = nodes
        .iter()
        .zip(&before)
        .map(|(n, b)| info_calls(n.port).saturating_sub(*b + 1))
        .collect();
    let benchmarks = redis_benchmarks(nodes[0].port, true);
    row("ours, cluster of 3", c1, c64);
    bench_row("cluster of 3", benchmarks);
    println!("INFO answered per node during our 64-in-flight cluster run ({secs:.1} s): {infos:?}");
    drop(nodes);
    let nodes = start_cluster(1);
    let plain = cluster_cache(&nodes, RedisReplayConfig::new().key_prefix("clr:"));
    let (n1, n64) = both(plain, CHECKS).await;
    let config = RedisReplayConfig::new()
        .key_prefix("clw:")
        .wait_for_replicas(1, Duration::from_millis(100));
    let pool = config.get_connections();
    let (w1, w64) = both(cluster_cache(&nodes, config), CHECKS).await;
    let benchmarks = redis_benchmarks(nodes[0].port, true);
    row("ours, cluster of 3+3, no WAIT", n1, n64);
    row(
        &format!("ours, cluster of 3+3, WAIT 1, {pool} conns"),
        w1,
        w64,
    );
    bench_row("cluster of 3+3", benchmarks);
}

/// A cluster cache over `nodes`, connected.
fn cluster_cache(nodes: &[Server], config: RedisReplayConfig) -> Arc<RedisReplayCache> {
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| format!("redis://127.0.0.1:{}", n.port))
        .collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    Arc::new(RedisReplayCache::cluster(&urls, config).expect("cluster cache"))
}

/// The `INFO` calls the server on `port` has answered (`INFO commandstats`,
/// whose own call is counted after its reply).
fn info_calls(port: u16) -> u64 {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"INFO commandstats\r\n").is_err() {
        return 0;
    }
    // "$<len>\r\n<len bytes>\r\n"
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let total = text.iter().position(|&b| b == b'\n').and_then(|i| {
            Some(
                i + 1
                    + std::str::from_utf8(&text[1..i - 1])
                        .ok()?
                        .parse::<usize>()
                        .ok()?,
            )
        });
        if total.is_some_and(|t| text.len() >= t) {
            break;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_info:calls="))
        .and_then(|l| l.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A clock `skew_ms` ahead of the system clock (behind when negative).
#[derive(Debug)]
struct Skewed(i64);

impl Clock for Skewed {
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        let d = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 {
            now + d
        } else {
            now - d
        }
    }
}

/// Client clock skews, in milliseconds.
const SKEWS: [i64; 7] = [-2000, -1000, -500, 0, 500, 1000, 2000];
/// Sub-second phases of the start, in milliseconds.
const PHASES: [u64; 4] = [100, 350, 600, 850];
/// How long each start is observed.
const OBSERVED: Duration = Duration::from_secs(3);

/// What the quarantine costs right after a start: a fresh verifier (its
/// default in-memory cache's epoch is its first check) and, for each skew,
/// a client minting one assertion at a time, verified at once, for
/// [`OBSERVED`]. Prints, per skew, the fraction refused in the first 1 s
/// and 3 s (over every phase) and the latest refusal after the start.
fn quarantine_cost() {
    let key = Arc::new(PrivateKey::generate(KeyType::Ed25519).expect("key"));
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register("bench-client", &jwk_set([&*key as &dyn KeySource]))
        .expect("register");
    let signers: Vec<AssertionSigner> = SKEWS
        .iter()
        .map(|&skew| {
            AssertionSigner::builder(key.clone(), "bench-client", "https://as.example.com")
                .clock(Arc::new(Skewed(skew)))
                .build()
                .expect("signer")
        })
        .collect();
    // [skew] -> (refused in 1 s, seen in 1 s, refused, seen, latest refusal)
    let mut stats = vec![(0u64, 0u64, 0u64, 0u64, Duration::ZERO); SKEWS.len()];
    for phase in PHASES {
        // Start at `phase` ms past a whole second.
        let past = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .subsec_millis() as u64;
        std::thread::sleep(Duration::from_millis((1000 + phase - past) % 1000));
        let verifier = Verifier::builder("https://as.example.com", registry.clone())
            .build()
            .expect("verifier");
        let started = Instant::now();
        while started.elapsed() < OBSERVED {
            for (signer, s) in signers.iter().zip(stats.iter_mut()) {
                let token = signer.sign().expect("sign");
                let at = started.elapsed();
                let refused = match verifier.verify(token.as_str()) {
                    Ok(_) => false,
                    Err(e) if e.kind() == ErrorKind::ReplayQuarantine => true,
                    Err(e) => panic!("verify: {e}"),
                };
                if at < Duration::from_secs(1) {
                    s.0 += u64::from(refused);
                    s.1 += 1;
                }
                s.2 += u64::from(refused);
                s.3 += 1;
                if refused {
                    s.4 = s.4.max(at);
                }
            }
        }
    }
    println!(
        "quarantine right after a start (fresh verifier, default policy; {} starts at .{:?} s)",
        PHASES.len(),
        PHASES
    );
    println!(
        "{:>14} {:>20} {:>20} {:>18}",
        "client skew", "refused in 1st s", "refused in 3 s", "last refusal at"
    );
    for (skew, (r1, n1, r, n, last)) in SKEWS.iter().zip(stats) {
        println!(
            "{:>12}ms {:>19.1}% {:>19.1}% {:>16.0}ms",
            skew,
            100.0 * r1 as f64 / n1.max(1) as f64,
            100.0 * r as f64 / n.max(1) as f64,
            last.as_secs_f64() * 1000.0
        );
    }
}
