//! The Redis replay cache against a real, private `redis-server` that each
//! test starts on a free 127.0.0.1 port and stops by its pid.
//!
//! `redis-server` must be installed (`scripts/redis.sh`): without it these
//! tests fail, they never skip.
#![cfg(feature = "redis")]

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use client_assertion::replay::{
    AsyncReplayCache, RedisReplayCache, RedisReplayConfig, ReplayEntry, ReplayKind, ReplayScope,
};
use client_assertion::{
    jwk_set, Algorithm, AssertionSigner, ClientRegistry, ErrorKind, JwkSet, KeySource, KeyType,
    Policy, PrivateKey, Verifier,
};
use tempfile::TempDir;

const ISSUER: &str = "https://as.example.com";
const CLIENT: &str = "redis-test-client";

// ---------------------------------------------------------------------------
// A private redis-server.

/// A `redis-server` child process on 127.0.0.1, without persistence, killed
/// (by its own pid) when dropped.
struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
    extra: Vec<String>,
}

/// The entry a client-authentication verifier for `ISSUER` records.
fn entry<'a>(client: &'a str, jti: &'a str, until: SystemTime, now: SystemTime) -> ReplayEntry<'a> {
    let scope = ReplayScope::new(ReplayKind::ClientAssertion, ISSUER, client);
    ReplayEntry::new(scope, jti, now).retain_until(until)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

impl RedisServer {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server started with the extra `redis-server` arguments `extra`.
    fn start_with(extra: &[&str]) -> Self {
        match Command::new("redis-server").arg("--version").output() {
            Ok(out) if out.status.success() => {}
            _ => panic!(
                "redis-server is not installed or does not run: install it with \
                 scripts/redis.sh (the Redis replay tests never skip)"
            ),
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let mut server = Self {
            child: None,
            port: free_port(),
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::File::create(self.dir.path().join("redis.log")).expect("log file");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--daemonize", "no"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ping(self.port) {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "redis-server exited with {status} before answering PING:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING within 10 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    /// Kills the server (an outage); [`RedisServer::restart`] brings it back
    /// on the same port, empty.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Sends `SIG<name>` to the server process (`kill -<name>`).
    fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([format!("-{name}"), pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name}");
    }

    /// A plain (sync) connection for raw commands.
    fn raw(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .expect("url")
            .get_connection()
            .expect("raw connection")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------
// Assertions and verifiers.

fn cache(url: &str, prefix: &str, timeout: Duration) -> Arc<RedisReplayCache> {
    let config = RedisReplayConfig::new().key_prefix(prefix).timeout(timeout);
    Arc::new(RedisReplayCache::new(url, config).expect("cache"))
}

fn key() -> Arc<PrivateKey> {
    Arc::new(PrivateKey::generate(KeyType::Ed25519).expect("key"))
}

fn registry_for(key: &PrivateKey) -> Arc<ClientRegistry> {
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register(CLIENT, &jwk_set([key as &dyn KeySource]))
        .expect("register");
    registry
}

fn verifier(registry: Arc<ClientRegistry>, cache: Arc<RedisReplayCache>) -> Verifier {
    Verifier::builder(ISSUER, registry)
        .async_replay_cache(cache)
        .build()
        .expect("verifier")
}

fn signer(key: &Arc<PrivateKey>) -> AssertionSigner {
    AssertionSigner::builder(key.clone(), CLIENT, ISSUER)
        .lifetime(Duration::from_secs(300))
        .build()
        .expect("signer")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A correctly signed assertion whose `jti` is `jti`, built by hand.
fn token_with_jti(key: &PrivateKey, jti: &str) -> String {
    let header = serde_json::json!({"alg": "EdDSA", "kid": key.kid(), "typ": "JWT"});
    let now = unix_now();
    let claims = serde_json::json!({
        "iss": CLIENT, "sub": CLIENT, "aud": ISSUER, "jti": jti,
        "iat": now, "exp": now + 60,
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = KeySource::sign(key, Algorithm::EdDsa, input.as_bytes()).expect("sign");
    format!("{input}.{}", b64(&sig))
}

/// The `jti` keys under `prefix` (the cache's epoch key, `prefix` +
/// `epoch`, left out).
fn keys_with_prefix(con: &mut redis::Connection, prefix: &str) -> Vec<String> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(con)
        .expect("KEYS");
    let epoch = format!("{prefix}epoch");
    keys.into_iter().filter(|k| *k != epoch).collect()
}

/// Meets the server once (`RedisReplayCache::connect`), so that its epoch
/// key exists before assertions are minted: a server met for the first
/// time without one starts an epoch at that moment, and older assertions
/// would be quarantined.
fn start_epoch(url: &str, prefix: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = open_cache(url, RedisReplayConfig::new().key_prefix(prefix));
    runtime.block_on(cache.ping()).expect("connect");
}

/// A cache on `url`, or on the cluster whose seed nodes `url` lists,
/// comma-separated.
fn open_cache(url: &str, config: RedisReplayConfig) -> RedisReplayCache {
    if url.contains(',') {
        let nodes: Vec<&str> = url.split(',').collect();
        RedisReplayCache::cluster(&nodes, config).expect("cluster cache")
    } else {
        RedisReplayCache::new(url, config).expect("cache")
    }
}

// ---------------------------------------------------------------------------
// Replay, expiry, scoping.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_is_caught_retention_matches_and_clients_are_separate() {
    let server = RedisServer::start();
    let cache = cache(&server.url(), "t1:", Duration::from_millis(250));
    let key = key();
    let verifier = verifier(registry_for(&key), cache.clone());
    let signer = signer(&key);

    let assertion = signer.sign().unwrap();
    let verified = verifier.verify_async(assertion.as_str()).await.unwrap();
    assert_eq!(verified.client_id(), CLIENT);
    let err = verifier.verify_async(assertion.as_str()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replayed);

    // Retained until the assertion stops being acceptable: iat + max_age
    // (5 min; the 300 s lifetime ends at the same time) + leeway (30 s).
    let mut con = server.raw();
    let key_name = cache.key(&entry(CLIENT, assertion.jti(), UNIX_EPOCH, UNIX_EPOCH));
    let pttl: i64 = redis::cmd("PTTL").arg(&key_name).query(&mut con).unwrap();
    let iat = assertion
        .issued_at()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let until = iat + 330.0;
    let expected = (until
        - SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64())
        * 1000.0;
    assert!(
        (pttl as f64 - expected).abs() < 1500.0,
        "PTTL {pttl} ms, expected about {expected:.0} ms"
    );
    // (The verifier may round `until` up by up to a second or so.)
    assert!(pttl <= 331_000, "PTTL {pttl}");

    // Directly: the same jti from another client is another pair.
    let now = SystemTime::now();
    let until = now + Duration::from_secs(60);
    cache
        .check_and_insert_async(&entry("a", "shared-jti", until, now))
        .await
        .unwrap();
    cache
        .check_and_insert_async(&entry("b", "shared-jti", until, now))
        .await
        .unwrap();
    let err = cache
        .check_and_insert_async(&entry("a", "shared-jti", until, now))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replayed);
    let pttl: i64 = redis::cmd("PTTL")
        .arg(cache.key(&entry("a", "shared-jti", UNIX_EPOCH, UNIX_EPOCH)))
        .query(&mut con)
        .unwrap();
    assert!((58_000..=60_000).contains(&pttl), "PTTL {pttl}");

    // The entry expires when it should, and not before.
    let now = SystemTime::now();
    cache
        .check_and_insert_async(&entry("a", "short", now + Duration::from_millis(300), now))
        .await
        .unwrap();
    let pttl: i64 = redis::cmd("PTTL")
        .arg(cache.key(&entry("a", "short", UNIX_EPOCH, UNIX_EPOCH)))
        .query(&mut con)
        .unwrap();
    assert!((200..=300).contains(&pttl), "PTTL {pttl}");
    let now = SystemTime::now();
    let err = cache
        .check_and_insert_async(&entry("a", "short", now + Duration::from_millis(300), now))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replayed);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let now = SystemTime::now();
    cache
        .check_and_insert_async(&entry("a", "short", now + Duration::from_secs(1), now))
        .await
        .expect("expired entry is gone");

    // Until at or before now: still recorded, for 1 ms.
    let now = SystemTime::now();
    cache
        .check_and_insert_async(&entry("a", "late", now, now))
        .await
        .unwrap();

    // The sync path of the verifier cannot use this cache: fails closed.
    let err = verifier
        .verify(signer.sign().unwrap().as_str())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RequiresAsync);
}

// ---------------------------------------------------------------------------
// Hostile jti.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_jti_never_becomes_a_huge_key() {
    let server = RedisServer::start();
    let prefix = "t2:";
    let cache = cache(&server.url(), prefix, Duration::from_millis(250));
    let key = key();
    let registry = registry_for(&key);
    let mib = "j".repeat(1 << 20);

    // Through the verifier: a 1 MiB jti is refused before the replay check.
    let strict = verifier(registry.clone(), cache.clone());
    let err = strict
        .verify_async(&token_with_jti(&key, &mib))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    // Even with the largest token size allowed, the jti length bound holds.
    let roomy = Verifier::builder(ISSUER, registry)
        .policy(Policy::new(ISSUER).max_token_size(1 << 20))
        .async_replay_cache(cache.clone())
        .build()
        .unwrap();
    for len in [257, 4096, 512 * 1024] {
        let err = roomy
            .verify_async(&token_with_jti(&key, &"j".repeat(len)))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidClaim, "jti of {len} bytes");
    }
    let mut con = server.raw();
    assert!(keys_with_prefix(&mut con, prefix).is_empty());
    // A jti of the longest allowed length goes through.
    roomy
        .verify_async(&token_with_jti(&key, &"j".repeat(256)))
        .await
        .unwrap();

    // Directly: a 1 MiB jti is stored under a fixed-size key.
    let now = SystemTime::now();
    cache
        .check_and_insert_async(&entry(CLIENT, &mib, now + Duration::from_secs(60), now))
        .await
        .unwrap();
    let keys = keys_with_prefix(&mut con, prefix);
    assert_eq!(keys.len(), 2, "{keys:?}");
    for k in &keys {
        assert_eq!(k.len(), prefix.len() + 43, "{k}");
        let value_len: usize = redis::cmd("STRLEN").arg(k).query(&mut con).unwrap();
        assert_eq!(value_len, 1);
    }
    assert!(keys.contains(&cache.key(&entry(CLIENT, &mib, UNIX_EPOCH, UNIX_EPOCH))));
    let used: i64 = redis::cmd("INFO")
        .arg("memory")
        .query::<String>(&mut con)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(used < 64 << 20, "used_memory {used}");
}

// ---------------------------------------------------------------------------
// Two processes, one Redis.

const CROSS_PROCESS_TOKENS: usize = 10_000;

/// Not a test of its own: the child mode of
/// `two_processes_accept_each_jti_exactly_once`, which runs this test
/// binary again with `CA_REDIS_CHILD` set. Without it, returns at once.
#[test]
fn child_verifier() {
    let Ok(id) = std::env::var("CA_REDIS_CHILD") else {
        return;
    };
    let env = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} unset"));
    let (url, prefix, input, out, ready_dir) = (
        env("CA_REDIS_URL"),
        env("CA_REDIS_PREFIX"),
        env("CA_TOKENS"),
        env("CA_OUT"),
        env("CA_READY_DIR"),
    );
    let text = std::fs::read_to_string(&input).expect("tokens file");
    let mut lines = text.lines();
    let jwks = JwkSet::from_json(lines.next().expect("jwks line")).expect("jwks");
    let tokens: Vec<String> = lines.map(str::to_owned).collect();
    let registry = Arc::new(ClientRegistry::new());
    registry.register(CLIENT, &jwks).expect("register");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ready_name = format!("child{id}");
    let lines = runtime.block_on(async move {
        // CA_REDIS_TIMEOUT_MS: the cluster scenario asks for a generous
        // bound (it counts replays, not latency, and a loaded 2-core
        // machine with a cluster's first-contact handshakes must not turn
        // a healthy check into a timeout); the others keep 2 s, which
        // also bounds how long the unacknowledged WAIT checks after a
        // failover queue behind each other.
        let timeout_ms = std::env::var("CA_REDIS_TIMEOUT_MS").map_or(2000, |t| t.parse().unwrap());
        let mut config = RedisReplayConfig::new()
            .key_prefix(prefix)
            .timeout(Duration::from_millis(timeout_ms));
        if let Ok(n) = std::env::var("CA_REDIS_WAIT") {
            config = config.wait_for_replicas(n.parse().unwrap(), Duration::from_secs(1));
        }
        if std::env::var("CA_REDIS_EVICTING").is_ok() {
            config = config.danger_allow_evicting_policy();
        }
        let cache = Arc::new(open_cache(&url, config));
        cache.ping().await.expect("Redis reachable");
        let verifier = Arc::new(verifier(registry, cache));
        // Start together: wait until both children are ready.
        std::fs::write(Path::new(&ready_dir).join(ready_name), b"").unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::fs::read_dir(&ready_dir).unwrap().count() < 2 {
            assert!(Instant::now() < deadline, "the other child never came");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let in_flight = Arc::new(tokio::sync::Semaphore::new(64));
        let mut tasks = tokio::task::JoinSet::new();
        for token in tokens {
            let permit = in_flight.clone().acquire_owned().await.unwrap();
            let verifier = verifier.clone();
            tasks.spawn(async move {
                let r = verifier.verify_async(&token).await;
                drop(permit);
                match r {
                    Ok(v) => format!("ok {}", v.jti()),
                    Err(e) => format!("err {}", e.code()),
                }
            });
        }
        let mut lines = Vec::new();
        while let Some(line) = tasks.join_next().await {
            lines.push(line.unwrap());
        }
        lines
    });
    let ok = lines.iter().filter(|l| l.starts_with("ok ")).count();
    println!("child {id}: {ok} accepted, {} rejected", lines.len() - ok);
    std::fs::write(out, lines.join("\n")).expect("write results");
}

/// Runs two `child_verifier` processes on `url` / `prefix`, each presenting
/// every token of `tokens` (a file: JWK Set line, then one token a line),
/// with `env` set; returns each one's result lines.
fn two_children(
    url: &str,
    prefix: &str,
    tokens: &Path,
    dir: &Path,
    tag: &str,
    env: &[(&str, &str)],
) -> Vec<String> {
    let ready = dir.join(format!("ready{tag}"));
    std::fs::create_dir(&ready).unwrap();
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut children: Vec<(Child, std::path::PathBuf)> = (0..2)
        .map(|i| {
            let out = dir.join(format!("out{tag}{i}"));
            let mut cmd = Command::new(&exe);
            cmd.args([
                "child_verifier",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("CA_REDIS_CHILD", i.to_string())
            .env("CA_REDIS_URL", url)
            .env("CA_REDIS_PREFIX", prefix)
            .env("CA_TOKENS", tokens)
            .env("CA_OUT", &out)
            .env("CA_READY_DIR", &ready)
            .stdin(Stdio::null())
            // The child's own libtest report stays out of this one's.
            .stdout(Stdio::null());
            for (k, v) in env {
                cmd.env(k, v);
            }
            (cmd.spawn().expect("spawn child"), out)
        })
        .collect();
    let deadline = started + Duration::from_secs(120);
    for (child, _) in &mut children {
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "child failed: {status}");
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("a child did not finish within 120 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    children
        .iter()
        .map(|(_, out)| std::fs::read_to_string(out).expect("child results"))
        .collect()
}

#[test]
fn two_processes_accept_each_jti_exactly_once() {
    let server = RedisServer::start();
    start_epoch(&server.url(), "t3:");
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let signer = signer(&key);
    let mut text = jwk_set([&*key]).to_json();
    let mut minted = HashSet::new();
    for _ in 0..CROSS_PROCESS_TOKENS {
        let a = signer.sign().unwrap();
        minted.insert(a.jti().to_owned());
        text.push('\n');
        text.push_str(a.as_str());
    }
    assert_eq!(minted.len(), CROSS_PROCESS_TOKENS);
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, text).unwrap();
    let started = Instant::now();
    let children = two_children(&server.url(), "t3:", &tokens, dir.path(), "", &[]);
    let mut accepted = HashSet::new();
    let mut total_ok = 0;
    let mut per_child = Vec::new();
    for text in &children {
        let mut ok = 0;
        for line in text.lines() {
            if let Some(jti) = line.strip_prefix("ok ") {
                ok += 1;
                assert!(minted.contains(jti), "unknown jti");
                assert!(accepted.insert(jti.to_owned()), "jti accepted twice: {jti}");
            } else {
                assert_eq!(line, "err replayed", "only replays may be rejected");
            }
        }
        assert_eq!(text.lines().count(), CROSS_PROCESS_TOKENS);
        total_ok += ok;
        per_child.push(ok);
    }
    assert_eq!(total_ok, CROSS_PROCESS_TOKENS, "per child: {per_child:?}");
    assert_eq!(accepted, minted);
    println!(
        "two processes: {per_child:?} accepted, {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// Outage and recovery.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_closed_fast_and_recovers_by_itself() {
    let timeout = Duration::from_millis(250);
    let slack = Duration::from_millis(250);
    let mut server = RedisServer::start();
    let key = key();
    let verifier = Arc::new(verifier(
        registry_for(&key),
        cache(&server.url(), "t4:", timeout),
    ));
    let signer = Arc::new(signer(&key));
    verifier
        .verify_async(signer.sign().unwrap().as_str())
        .await
        .unwrap();

    // Background load across the whole outage.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, down) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (verifier, signer, stop) = (verifier.clone(), signer.clone(), stop.clone());
        let (ok, down) = (ok.clone(), down.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let a = signer.sign().unwrap();
                let t0 = Instant::now();
                match verifier.verify_async(a.as_str()).await {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable, "{e}");
                        down.fetch_add(1, Ordering::Relaxed)
                    }
                };
                assert!(t0.elapsed() < timeout + slack, "{:?}", t0.elapsed());
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;

    server.stop();
    // Every verification while Redis is down fails closed, within the timeout.
    let window = Instant::now();
    let mut failures = 0;
    while window.elapsed() < Duration::from_millis(800) {
        let a = signer.sign().unwrap();
        let t0 = Instant::now();
        let err = verifier.verify_async(a.as_str()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReplayStoreUnavailable, "{err}");
        assert_eq!(err.code(), "replay_store_unavailable");
        assert!(t0.elapsed() < timeout + slack, "{:?}", t0.elapsed());
        failures += 1;
    }
    // A burst in flight at once: all fail closed too.
    let burst: Vec<_> = (0..64)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), signer.sign().unwrap());
            tokio::spawn(async move {
                let t0 = Instant::now();
                let r = verifier.verify_async(token.as_str()).await;
                (r.map(|_| ()).map_err(|e| e.kind()), t0.elapsed())
            })
        })
        .collect();
    for task in burst {
        let (r, took) = task.await.unwrap();
        assert_eq!(r, Err(ErrorKind::ReplayStoreUnavailable));
        assert!(took < timeout + slack, "{took:?}");
    }

    // Back on the same port: the same verifier recovers by itself.
    server.restart();
    let back = Instant::now();
    loop {
        match verifier.verify_async(signer.sign().unwrap().as_str()).await {
            Ok(_) => break,
            Err(e) => assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable),
        }
        assert!(back.elapsed() < Duration::from_secs(5), "no recovery");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let recovered_in = back.elapsed();
    for _ in 0..50 {
        verifier
            .verify_async(signer.sign().unwrap().as_str())
            .await
            .expect("recovered");
    }
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    assert!(failures > 0 && down.load(Ordering::Relaxed) > 0);
    assert!(ok.load(Ordering::Relaxed) > 0);
    println!(
        "outage: {failures} sequential failures, background {} ok / {} down, recovered in {recovered_in:?}",
        ok.load(Ordering::Relaxed),
        down.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn construction_needs_no_server_and_checks_start_working_when_it_comes() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let config = RedisReplayConfig::new().timeout(Duration::from_millis(200));
    let err = RedisReplayCache::connect(&url, config.clone())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReplayStoreUnavailable);
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");

    let cache = Arc::new(RedisReplayCache::new(&url, config).expect("lazy construction"));
    let now = SystemTime::now();
    let until = now + Duration::from_secs(60);
    for _ in 0..3 {
        let t0 = Instant::now();
        let err = cache
            .check_and_insert_async(&entry(CLIENT, "early", until, now))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ReplayStoreUnavailable);
        assert!(t0.elapsed() < Duration::from_millis(450));
    }

    // A server appears on that port.
    let dir = tempfile::tempdir().unwrap();
    let mut server = RedisServer {
        child: None,
        port,
        dir,
        extra: Vec::new(),
    };
    server.spawn();
    let deadline = Instant::now() + Duration::from_secs(5);
    while cache.ping().await.is_err() {
        assert!(Instant::now() < deadline, "no recovery");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cache
        .check_and_insert_async(&entry(CLIENT, "early", until, now))
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------
// Timeouts.

/// A TCP server on 127.0.0.1 that accepts connections and never answers.
struct SilentServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl SilentServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            held.len()
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map_or(0, |t| t.join().unwrap())
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_fails_closed_within_the_timeout() {
    let mut silent = SilentServer::start();
    let timeout = Duration::from_millis(200);
    let cache = cache(
        &format!("redis://127.0.0.1:{}/0", silent.port),
        "t5:",
        timeout,
    );
    let now = SystemTime::now();
    let until = now + Duration::from_secs(60);
    for i in 0..5 {
        let t0 = Instant::now();
        let err = cache
            .check_and_insert_async(&entry(CLIENT, &format!("j{i}"), until, now))
            .await
            .unwrap_err();
        let took = t0.elapsed();
        assert_eq!(err.kind(), ErrorKind::ReplayStoreUnavailable, "{err}");
        // The first check waits out the timeout: nothing answers. A later
        // one may fail at once, when the connection attempt its connection
        // manager still holds timed out just after the previous check did
        // (both are bounded by the same timeout); it fails closed either way.
        if i == 0 {
            assert!(took >= timeout - Duration::from_millis(20), "{took:?}");
        }
        assert!(took < timeout + Duration::from_millis(150), "{i}: {took:?}");
    }
    let burst: Vec<_> = (0..32)
        .map(|i| {
            let cache = cache.clone();
            tokio::spawn(async move {
                let t0 = Instant::now();
                let r = cache
                    .check_and_insert_async(&entry(CLIENT, &format!("b{i}"), until, now))
                    .await;
                (r.map_err(|e| e.kind()), t0.elapsed())
            })
        })
        .collect();
    for task in burst {
        let (r, took) = task.await.unwrap();
        assert_eq!(r, Err(ErrorKind::ReplayStoreUnavailable));
        assert!(took < timeout + Duration::from_millis(150), "{took:?}");
    }
    // The dead connection is replaced rather than waited on forever.
    assert!(silent.stop() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_server_fails_closed_within_the_timeout_then_recovers() {
    let server = RedisServer::start();
    let timeout = Duration::from_millis(200);
    let cache = cache(&server.url(), "t6:", timeout);
    let now = SystemTime::now();
    let until = now + Duration::from_secs(60);
    cache
        .check_and_insert_async(&entry(CLIENT, "before", until, now))
        .await
        .unwrap();

    let mut con = server.raw();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1000)
        .arg("ALL")
        .query(&mut con)
        .unwrap();
    let paused = Instant::now();
    let t0 = Instant::now();
    let err = cache
        .check_and_insert_async(&entry(CLIENT, "during", until, now))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReplayStoreUnavailable);
    assert!(
        t0.elapsed() < timeout + Duration::from_millis(150),
        "{:?}",
        t0.elapsed()
    );

    tokio::time::sleep(Duration::from_millis(1100).saturating_sub(paused.elapsed())).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match cache
            .check_and_insert_async(&entry(CLIENT, "after", until, now))
            .await
        {
            Ok(()) => break,
            Err(e) => assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable),
        }
        assert!(Instant::now() < deadline, "no recovery after the pause");
    }
    // What was recorded before the pause is still there.
    let err = cache
        .check_and_insert_async(&entry(CLIENT, "before", until, now))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replayed);
}

