//! Key rotation without downtime: the client's key ring, the server's
//! remote JWK Set cache, and the directory key ring.

#[path = "common/backend.rs"]
mod backend;

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use backend::{on_backend, registry};
use client_assertion::client::{
    DirectoryKeyRing, FileKeyFactory, KeyFactory, KeyRing, KeyState, MemoryKeyFactory,
    RotationPolicy,
};
use client_assertion::server::{FetchFuture, JwksFetcher, RemoteJwksConfig};
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{
    AssertionSigner, ErrorKind, KeySource, KeyType, Policy, PrivateKey, Verifier,
};

const DAY: Duration = Duration::from_secs(86_400);
const HOUR: Duration = Duration::from_secs(3600);
const ISSUER: &str = "https://as.example.com";
const CLIENT: &str = "rotating-client";

/// A minimal executor: polls on this thread, parks while pending.
fn block_on<F: Future>(f: F) -> F::Output {
    struct ThreadWaker(Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// The server's fetch of the client's `jwks_uri`: here, the ring's published set.
#[derive(Debug)]
struct RingFetcher {
    ring: Arc<KeyRing>,
    fetches: AtomicUsize,
}

impl JwksFetcher for RingFetcher {
    fn fetch<'a>(&'a self, _client_id: &'a str) -> FetchFuture<'a> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let bytes = self.ring.jwks().as_bytes().to_vec();
        Box::pin(async move { Ok(bytes) })
    }
}

fn remote_config(max_age: Duration, cooldown: Duration) -> RemoteJwksConfig {
    RemoteJwksConfig {
        max_age,
        cooldown,
        ..RemoteJwksConfig::default()
    }
}

/// A client rotating daily (lead 2 h for a server cache of 1 h) and a
/// server following its published set with the given cache age.
struct Rotating {
    clock: Arc<ManualClock>,
    ring: Arc<KeyRing>,
    signer: AssertionSigner,
    fetcher: Arc<RingFetcher>,
    verifier: Verifier,
}

fn rotating(server_max_age: Duration) -> Rotating {
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let policy = RotationPolicy::new(DAY)
        .lead_time(2 * HOUR)
        .server_cache_age(HOUR);
    let ring = Arc::new(
        KeyRing::new(
            policy,
            Arc::new(MemoryKeyFactory::new(KeyType::Ed25519)),
            clock.clone(),
        )
        .unwrap(),
    );
    let signer = AssertionSigner::builder(ring.clone(), CLIENT, ISSUER)
        .clock(clock.clone())
        .build()
        .unwrap();
    let fetcher = Arc::new(RingFetcher {
        ring: ring.clone(),
        fetches: AtomicUsize::new(0),
    });
    let registry = Arc::new(registry());
    registry
        .register_remote(
            CLIENT,
            fetcher.clone(),
            remote_config(server_max_age, Duration::from_secs(30)),
        )
        .unwrap();
    let verifier = Verifier::builder(ISSUER, registry)
        .clock(clock.clone())
        .build()
        .unwrap();
    Rotating {
        clock,
        ring,
        signer,
        fetcher,
        verifier,
    }
}

#[test]
fn policy_validation_enforces_the_timing_rules() {
    let ok = RotationPolicy::new(DAY)
        .lead_time(2 * HOUR)
        .server_cache_age(HOUR);
    ok.validate().unwrap();
    let kind = |p: RotationPolicy| p.validate().unwrap_err().kind();
    assert_eq!(
        kind(
            RotationPolicy::new(DAY)
                .lead_time(HOUR)
                .server_cache_age(2 * HOUR)
        ),
        ErrorKind::InvalidConfig,
        "lead time shorter than the server cache age"
    );
    assert_eq!(
        kind(RotationPolicy::new(DAY).lead_time(DAY)),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        kind(RotationPolicy::new(Duration::ZERO)),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        kind(RotationPolicy::new(DAY).grace(Duration::from_secs(60))),
        ErrorKind::InvalidConfig,
        "grace shorter than the assertion window"
    );
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let err = KeyRing::new(
        RotationPolicy::new(DAY)
            .lead_time(Duration::from_secs(10))
            .server_cache_age(HOUR),
        Arc::new(MemoryKeyFactory::new(KeyType::Ed25519)),
        clock,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
}

#[test]
fn ring_states_and_etag_follow_the_schedule() {
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let policy = RotationPolicy::new(DAY)
        .lead_time(2 * HOUR)
        .server_cache_age(HOUR);
    let ring = KeyRing::new(
        policy,
        Arc::new(MemoryKeyFactory::new(KeyType::P256)),
        clock.clone(),
    )
    .unwrap();
    let states = |r: &KeyRing| r.keys().into_iter().map(|(_, s)| s).collect::<Vec<_>>();
    assert_eq!(states(&ring), vec![KeyState::Active]);
    let v1 = ring.jwks();
    ring.tick().unwrap();
    assert_eq!(ring.jwks(), v1, "no change, same document and ETag");

    clock.advance(DAY - 2 * HOUR);
    ring.tick().unwrap();
    assert_eq!(states(&ring), vec![KeyState::Active, KeyState::Next]);
    let v2 = ring.jwks();
    assert_ne!(v2.etag(), v1.etag());
    assert_eq!(v2.version(), v1.version() + 1);

    clock.advance(2 * HOUR);
    ring.tick().unwrap();
    assert_eq!(states(&ring), vec![KeyState::Active, KeyState::Retired]);
    clock.advance(Duration::from_secs(3900));
    ring.tick().unwrap();
    assert_eq!(states(&ring), vec![KeyState::Active]);
    assert_eq!(
        ring.jwks().version(),
        4,
        "initial, +next, next->active, -retired"
    );
    // Never a private member in the published set.
    for member in ["\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"k\""] {
        assert!(!ring.jwks().as_str().contains(member));
    }
}

#[test]
fn a_simulated_year_of_daily_rotation_fails_no_request() {
    let Rotating {
        clock,
        signer,
        fetcher,
        verifier,
        ..
    } = rotating(HOUR);

    let mut kids = std::collections::HashSet::new();
    let minutes = 365 * 24 * 60;
    for minute in 0..minutes {
        let assertion = signer
            .sign()
            .unwrap_or_else(|e| panic!("minute {minute}: sign: {e}"));
        kids.insert(assertion.kid().to_owned());
        block_on(verifier.verify_async(assertion.as_str()))
            .unwrap_or_else(|e| panic!("minute {minute}: verify: {e}"));
        clock.advance(Duration::from_secs(60));
    }
    assert!(kids.len() >= 365, "rotated daily: {} keys", kids.len());
    let fetches = fetcher.fetches.load(Ordering::SeqCst);
    // One refresh per cache age (hourly), none forced by an unknown kid.
    assert!(fetches <= 365 * 24 + 1, "{fetches} fetches");
}

#[test]
fn revoking_a_compromised_key_switches_signing_and_rejects_its_assertions() {
    let Rotating {
        clock,
        ring,
        signer,
        verifier,
        ..
    } = rotating(Duration::from_secs(40));

    // Get to the part of the day where a next key is published.
    clock.advance(DAY - HOUR);
    ring.tick().unwrap();
    let stolen = signer.sign().unwrap();
    let before = signer.sign().unwrap();
    block_on(verifier.verify_async(before.as_str())).unwrap();

    ring.revoke(stolen.kid()).unwrap();
    assert!(!ring.jwks().as_str().contains(stolen.kid()));
    let after = signer.sign().unwrap();
    assert_ne!(after.kid(), stolen.kid(), "the next key took over at once");
    block_on(verifier.verify_async(after.as_str())).unwrap();

    // Once the server's view is refreshed, the revoked key's assertions fail.
    clock.advance(Duration::from_secs(45));
    let err = block_on(verifier.verify_async(stolen.as_str())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey);

    // With no next key ready, revoking the active key makes signing fail
    // loudly until the ring has created a replacement.
    let current = signer.sign().unwrap().kid().to_owned();
    ring.revoke(&current).unwrap();
    assert!(ring.keys().iter().all(|(k, _)| *k != current));
    let replacement = signer.sign().unwrap();
    assert_ne!(replacement.kid(), current);
    assert_eq!(
        ring.keys()
            .iter()
            .filter(|(_, s)| *s == KeyState::Active)
            .count(),
        1
    );
}

#[derive(Debug)]
struct FailingFactory;

impl KeyFactory for FailingFactory {
    fn create(
        &self,
        _activates_at: std::time::SystemTime,
    ) -> Result<Arc<dyn KeySource>, client_assertion::Error> {
        Err(client_assertion::Error::with_source(
            ErrorKind::KeyBackend,
            "HSM offline",
        ))
    }
}

#[test]
fn a_failing_factory_never_stops_the_active_key() {
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let active: Arc<dyn KeySource> =
        Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()));
    let ring = KeyRing::with_active(
        RotationPolicy::new(DAY).lead_time(2 * HOUR),
        Arc::new(FailingFactory),
        clock.clone(),
        active.clone(),
    )
    .unwrap();
    let signer = AssertionSigner::builder(Arc::new(ring), CLIENT, ISSUER)
        .clock(clock.clone())
        .build()
        .unwrap();
    for _ in 0..3 {
        clock.advance(DAY);
        assert_eq!(signer.sign().unwrap().kid(), active.kid());
    }
}

