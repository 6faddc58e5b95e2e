//! `MemoryReplayCache`: replays are caught until expiry, pairs are scoped
//! by client, a full cache fails closed without ever evicting an unexpired
//! entry, and concurrent presentations of one pair have exactly one winner.

#[path = "common/backend.rs"]
mod backend;

use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backend::{on_backend, registry};
use client_assertion::replay::{ReplayEntry, ReplayKind, ReplayScope};
use client_assertion::time::ManualClock;
use client_assertion::{
    jwk_set, ErrorKind, KeyType, MemoryReplayCache, PrivateKey, ReplayCache, Verifier,
};

const T0: u64 = 1_750_000_000;

/// The entry a client-authentication verifier for `"https://as.example.com"` records.
fn entry<'a>(client: &'a str, jti: &'a str, until: SystemTime, now: SystemTime) -> ReplayEntry<'a> {
    let scope = ReplayScope::new(
        ReplayKind::ClientAssertion,
        "https://as.example.com",
        client,
    );
    ReplayEntry::new(scope, jti, now).retain_until(until)
}

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

fn ms(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(T0 * 1000 + millis)
}

fn kind(r: Result<(), client_assertion::Error>) -> Option<ErrorKind> {
    r.err().map(|e| e.kind())
}

#[test]
fn replay_is_caught() {
    let c = MemoryReplayCache::with_capacity(1000);
    c.check_and_insert(&entry("client", "jti-1", t(90), t(0)))
        .unwrap();
    for now in [t(0), t(1), t(60), t(89)] {
        let err = c
            .check_and_insert(&entry("client", "jti-1", t(90), now))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Replayed);
        assert_eq!(err.code(), "replayed");
    }
    // A later `until` on the replay does not matter: still a replay.
    assert_eq!(
        kind(c.check_and_insert(&entry("client", "jti-1", t(5000), t(2)))),
        Some(ErrorKind::Replayed)
    );
    // Another jti is not.
    c.check_and_insert(&entry("client", "jti-2", t(90), t(2)))
        .unwrap();
    assert_eq!(c.len(), 2);
    assert!(!c.is_empty());
}

#[test]
fn expiry_is_honoured_to_the_millisecond() {
    let c = MemoryReplayCache::with_capacity(1000);
    c.check_and_insert(&entry("client", "j", ms(90_000), ms(0)))
        .unwrap();
    // Still remembered at its `until` instant (the contract: until it has
    // passed), forgotten right after.
    assert_eq!(
        kind(c.check_and_insert(&entry("client", "j", ms(200_000), ms(89_999)))),
        Some(ErrorKind::Replayed)
    );
    assert_eq!(
        kind(c.check_and_insert(&entry("client", "j", ms(200_000), ms(90_000)))),
        Some(ErrorKind::Replayed)
    );
    c.check_and_insert(&entry("client", "j", ms(200_000), ms(90_001)))
        .expect("expired entry: the pair may be recorded again");
    // ... and is then remembered with its new expiry.
    assert_eq!(
        kind(c.check_and_insert(&entry("client", "j", ms(300_000), ms(150_000)))),
        Some(ErrorKind::Replayed)
    );
    // An entry whose `until` already passed when recorded is accepted and
    // immediately stale.
    c.check_and_insert(&entry("client", "old", t(1), t(10)))
        .unwrap();
    c.check_and_insert(&entry("client", "old", t(20), t(11)))
        .unwrap();
}

#[test]
fn different_clients_same_jti_are_not_replays() {
    let c = MemoryReplayCache::with_capacity(1000);
    for client in ["a", "b", "c", "A", "a "] {
        c.check_and_insert(&entry(client, "shared", t(90), t(0)))
            .unwrap();
    }
    for client in ["a", "b", "c", "A", "a "] {
        assert_eq!(
            kind(c.check_and_insert(&entry(client, "shared", t(90), t(1)))),
            Some(ErrorKind::Replayed)
        );
    }
    // The (client, jti) boundary is unambiguous: "ab"+"c" is not "a"+"bc".
    c.check_and_insert(&entry("ab", "c", t(90), t(0))).unwrap();
    c.check_and_insert(&entry("a", "bc", t(90), t(0))).unwrap();
    c.check_and_insert(&entry("", "abc", t(90), t(0))).unwrap();
    c.check_and_insert(&entry("abc", "", t(90), t(0))).unwrap();
}

#[test]
fn long_and_odd_jtis_are_fingerprinted_not_confused() {
    let c = MemoryReplayCache::with_capacity(10_000);
    let long = "x".repeat(4096);
    let jtis = [
        long.clone(),
        format!("{long}y"),
        "é".into(),
        "\u{0}".into(),
        "\u{0}\u{0}".into(),
        String::new(),
    ];
    for j in &jtis {
        c.check_and_insert(&entry("client", j, t(90), t(0)))
            .unwrap();
    }
    for j in &jtis {
        assert_eq!(
            kind(c.check_and_insert(&entry("client", j, t(90), t(1)))),
            Some(ErrorKind::Replayed)
        );
    }
}