#[test]
fn debug_output_hides_credentials() {
    let cache = RedisReplayCache::new(
        "redis://default:hunter2@127.0.0.1:6399/3",
        RedisReplayConfig::new(),
    )
    .unwrap();
    let shown = format!("{cache:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("127.0.0.1:6399/3"), "{shown}");
    let verifier = Verifier::builder(ISSUER, Arc::new(ClientRegistry::new()))
        .async_replay_cache(Arc::new(cache))
        .build()
        .unwrap();
    assert!(!format!("{verifier:?}").contains("hunter2"));
}

// ---------------------------------------------------------------------------
// The verify example, twice, on one Redis.

/// `cargo run --quiet --example verify -- ARGS` with `stdin`, built with this
/// test build's features so that nothing is rebuilt needlessly.
fn run_verify_example(args: &[&str], stdin: &str) -> std::process::Output {
    let features: Vec<&str> = [
        (cfg!(feature = "jsonwebtoken"), "jsonwebtoken"),
        (cfg!(feature = "pkcs11"), "pkcs11"),
        (cfg!(feature = "redis"), "redis"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let mut child = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--quiet", "--example", "verify", "--features"])
        .arg(features.join(","))
        .arg("--")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn two_verify_example_processes_share_one_redis() {
    let server = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, jwk_set([&*key]).to_json()).unwrap();
    let jwks = jwks.to_str().unwrap();
    let signer = signer(&key);
    let (first, second) = (signer.sign().unwrap(), signer.sign().unwrap());
    let url = server.url();
    let args = [
        "--jwks",
        jwks,
        "--client-id",
        CLIENT,
        "--audience",
        ISSUER,
        "--redis",
        &url,
    ];

    let one = run_verify_example(&args, &format!("{}\n", first.as_str()));
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&one.stdout),
        format!("ok {}\n", first.jti())
    );
    // Another process: the first assertion is a replay, the second is new.
    let two = run_verify_example(
        &args,
        &format!(
            "{}\n{}\n{}\n",
            first.as_str(),
            second.as_str(),
            second.as_str()
        ),
    );
    assert!(
        two.status.success(),
        "{}",
        String::from_utf8_lossy(&two.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&two.stdout),
        format!(
            "rejected replayed\nok {}\nrejected replayed\n",
            second.jti()
        )
    );
    // Redis gone: fails closed, line by line.
    drop(server);
    let three = run_verify_example(&args, &format!("{}\n", signer.sign().unwrap().as_str()));
    assert!(three.status.success());
    assert_eq!(
        String::from_utf8_lossy(&three.stdout),
        "rejected replay_store_unavailable\n"
    );
}

// ---------------------------------------------------------------------------
// The caller's executor.

/// A minimal executor that is not Tokio: polls `fut` on this thread,
/// parking between wake-ups.
fn block_on_plain<F: std::future::Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        assert!(Instant::now() < deadline, "the future never completed");
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

/// A first check, its replay, and a check on a Redis that is down.
async fn three_checks(
    up: Arc<RedisReplayCache>,
    gone: Arc<RedisReplayCache>,
    jti: String,
) -> [String; 3] {
    let now = SystemTime::now();
    let until = now + Duration::from_secs(60);
    let outcome = |r: Result<(), client_assertion::Error>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.kind().code().to_owned(),
    };
    [
        outcome(
            up.check_and_insert_async(&entry(CLIENT, &jti, until, now))
                .await,
        ),
        outcome(
            up.check_and_insert_async(&entry(CLIENT, &jti, until, now))
                .await,
        ),
        outcome(
            gone.check_and_insert_async(&entry(CLIENT, &jti, until, now))
                .await,
        ),
    ]
}