/// A fetcher that is slow and serves a fixed set, counting fetches.
#[derive(Debug)]
struct SlowFetcher {
    jwks: String,
    fetches: AtomicUsize,
}

impl JwksFetcher for SlowFetcher {
    fn fetch<'a>(&'a self, _client_id: &'a str) -> FetchFuture<'a> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            std::thread::sleep(Duration::from_millis(50));
            Ok(self.jwks.clone().into_bytes())
        })
    }
}

#[test]
fn a_refresh_storm_of_unknown_kids_fetches_at_most_once_per_cooldown() {
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let key = Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()));
    let fetcher = Arc::new(SlowFetcher {
        jwks: client_assertion::jwk_set([&*key]).to_json(),
        fetches: AtomicUsize::new(0),
    });
    let registry = Arc::new(registry());
    registry
        .register_remote(CLIENT, fetcher.clone(), RemoteJwksConfig::default())
        .unwrap();
    let verifier = Arc::new(
        Verifier::builder(ISSUER, registry.clone())
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let signer = AssertionSigner::builder(key, CLIENT, ISSUER)
        .clock(clock.clone())
        .build()
        .unwrap();
    block_on(verifier.verify_async(signer.sign().unwrap().as_str())).unwrap();
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 1);

    // Leave the cooldown, then 10 000 tokens with unknown kids at once.
    clock.advance(Duration::from_secs(31));
    let strangers: Vec<String> = (0..10_000)
        .map(|i| {
            let k = Arc::new(
                PrivateKey::generate(KeyType::Ed25519)
                    .unwrap()
                    .with_kid(format!("unknown-{i}")),
            );
            AssertionSigner::builder(k, CLIENT, ISSUER)
                .clock(clock.clone())
                .build()
                .unwrap()
                .sign()
                .unwrap()
                .into_string()
        })
        .collect();
    let strangers = Arc::new(strangers);
    let go = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (v, s, go) = (verifier.clone(), strangers.clone(), go.clone());
            std::thread::spawn(move || {
                while !go.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
                let mut kinds: HashMap<ErrorKind, usize> = HashMap::new();
                for token in s.iter().skip(t).step_by(8) {
                    let e = block_on(v.verify_async(token)).unwrap_err();
                    *kinds.entry(e.kind()).or_default() += 1;
                }
                kinds
            })
        })
        .collect();
    go.store(true, Ordering::SeqCst);
    let mut total = 0;
    for t in threads {
        let kinds = t.join().unwrap();
        assert_eq!(
            kinds.keys().copied().collect::<Vec<_>>(),
            vec![ErrorKind::UnknownKey]
        );
        total += kinds.values().sum::<usize>();
    }
    assert_eq!(total, 10_000);
    assert_eq!(
        fetcher.fetches.load(Ordering::SeqCst),
        2,
        "one fetch for the whole storm"
    );
    assert_eq!(registry.remote_fetch_count(CLIENT), Some(2));
}

