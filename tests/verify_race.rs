//! Two threads present the same assertions at the same time, 100 000
//! presentations in all: every `jti` is accepted exactly once, every other
//! presentation is `replayed`.
//!
//! Ed25519 keeps the (debug-mode) test fast; the tokens are minted up front
//! so that the threads do nothing but verify.

#[path = "common/backend.rs"]
mod backend;

use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use backend::{on_backend, registry};
use client_assertion::time::ManualClock;
use client_assertion::{jwk_set, AssertionSigner, KeyType, PrivateKey, Verifier};

const ISSUER: &str = "https://as.example.com";
const DISTINCT: usize = 50_000;
const THREADS: usize = 2;

#[test]
fn each_jti_is_accepted_exactly_once_across_threads() {
    let started = Instant::now();
    let clock = Arc::new(ManualClock::at_unix(1_750_000_000));
    let registry = Arc::new(registry());
    let mut signers = Vec::new();
    for client in ["client-a", "client-b"] {
        let key = Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()));
        registry.register(client, &jwk_set([&*key])).unwrap();
        signers.push(
            AssertionSigner::builder(key, client, ISSUER)
                .clock(clock.clone())
                .build()
                .unwrap(),
        );
    }
    let verifier = Arc::new(
        Verifier::builder(ISSUER, registry)
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let tokens: Arc<Vec<(String, String)>> = Arc::new(
        (0..DISTINCT)
            .map(|i| {
                let a = signers[i % signers.len()].sign().unwrap();
                (a.jti().to_owned(), a.into_string())
            })
            .collect(),
    );
    let minted = started.elapsed();

    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (verifier, tokens, barrier) = (verifier.clone(), tokens.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let mut accepted = Vec::new();
                let mut replayed = 0usize;
                // Both threads walk the same order, so they race on each token.
                for (jti, token) in tokens.iter() {
                    match verifier.verify(token) {
                        Ok(v) => {
                            assert_eq!(v.jti(), jti);
                            accepted.push(v.jti().to_owned());
                        }
                        Err(e) => {
                            assert_eq!(
                                e.kind(),
                                client_assertion::ErrorKind::Replayed,
                                "unexpected rejection: {e}"
                            );
                            replayed += 1;
                        }
                    }
                }
                (accepted, replayed)
            })
        })
        .collect();

    let mut per_jti: HashMap<String, usize> = HashMap::new();
    let mut replayed = 0;
    for h in handles {
        let (accepted, r) = h.join().unwrap();
        replayed += r;
        for jti in accepted {
            *per_jti.entry(jti).or_default() += 1;
        }
    }
    assert_eq!(per_jti.len(), DISTINCT, "every jti accepted once");
    assert!(
        per_jti.values().all(|&n| n == 1),
        "a jti was accepted more than once"
    );
    assert_eq!(replayed, DISTINCT * (THREADS - 1), "all others replayed");
    assert_eq!(DISTINCT * THREADS, 100_000, "presentations in total");
    eprintln!(
        "minted {DISTINCT} in {minted:?}; {} presentations verified in {:?}",
        DISTINCT * THREADS,
        started.elapsed() - minted
    );
}