/// The cache's I/O and timeouts run on its own thread: a current-thread
/// runtime without timers, one without I/O, one without either, and an
/// executor that is not Tokio all get answers (and a typed error when
/// Redis is down), no panic.
#[test]
fn any_executor_works_without_timers_or_io() {
    use tokio::runtime::Builder;
    let server = RedisServer::start();
    let down = format!("redis://127.0.0.1:{}/0", free_port());
    let config = RedisReplayConfig::new().timeout(Duration::from_millis(200));
    let up = Arc::new(RedisReplayCache::new(&server.url(), config.clone()).unwrap());
    let gone = Arc::new(RedisReplayCache::new(&down, config).unwrap());
    let runtimes = [
        (
            "no-timers",
            Builder::new_current_thread().enable_io().build().unwrap(),
        ),
        (
            "no-io",
            Builder::new_current_thread().enable_time().build().unwrap(),
        ),
        ("no-drivers", Builder::new_current_thread().build().unwrap()),
    ];
    let expected = ["ok", "replayed", "replay_store_unavailable"];
    for (name, rt) in &runtimes {
        let got = rt.block_on(three_checks(up.clone(), gone.clone(), format!("rt-{name}")));
        assert_eq!(got, expected, "{name}");
        println!("{name}: {got:?}");
    }
    let got = block_on_plain(three_checks(up.clone(), gone.clone(), "not-tokio".into()));
    assert_eq!(got, expected, "not-tokio");
    println!("not-tokio: {got:?}");
}