#[derive(Debug)]
struct BrokenFetcher {
    good: Mutex<Option<String>>,
}

impl JwksFetcher for BrokenFetcher {
    fn fetch<'a>(&'a self, _client_id: &'a str) -> FetchFuture<'a> {
        let r = self.good.lock().unwrap().clone();
        Box::pin(async move {
            r.map(String::into_bytes)
                .ok_or(client_assertion::Error::with_source(
                    ErrorKind::KeysUnavailable,
                    "connection refused",
                ))
        })
    }
}

#[test]
fn a_failed_fetch_keeps_the_last_good_set_then_fails_closed() {
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let key = Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()));
    let fetcher = Arc::new(BrokenFetcher {
        good: Mutex::new(None),
    });
    let registry = Arc::new(registry());
    let config = remote_config(Duration::from_secs(300), Duration::from_secs(30));
    registry
        .register_remote(CLIENT, fetcher.clone(), config)
        .unwrap();
    let verifier = Verifier::builder(ISSUER, registry)
        .clock(clock.clone())
        .build()
        .unwrap();
    let signer = AssertionSigner::builder(key.clone(), CLIENT, ISSUER)
        .clock(clock.clone())
        .build()
        .unwrap();
    // Nothing known yet and the fetch fails: a typed error.
    let e = block_on(verifier.verify_async(signer.sign().unwrap().as_str())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KeysUnavailable);
    // The sync path never fetches.
    assert_eq!(
        verifier
            .verify(signer.sign().unwrap().as_str())
            .unwrap_err()
            .kind(),
        ErrorKind::KeysUnavailable
    );

    *fetcher.good.lock().unwrap() = Some(client_assertion::jwk_set([&*key]).to_json());
    clock.advance(Duration::from_secs(31));
    block_on(verifier.verify_async(signer.sign().unwrap().as_str())).unwrap();
    verifier.verify(signer.sign().unwrap().as_str()).unwrap();

    // The source breaks: the stale set is used for max_age + stale_if_error.
    *fetcher.good.lock().unwrap() = None;
    clock.advance(Duration::from_secs(1800));
    block_on(verifier.verify_async(signer.sign().unwrap().as_str())).unwrap();
    clock.advance(Duration::from_secs(3600));
    let e = block_on(verifier.verify_async(signer.sign().unwrap().as_str())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KeysUnavailable);
}