/// A full cache fails closed and never evicts an unexpired entry. (A
/// general-purpose cache such as moka, at capacity, evicted entries to make
/// room and let 488 of 1000 immediate replays through; here none may pass.)
#[test]
fn full_cache_fails_closed_and_never_evicts() {
    let c = MemoryReplayCache::with_capacity(1000);
    let capacity = c.capacity();
    assert!(capacity >= 1000);
    // Fill every shard: far more distinct pairs than the capacity.
    let mut accepted = Vec::new();
    for i in 0..40 * capacity {
        let jti = format!("jti-{i}");
        match c.check_and_insert(&entry("client", &jti, t(300), t(0))) {
            Ok(()) => accepted.push(jti),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ReplayCacheFull);
                assert_eq!(e.code(), "replay_cache_full");
            }
        }
    }
    assert_eq!(accepted.len(), capacity, "full, and never beyond capacity");
    assert_eq!(c.len(), capacity);

    // 1000 fresh presentations: all refused, nothing evicted for them.
    for i in 0..1000 {
        let jti = format!("fresh-{i}");
        assert_eq!(
            kind(c.check_and_insert(&entry("client", &jti, t(300), t(1)))),
            Some(ErrorKind::ReplayCacheFull)
        );
    }
    // 1000 immediate replays of accepted pairs: every one refused.
    let let_through = accepted[..1000]
        .iter()
        .filter(
            |jti| match c.check_and_insert(&entry("client", jti, t(300), t(2))) {
                Ok(()) => true,
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::Replayed);
                    false
                }
            },
        )
        .count();
    assert_eq!(let_through, 0, "no replay may pass a full cache");
    // Every accepted pair is still remembered, through its `until` instant.
    for jti in &accepted {
        assert_eq!(
            kind(c.check_and_insert(&entry("client", jti, t(400), t(300)))),
            Some(ErrorKind::Replayed)
        );
    }
    assert_eq!(c.len(), capacity);

    // Once the entries expire there is room again, for as many as before.
    for i in 0..capacity {
        c.check_and_insert(&entry("client", &format!("later-{i}"), t(900), t(301)))
            .ok();
    }
    assert!(c.len() > capacity / 2);
    assert!(c.len() <= capacity);
}

#[test]
fn full_cache_remembers_each_entry_until_its_own_expiry() {
    // Entries with staggered expiries in a cache that is full: each is
    // still remembered at its own `until`, whatever expired before it.
    let c = MemoryReplayCache::with_capacity(64); // one entry per shard
    let mut accepted = Vec::new();
    for i in 0..10_000u64 {
        let jti = format!("j{i}");
        if c.check_and_insert(&entry("c", &jti, t(100 + i % 50), t(0)))
            .is_ok()
        {
            accepted.push((jti, 100 + i % 50));
        }
    }
    assert!(!accepted.is_empty() && accepted.len() <= c.capacity());
    for (jti, until) in &accepted {
        assert_eq!(
            kind(c.check_and_insert(&entry("c", jti, t(1000), t(*until)))),
            Some(ErrorKind::Replayed),
            "unexpired at its until"
        );
    }
}

#[test]
fn verifier_fails_closed_on_a_full_cache() {
    let key = on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap());
    let registry = Arc::new(registry());
    registry.register("client", &jwk_set([&key])).unwrap();
    let cache = Arc::new(MemoryReplayCache::with_capacity(64));
    let clock = ManualClock::at_unix(T0);
    let verifier = Verifier::builder("https://as.example.com", registry)
        .replay_cache(cache.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let signer = client_assertion::AssertionSigner::builder(
        Arc::new(key),
        "client",
        "https://as.example.com",
    )
    .clock(Arc::new(clock.clone()))
    .build()
    .unwrap();
    let mut accepted = Vec::new();
    let mut full = 0;
    for _ in 0..300 {
        let a = signer.sign().unwrap();
        match verifier.verify(a.as_str()) {
            Ok(_) => accepted.push(a),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ReplayCacheFull);
                assert_eq!(
                    e.oauth_error(client_assertion::Usage::ClientAuthentication),
                    "temporarily_unavailable"
                );
                assert_eq!(e.token_response().status(), 503);
                full += 1;
            }
        }
    }
    assert!(full > 0);
    assert!(accepted.len() <= cache.capacity());
    for a in &accepted {
        assert_eq!(
            verifier.verify(a.as_str()).unwrap_err().kind(),
            ErrorKind::Replayed
        );
    }
    // After the assertions' replay window there is room again.
    clock.advance(Duration::from_secs(200));
    let a = signer.sign().unwrap();
    verifier.verify(a.as_str()).expect("room again");
}

#[test]
fn default_capacity() {
    let c = MemoryReplayCache::default();
    assert_eq!(c.capacity(), MemoryReplayCache::DEFAULT_CAPACITY);
    assert!(c.is_empty());
    assert!(format!("{c:?}").contains("MemoryReplayCache"));
    // Small capacities round up to one entry per shard.
    assert_eq!(MemoryReplayCache::with_capacity(0).capacity(), 64);
}

/// Several threads insert the same pairs at once: exactly one winner per
/// pair, every other call `replayed`.
#[test]
fn concurrent_inserts_have_exactly_one_winner_per_key() {
    const THREADS: usize = 8;
    const KEYS: usize = 5_000;
    let cache: Arc<dyn ReplayCache> = Arc::new(MemoryReplayCache::with_capacity(100_000));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|n| {
            let cache = cache.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                let mut wins = Vec::new();
                for i in 0..KEYS {
                    // Half the threads walk forwards, half backwards, so
                    // that they meet on every key.
                    let k = if n % 2 == 0 { i } else { KEYS - 1 - i };
                    let client = format!("client-{}", k % 7);
                    let jti = format!("jti-{k}");
                    match cache.check_and_insert(&entry(&client, &jti, t(300), t(0))) {
                        Ok(()) => wins.push(k),
                        Err(e) => assert_eq!(e.kind(), ErrorKind::Replayed),
                    }
                }
                wins
            })
        })
        .collect();
    let mut winners: HashMap<usize, usize> = HashMap::new();
    for h in handles {
        for k in h.join().unwrap() {
            *winners.entry(k).or_default() += 1;
        }
    }
    assert_eq!(winners.len(), KEYS, "every key has a winner");
    assert!(
        winners.values().all(|&n| n == 1),
        "exactly one winner per key"
    );
}