// ---------------------------------------------------------------------------
// Losses: restart, flush, eviction, failover. Each scenario: 1 000
// assertions presented by two processes before the event (each accepted
// once), the same 1 000 presented again by two processes after it
// (none accepted), and fresh assertions accepted after it.

const LOSS_TOKENS: usize = 1000;

/// Mints `LOSS_TOKENS` assertions into a tokens file; returns it and the
/// `jti`s.
fn mint(dir: &Path, key: &Arc<PrivateKey>, name: &str) -> (std::path::PathBuf, HashSet<String>) {
    let signer = signer(key);
    let mut text = jwk_set([&**key]).to_json();
    let mut minted = HashSet::new();
    for _ in 0..LOSS_TOKENS {
        let a = signer.sign().unwrap();
        minted.insert(a.jti().to_owned());
        text.push('\n');
        text.push_str(a.as_str());
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    (path, minted)
}

/// The `jti`s accepted in `results` (each at most once overall, else the
/// test fails) and the count of each rejection code.
fn tally(
    results: &[String],
    accepted: &mut HashSet<String>,
) -> (usize, std::collections::BTreeMap<String, usize>) {
    let mut ok = 0;
    let mut codes = std::collections::BTreeMap::new();
    for line in results.iter().flat_map(|t| t.lines()) {
        if let Some(jti) = line.strip_prefix("ok ") {
            ok += 1;
            assert!(accepted.insert(jti.to_owned()), "jti accepted twice: {jti}");
        } else {
            *codes.entry(line.to_owned()).or_default() += 1;
        }
    }
    (ok, codes)
}

/// Waits (at most about a second) until the wall clock is in a later
/// second than now: the documented residual window is the epoch's own
/// second, which a real event does not share with the last acceptances
/// before it.
fn next_second() {
    let s = unix_now();
    let deadline = Instant::now() + Duration::from_secs(2);
    while unix_now() <= s && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs one scenario: `before` and `after` are the URLs the two phases
/// use; `event` happens between them; `env` configures the children.
fn loss_scenario(
    name: &str,
    before: &str,
    after: impl Fn() -> String,
    event: impl FnOnce(),
    env: &[(&str, &str)],
) {
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let prefix = "loss:";
    start_epoch(before, prefix);
    let (tokens, minted) = mint(dir.path(), &key, "tokens");
    let mut accepted = HashSet::new();
    let (ok1, codes1) = tally(
        &two_children(before, prefix, &tokens, dir.path(), "a", env),
        &mut accepted,
    );
    assert_eq!(ok1, LOSS_TOKENS, "{name}: before: {codes1:?}");
    assert_eq!(accepted, minted);
    next_second();
    event();
    let url = after();
    let (ok2, codes2) = tally(
        &two_children(&url, prefix, &tokens, dir.path(), "b", env),
        &mut accepted,
    );
    assert_eq!(
        ok2, 0,
        "{name}: replays accepted after the event: {codes2:?}"
    );
    // Fresh assertions, minted after the new epoch, are accepted again
    // (without WAIT: a promoted replica has no replica of its own, so a
    // WAIT 1 check fails closed there, as it must).
    next_second();
    let (fresh, _) = mint(dir.path(), &key, "fresh");
    let fresh_env: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .filter(|(k, _)| *k != "CA_REDIS_WAIT")
        .collect();
    let (ok3, codes3) = tally(
        &two_children(&url, prefix, &fresh, dir.path(), "c", &fresh_env),
        &mut accepted,
    );
    assert_eq!(
        ok3, LOSS_TOKENS,
        "{name}: fresh after the event: {codes3:?}"
    );
    println!(
        "{name}: before {ok1} accepted; after {ok2} accepted, {codes2:?}; fresh {ok3} accepted"
    );
}

#[test]
fn a_restart_without_persistence_accepts_no_replay() {
    let server = std::cell::RefCell::new(RedisServer::start());
    let url = server.borrow().url();
    loss_scenario(
        "restart",
        &url,
        || url.clone(),
        || server.borrow_mut().restart(),
        &[],
    );
}

#[test]
fn a_flushall_accepts_no_replay() {
    let server = RedisServer::start();
    let url = server.url();
    loss_scenario(
        "FLUSHALL",
        &url,
        || url.clone(),
        || {
            let _: () = redis::cmd("FLUSHALL").query(&mut server.raw()).unwrap();
        },
        &[],
    );
}

#[test]
fn an_eviction_flood_accepts_no_replay() {
    let server = RedisServer::start();
    let url = server.url();
    loss_scenario(
        "allkeys-lru flood",
        &url,
        || url.clone(),
        || {
            let mut con = server.raw();
            let _: () = redis::cmd("CONFIG")
                .arg("SET")
                .arg("maxmemory-policy")
                .arg("allkeys-lru")
                .query(&mut con)
                .unwrap();
            let _: () = redis::cmd("CONFIG")
                .arg("SET")
                .arg("maxmemory")
                .arg("4mb")
                .query(&mut con)
                .unwrap();
            let blob = "x".repeat(10_000);
            for i in 0..2_000 {
                let _: () = redis::cmd("SET")
                    .arg(format!("flood:{i}"))
                    .arg(&blob)
                    .query(&mut con)
                    .unwrap();
            }
            let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
            assert!(
                !info.contains("evicted_keys:0\r"),
                "the flood evicted nothing"
            );
            // Room again for the fresh phase.
            let _: () = redis::cmd("CONFIG")
                .arg("SET")
                .arg("maxmemory")
                .arg("0")
                .query(&mut con)
                .unwrap();
        },
        &[("CA_REDIS_EVICTING", "1")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicting_policy_is_refused_by_default() {
    let server = RedisServer::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let config = RedisReplayConfig::new().key_prefix("ev:");
    let err = RedisReplayCache::connect(&server.url(), config)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReplayStoreUnavailable);
    let c = cache(&server.url(), "ev:", Duration::from_millis(500));
    let now = SystemTime::now();
    let e = c
        .check_and_insert_async(&entry(CLIENT, "j", now + Duration::from_secs(60), now))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable);
}

/// A replica of the server on `port`, in sync (a bounded wait).
fn replica_of(port: &str) -> RedisServer {
    let replica = RedisServer::start_with(&["--replicaof", "127.0.0.1", port]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query(&mut replica.raw())
            .unwrap();
        if info.contains("master_link_status:up") {
            break;
        }
        assert!(Instant::now() < deadline, "the replica never synced");
        std::thread::sleep(Duration::from_millis(20));
    }
    replica
}

fn failover(wait: bool) {
    let primary = std::cell::RefCell::new(Some(RedisServer::start()));
    let url = primary.borrow().as_ref().unwrap().url();
    let port = primary.borrow().as_ref().unwrap().port.to_string();
    let replica = replica_of(&port);
    let env: &[(&str, &str)] = if wait { &[("CA_REDIS_WAIT", "1")] } else { &[] };
    let replica_url = replica.url();
    loss_scenario(
        if wait {
            "failover with WAIT 1"
        } else {
            "failover without WAIT"
        },
        &url,
        || replica_url.clone(),
        || {
            // The primary dies; the replica is promoted.
            drop(primary.borrow_mut().take());
            let _: () = redis::cmd("REPLICAOF")
                .arg("NO")
                .arg("ONE")
                .query(&mut replica.raw())
                .unwrap();
        },
        env,
    );
}

#[test]
fn a_promoted_replica_accepts_no_replay_without_wait() {
    failover(false);
}

#[test]
fn a_promoted_replica_accepts_no_replay_with_wait() {
    failover(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_insert_fails_closed() {
    let server = RedisServer::start(); // no replica: WAIT 1 is never met
    let config = RedisReplayConfig::new()
        .key_prefix("w:")
        .wait_for_replicas(1, Duration::from_millis(50));
    let c = RedisReplayCache::new(&server.url(), config).unwrap();
    let now = SystemTime::now();
    let e = c
        .check_and_insert_async(&entry(CLIENT, "j", now + Duration::from_secs(60), now))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable);
}

/// `WAIT` holds its connection until the replica answers: a cache that
/// waits for replicas spreads its checks over a pool of connections, so 64
/// in flight with the default timeout all succeed, each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_1_with_64_in_flight_accepts_each_once() {
    let primary = RedisServer::start();
    let _replica = replica_of(&primary.port.to_string());
    let config = RedisReplayConfig::new()
        .key_prefix("w64:")
        .wait_for_replicas(1, Duration::from_millis(100));
    assert_eq!(
        config.get_connections(),
        RedisReplayConfig::DEFAULT_WAIT_CONNECTIONS
    );
    let cache = Arc::new(
        RedisReplayCache::connect(&primary.url(), config)
            .await
            .unwrap(),
    );
    const ROUNDS: usize = 20;
    const IN_FLIGHT: usize = 64;
    let accepted = Arc::new(AtomicUsize::new(0));
    let replayed = Arc::new(AtomicUsize::new(0));
    let work = async {
        let tasks: Vec<_> = (0..IN_FLIGHT)
            .map(|t| {
                let (cache, accepted, replayed) =
                    (cache.clone(), accepted.clone(), replayed.clone());
                tokio::spawn(async move {
                    for round in 0..ROUNDS {
                        let jti = format!("j{round}-{t}");
                        let now = SystemTime::now();
                        let until = now + Duration::from_secs(60);
                        // Each jti twice, from two tasks at once.
                        for _ in 0..2 {
                            let e = entry(CLIENT, &jti, until, now);
                            match cache.check_and_insert_async(&e).await {
                                Ok(()) => accepted.fetch_add(1, Ordering::Relaxed),
                                Err(e) if e.kind() == ErrorKind::Replayed => {
                                    replayed.fetch_add(1, Ordering::Relaxed)
                                }
                                Err(e) => panic!("check {jti} failed: {e}"),
                            };
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .expect("bounded");
    assert_eq!(accepted.load(Ordering::Relaxed), ROUNDS * IN_FLIGHT);
    assert_eq!(replayed.load(Ordering::Relaxed), ROUNDS * IN_FLIGHT);
    // Every accepted key is on the replica (WAIT 1 answered for each).
    let keys = keys_with_prefix(&mut _replica.raw(), "w64:");
    assert_eq!(keys.len(), ROUNDS * IN_FLIGHT);
}

// ---------------------------------------------------------------------------
// Redis Cluster: three primaries made with `redis-cli --cluster create`.

/// Three cluster primaries (and their replicas, if asked for; no
/// persistence) joined into one cluster; stopped by pid when dropped.
struct Cluster {
    nodes: Vec<RedisServer>,
}

/// A line of `INFO replication` of `server`.
fn replication_has(server: &RedisServer, line: &str) -> bool {
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query(&mut server.raw())
        .unwrap_or_default();
    info.lines().any(|l| l.trim() == line)
}

fn cluster_ok(server: &RedisServer) -> bool {
    let mut con = match redis::Client::open(server.url()).and_then(|c| c.get_connection()) {
        Ok(con) => con,
        Err(_) => return false,
    };
    let info: String = redis::cmd("CLUSTER")
        .arg("INFO")
        .query(&mut con)
        .unwrap_or_default();
    info.contains("cluster_state:ok")
}

impl Cluster {
    fn start() -> Self {
        Self::start_replicated(0)
    }

    /// Three primaries with `replicas` replicas each.
    fn start_replicated(replicas: usize) -> Self {
        let nodes: Vec<RedisServer> = (0..3 * (1 + replicas))
            .map(|_| {
                let bus = free_port().to_string();
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-port",
                    &bus,
                    "--cluster-node-timeout",
                    "2000",
                ])
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli runs (scripts/redis.sh installs redis-tools)");
        assert!(
            out.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let cluster = Self { nodes };
        cluster.wait_ok();
        cluster
    }

    fn wait_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let synced = |n: &RedisServer| {
            replication_has(n, "role:master") || replication_has(n, "master_link_status:up")
        };
        while !self.nodes.iter().all(|n| cluster_ok(n) && synced(n)) {
            assert!(Instant::now() < deadline, "the cluster never became ok");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn replicas(&self) -> impl Iterator<Item = &RedisServer> {
        self.nodes
            .iter()
            .filter(|n| replication_has(n, "role:slave"))
    }

    fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(RedisServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A cache on `cluster` with `config`, connected.
async fn cluster_cache(cluster: &Cluster, config: RedisReplayConfig) -> RedisReplayCache {
    let urls = cluster.urls();
    let nodes: Vec<&str> = urls.split(',').collect();
    RedisReplayCache::connect_cluster(&nodes, config)
        .await
        .unwrap()
}

/// `n` fresh `jti`s (`j0`, `j1`, ...), each accepted once and then refused
/// as a replay.
async fn accepted_once(cache: &RedisReplayCache, n: usize, now: SystemTime) {
    let until = now + Duration::from_secs(60);
    for i in 0..n {
        let jti = format!("j{i}");
        let e = entry(CLIENT, &jti, until, now);
        cache.check_and_insert_async(&e).await.unwrap();
        let again = cache.check_and_insert_async(&e).await.unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Replayed);
    }
}

#[test]
fn a_cluster_node_restarted_accepts_no_replay() {
    let cluster = std::cell::RefCell::new(Cluster::start());
    let urls = cluster.borrow().urls();
    loss_scenario(
        "cluster node restart",
        &urls,
        || urls.clone(),
        || {
            let mut c = cluster.borrow_mut();
            // The node keeps its slots (nodes.conf) and loses its keys.
            c.nodes[1].restart();
            c.wait_ok();
        },
        &[("CA_REDIS_TIMEOUT_MS", "10000")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_spreads_keys_and_catches_replays() {
    let cluster = Cluster::start();
    let cache = cluster_cache(&cluster, RedisReplayConfig::new().key_prefix("cl:")).await;
    accepted_once(&cache, 300, SystemTime::now()).await;
    // Every node holds some of the keys.
    for node in &cluster.nodes {
        let n: usize = redis::cmd("DBSIZE").query(&mut node.raw()).unwrap();
        assert!(n > 10, "a node with {n} keys");
    }
}

/// `WAIT 1` on a cluster with a replica per primary: each check's `SET` and
/// its `WAIT` go to its key's primary in one pipeline, so every accepted
/// `jti` is on that primary's replica when the check returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_with_replicas_waits_per_shard() {
    let cluster = Cluster::start_replicated(1);
    let config = RedisReplayConfig::new()
        .key_prefix("cw:")
        .wait_for_replicas(1, Duration::from_millis(200));
    let cache = cluster_cache(&cluster, config).await;
    let now = SystemTime::now();
    let until = now + Duration::from_secs(60);
    accepted_once(&cache, 300, now).await;
    let replicas: Vec<&RedisServer> = cluster.replicas().collect();
    assert_eq!(replicas.len(), 3);
    let mut on_replicas = 0;
    for replica in replicas {
        let keys = keys_with_prefix(&mut replica.raw(), "cw:");
        let jtis = keys.iter().filter(|k| !k.ends_with("epoch")).count();
        assert!(jtis > 10, "a replica with {jtis} keys");
        on_replicas += jtis;
    }
    assert_eq!(on_replicas, 300, "every accepted jti is on a replica");
    // One replica stopped (SIGSTOP): the checks whose keys its primary
    // holds fail closed, the other shards' checks still succeed.
    let stalled = cluster.replicas().next().unwrap();
    stalled.signal("STOP");
    let (mut ok, mut unavailable) = (0, 0);
    for i in 0..30 {
        let jti = format!("s{i}");
        match cache
            .check_and_insert_async(&entry(CLIENT, &jti, until, now))
            .await
        {
            Ok(()) => ok += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ReplayStoreUnavailable, "{e:?}");
                unavailable += 1;
            }
        }
    }
    stalled.signal("CONT");
    println!("one replica stopped: {ok} checks ok, {unavailable} replay_store_unavailable");
    assert!(
        ok > 0 && unavailable > 0,
        "{ok} ok, {unavailable} unavailable"
    );
}

/// The check path reads `INFO` at most once per node per interval (1 s),
/// not once per key group (256 of them): counted by the nodes themselves
/// (`INFO commandstats`) over a stream of checks after the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_reads_info_once_per_node_per_interval() {
    let cluster = Cluster::start();
    let cache = cluster_cache(&cluster, RedisReplayConfig::new().key_prefix("ci:")).await;
    // The handshakes (one INFO per group at first contact) are done.
    for node in &cluster.nodes {
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query(&mut node.raw())
            .unwrap();
    }
    let started = Instant::now();
    let mut checks = 0;
    while started.elapsed() < Duration::from_millis(2500) && checks < 200_000 {
        let now = SystemTime::now();
        let jti = format!("j{checks}");
        cache
            .check_and_insert_async(&entry(CLIENT, &jti, now + Duration::from_secs(60), now))
            .await
            .unwrap();
        checks += 1;
    }
    let intervals = started.elapsed().as_secs() + 1;
    for node in &cluster.nodes {
        let stats: String = redis::cmd("INFO")
            .arg("commandstats")
            .query(&mut node.raw())
            .unwrap();
        let calls: u64 = stats
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_info:calls="))
            .and_then(|l| l.split(',').next())
            .map_or(0, |n| n.parse().unwrap());
        // Our own INFO commandstats above is one of them.
        assert!(
            calls <= intervals + 1,
            "{calls} INFO in {intervals} intervals on one node ({checks} checks)"
        );
        assert!(checks > 256, "too few checks ({checks}) to tell");
    }
}

// ---------------------------------------------------------------------------
// The audit event of a loss.

#[cfg(feature = "tracing")]
#[path = "common/capture.rs"]
mod capture;

/// Emitted on the cache's own I/O thread, so captured by a global
/// subscriber: the only one of this test binary.
#[cfg(feature = "tracing")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detected_loss_emits_replay_epoch_started() {
    let capture = capture::Capture::default();
    let events = capture.0.clone();
    tracing::subscriber::set_global_default(capture.subscriber())
        .expect("the only global subscriber");
    let server = RedisServer::start();
    let config = RedisReplayConfig::new().key_prefix("au:");
    let c = RedisReplayCache::connect(&server.url(), config)
        .await
        .unwrap();
    let _: () = redis::cmd("FLUSHALL").query(&mut server.raw()).unwrap();
    let now = SystemTime::now();
    c.check_and_insert_async(&entry(CLIENT, "j", now + Duration::from_secs(60), now))
        .await
        .unwrap();
    let reasons: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.name == client_assertion::audit::REPLAY_EPOCH_STARTED)
        // Other tests' servers (running at the same time) have other URLs.
        .filter(|e| e.field("store") == Some(server.url().as_str()))
        .map(|e| e.field("reason").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(reasons, ["no_epoch_key", "epoch_key_changed"]);
}