#[test]
fn statically_registered_clients_are_unchanged() {
    let key = Arc::new(on_backend(PrivateKey::generate(KeyType::P256).unwrap()));
    let registry = Arc::new(registry());
    registry
        .register("static", &client_assertion::jwk_set([&*key]))
        .unwrap();
    let verifier = Verifier::builder(ISSUER, registry)
        .policy(Policy::new(ISSUER))
        .build()
        .unwrap();
    let signer = AssertionSigner::builder(key, "static", ISSUER)
        .build()
        .unwrap();
    verifier.verify(signer.sign().unwrap().as_str()).unwrap();
    block_on(verifier.verify_async(signer.sign().unwrap().as_str())).unwrap();
}

#[test]
fn file_factory_writes_owner_only_files_a_directory_ring_agrees_with() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let policy = RotationPolicy::new(DAY).lead_time(2 * HOUR);
    let ring = KeyRing::new(
        policy,
        Arc::new(FileKeyFactory::new(dir.path(), KeyType::P256)),
        clock.clone(),
    )
    .unwrap();
    clock.advance(DAY - HOUR);
    ring.tick().unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    #[cfg(unix)]
    for f in &files {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{f:?}");
    }
    let dir_ring = DirectoryKeyRing::open_with(dir.path(), clock.clone()).unwrap();
    let expect: Vec<_> = ring.keys();
    let active = expect
        .iter()
        .find(|(_, s)| *s == KeyState::Active)
        .unwrap()
        .clone();
    assert_eq!(dir_ring.kid(), active.0);
    let mut published: Vec<String> = dir_ring
        .published_jwks()
        .iter()
        .map(|j| j.kid().to_owned())
        .collect();
    let mut ring_published: Vec<String> = expect.into_iter().map(|(k, _)| k).collect();
    published.sort();
    ring_published.sort();
    assert_eq!(published, ring_published);
    // The next key was published one hour before the scheduled rotation,
    // so it activates a lead time (two hours) later; both agree.
    clock.advance(HOUR);
    ring.tick().unwrap();
    dir_ring.reload();
    assert_eq!(dir_ring.kid(), active.0, "not yet");
    clock.advance(HOUR);
    ring.tick().unwrap();
    dir_ring.reload();
    let ring_active = ring
        .keys()
        .into_iter()
        .find(|(_, s)| *s == KeyState::Active)
        .unwrap();
    assert_eq!(dir_ring.kid(), ring_active.0);
}

