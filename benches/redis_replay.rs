//! Throughput of `RedisReplayCache` check-and-insert against a private local
//! `redis-server`, with 1 and 64 checks in flight, next to `redis-benchmark
//! -t set` with 1 and 64 clients against the same server; then (full runs
//! only) the same with `wait_for_replicas(1, 100 ms)` against a primary
//! with one replica, and against a 3-primary Redis Cluster
//! (`redis-cli --cluster create`, `redis-benchmark --cluster`).
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
/// returns checks per second.
async fn ours(cache: &Arc<RedisReplayCache>, run: &str, in_flight: usize, checks: usize) -> f64 {
    let per_task = checks / in_flight;
    let started = Instant::now();
    let tasks: Vec<_> = (0..in_flight)
        .map(|t| {
            let cache = cache.clone();
            let run = run.to_owned();
            tokio::spawn(async move {
                for i in 0..per_task {
                    let jti = format!("{run}-{t}-{i}");
                    let now = SystemTime::now();
                    cache
                        .check_and_insert_async(&entry(
                            "bench-client",
                            &jti,
                            now + Duration::from_secs(60),
                            now,
                        ))
                        .await
                        .expect("check");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    (per_task * in_flight) as f64 / started.elapsed().as_secs_f64()
}

/// `redis-benchmark -t set -n 100000 -c <clients>`: requests per second.
fn redis_benchmark(port: u16, clients: usize) -> f64 {
    redis_benchmark_args(port, clients, &[])
}

fn redis_benchmark_args(port: u16, clients: usize, extra: &[&str]) -> f64 {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(extra)
        .args([
            "-t",
            "set",
            "-n",
            BENCHMARK_REQUESTS,
            "-c",
            &clients.to_string(),
            "-q",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run redis-benchmark ({e}): install it with scripts/redis.sh")
        });
    assert!(out.status.success(), "redis-benchmark failed");
    let text = String::from_utf8_lossy(&out.stdout);
    // "SET: 98039.22 requests per second, p50=0.279 msec" (after \r progress lines).
    text.split(['\r', '\n'])
        .filter_map(|l| l.strip_prefix("SET: "))
        .filter_map(|l| l.split_once(" requests per second"))
        .filter_map(|(n, _)| n.trim().parse().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no rate in redis-benchmark output: {text}"))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let checks = if quick { 1_000 } else { CHECKS };
    let server = start_redis();
    let url = format!("redis://127.0.0.1:{}/0", server.port);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cache = Arc::new(
        RedisReplayCache::new(&url, RedisReplayConfig::new().key_prefix("bench:")).expect("cache"),
    );
    let (one, many) = runtime.block_on(async {
        cache.ping().await.expect("ping");
        ours(&cache, "warmup", 64, checks / 10).await;
        let one = ours(&cache, "one", 1, checks / 5).await;
        let many = ours(&cache, "many", 64, checks).await;
        (one, many)
    });
    if quick {
        println!("redis_replay: quick run ok ({one:.0} and {many:.0} checks/s)");
        return;
    }
    let bench_one = redis_benchmark(server.port, 1);
    let bench_many = redis_benchmark(server.port, 64);

    println!("RedisReplayCache check-and-insert vs redis-benchmark SET (same local server)");
    println!(
        "{:>10} {:>16} {:>20} {:>8}",
        "in flight", "ours (checks/s)", "redis-benchmark (/s)", "ratio"
    );
    for (n, ours, theirs) in [(1, one, bench_one), (64, many, bench_many)] {
        println!("{n:>10} {ours:>16.0} {theirs:>20.0} {:>8.2}", ours / theirs);
    }
    let verdict = if many >= bench_many / 2.0 {
        "met"
    } else {
        "NOT met"
    };
    println!("target (ours >= 1/2 of redis-benchmark at 64 in flight): {verdict}");
    drop(cache);
    drop(server);
    runtime.block_on(wait_and_cluster());
}

/// Rates at 1 and 64 in flight of a fresh cache on `open()`.
async fn both(cache: RedisReplayCache) -> (f64, f64) {
    let cache = Arc::new(cache);
    cache.ping().await.expect("ping");
    ours(&cache, "warmup", 64, CHECKS / 10).await;
    (
        ours(&cache, "one", 1, CHECKS / 5).await,
        ours(&cache, "many", 64, CHECKS).await,
    )
}

/// The `WAIT 1` and cluster rows.
async fn wait_and_cluster() {
    // A primary and its replica.
    let primary = start_redis();
    let port = primary.port.to_string();
    let replica = start_redis_with(&["--replicaof", "127.0.0.1", &port]);
    std::thread::sleep(Duration::from_millis(1500)); // initial sync (an empty dataset)
    let url = format!("redis://127.0.0.1:{}/0", primary.port);
    // `WAIT` holds the cache's one connection until the replica has
    // acknowledged, so checks in flight queue behind each other: a longer
    // bound than the 250 ms default.
    let config = RedisReplayConfig::new()
        .key_prefix("wait:")
        .timeout(Duration::from_secs(5))
        .wait_for_replicas(1, Duration::from_millis(100));
    let (w1, w64) = both(RedisReplayCache::new(&url, config).expect("cache")).await;
    drop(replica);
    drop(primary);

    // A 3-primary cluster.
    let nodes: Vec<Server> = (0..3)
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
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("redis-cli (scripts/redis.sh installs redis-tools)");
    assert!(status.success(), "redis-cli --cluster create failed");
    std::thread::sleep(Duration::from_secs(2)); // the cluster agrees
    let urls: Vec<String> = nodes
        .iter()
        .map(|n| format!("redis://127.0.0.1:{}", n.port))
        .collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let config = RedisReplayConfig::new().key_prefix("cl:");
    let (c1, c64) = both(RedisReplayCache::cluster(&urls, config).expect("cluster cache")).await;
    let b1 = redis_benchmark_args(nodes[0].port, 1, &["--cluster"]);
    let b64 = redis_benchmark_args(nodes[0].port, 64, &["--cluster"]);
    println!(
        "{:>26} {:>16} {:>16}",
        "check-and-insert (/s)", "1 in flight", "64 in flight"
    );
    println!("{:>26} {w1:>16.0} {w64:>16.0}", "one node + WAIT 1");
    println!("{:>26} {c1:>16.0} {c64:>16.0}", "cluster of 3");
    println!("{:>26} {b1:>16.0} {b64:>16.0}", "redis-benchmark --cluster");
}