#[test]
fn directory_ring_survives_files_appearing_breaking_and_vanishing_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let write = |name: &str, bytes: &[u8]| {
        let tmp = dir.path().join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, dir.path().join(name)).unwrap();
    };
    let keys: Vec<PrivateKey> = (0..4)
        .map(|_| on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()))
        .collect();
    let registry = Arc::new(registry());
    registry
        .register(CLIENT, &client_assertion::jwk_set(keys.iter()))
        .unwrap();
    let verifier = Arc::new(
        Verifier::builder(ISSUER, registry)
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    write(
        "key-1699999000.pem",
        keys[0].to_pkcs8_pem().unwrap().as_bytes(),
    );
    let ring = Arc::new(
        DirectoryKeyRing::open_with(dir.path(), clock.clone())
            .unwrap()
            .with_check_interval(Duration::ZERO),
    );
    let signer = Arc::new(
        AssertionSigner::builder(ring.clone(), CLIENT, ISSUER)
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (signer, verifier, stop) = (signer.clone(), verifier.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) && n < 20_000 {
                    let a = signer.sign().expect("a bad file never fails a signature");
                    verifier
                        .dangerous()
                        .verify_without_replay_check(a.as_str())
                        .expect("every signature verifies");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let pause = || std::thread::sleep(Duration::from_millis(20));
    for round in 0..10 {
        // A new key appears (already due), then gets garbled, then truncated,
        // then a next key appears, then files vanish.
        write(
            "key-1699999500.pem",
            keys[1].to_pkcs8_pem().unwrap().as_bytes(),
        );
        pause();
        write(
            "key-1699999500.pem",
            b"-----BEGIN PRIVATE KEY-----\ngarbage\n",
        );
        pause();
        let pem = keys[2].to_pkcs8_pem().unwrap();
        write("key-1699999800.pem", &pem.as_bytes()[..pem.len() / 2]);
        pause();
        write(
            "key-1800000000.pem",
            keys[3].to_pkcs8_pem().unwrap().as_bytes(),
        );
        pause();
        std::fs::remove_file(dir.path().join("key-1699999500.pem")).unwrap();
        std::fs::remove_file(dir.path().join("key-1699999800.pem")).unwrap();
        if round % 2 == 1 {
            std::fs::remove_file(dir.path().join("key-1800000000.pem")).unwrap();
        }
        pause();
    }
    // Everything gone: the key in service stays in service.
    for e in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    pause();
    stop.store(true, Ordering::SeqCst);
    let signed: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(signed > 0);
    signer.sign().expect("still signing with the last good key");
    let problems = ring.reload();
    assert_eq!(
        problems.len(),
        1,
        "the empty directory is reported: {problems:?}"
    );
    assert_eq!(problems[0].1.kind(), ErrorKind::InvalidKey);
}
