//! Assertion signing through the PKCS#11 key source against a bare
//! `cryptoki` `C_SignInit` + `C_Sign` loop on the same ES256 key, on one
//! and on two threads, with SoftHSM2 (`scripts/softhsm.sh` installs it).
//!
//! ```text
//! cargo bench --manifest-path benches/Cargo.toml --features pkcs11 --bench pkcs11 -- --noplot
//! ```
//!
//! The bare loop signs a precomputed SHA-256 digest: the token's cost and
//! nothing else. The key source's figure adds everything an assertion
//! needs (header and claims, a fresh `jti`, base64url, the digest, a
//! session from the pool). With two threads, one iteration is one
//! signature on each thread, made at the same time.
//!
//! Criterion runs one benchmark after the other; on a machine shared with
//! other work the load can change in between. The run therefore ends with
//! the two loops measured in interleaved blocks, printing the median ratio
//! `assertion_signer / bare_c_sign` for one and two threads (the target is
//! at most 1.2).
//!
//! The token lives in a temporary directory (its own `SOFTHSM2_CONF`),
//! removed when the benchmark ends.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_assertion::keys::pkcs11::cryptoki::mechanism::Mechanism;
use client_assertion::keys::pkcs11::cryptoki::object::{Attribute, ObjectClass};
use client_assertion::keys::pkcs11::{self, Pin, Pkcs11Key};
use client_assertion::{AssertionSigner, KeyType};
use criterion::{black_box, Criterion};
use sha2::{Digest, Sha256};

#[path = "../tests/common/softhsm.rs"]
mod softhsm;

use softhsm::{MODULE, USER_PIN};

const TOKEN: &str = "client-assertion-bench";

fn bench(c: &mut Criterion) {
    let key = Arc::new(
        Pkcs11Key::builder(MODULE)
            .token_label(TOKEN)
            .pin(Pin::new(USER_PIN))
            .key_label("bench-es256")
            .generate(KeyType::P256)
            .unwrap(),
    );
    let signer = Arc::new(
        AssertionSigner::builder(key.clone(), "bench-client", "https://as.example.com")
            .build()
            .unwrap(),
    );

    // The bare loop's sessions: one per thread, on the same key.
    let ctx = pkcs11::context(MODULE).unwrap();
    let slot = key.slot_id().try_into().unwrap();
    let bare_session = || {
        let session = ctx.open_ro_session(slot).unwrap();
        // The key source keeps the application logged in.
        let handle = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(b"bench-es256".to_vec()),
            ])
            .unwrap()[0];
        (session, handle)
    };
    let digest = Sha256::digest(signer.sign().unwrap().as_str().as_bytes());

    let mut group = c.benchmark_group("pkcs11_es256");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(6));

    let (session, handle) = bare_session();
    group.bench_function("bare_c_sign/1_thread", |b| {
        b.iter(|| {
            black_box(
                session
                    .sign(&Mechanism::Ecdsa, handle, black_box(&digest))
                    .unwrap(),
            )
        })
    });
    drop(session);
    group.bench_function("assertion_signer/1_thread", |b| {
        b.iter(|| black_box(signer.sign().unwrap()))
    });

    // A session is Send but not Sync: each thread takes its own through an
    // (uncontended) mutex, once per batch.
    let sessions = [Mutex::new(bare_session()), Mutex::new(bare_session())];
    group.bench_function("bare_c_sign/2_threads", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for own in &sessions {
                    s.spawn(|| {
                        let (session, handle) = &*own.lock().unwrap();
                        for _ in 0..iters {
                            black_box(
                                session
                                    .sign(&Mechanism::Ecdsa, *handle, black_box(&digest))
                                    .unwrap(),
                            );
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    drop(sessions);
    group.bench_function("assertion_signer/2_threads", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        for _ in 0..iters {
                            black_box(signer.sign().unwrap());
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    group.finish();

    // The machine may be busy with other work whose load drifts between
    // criterion's benchmarks; blocks of the two loops interleaved give a
    // ratio that drift affects less.
    let bare = [Mutex::new(bare_session()), Mutex::new(bare_session())];
    for threads in [1, 2] {
        let ratio = interleaved_ratio(
            threads,
            |t| {
                let (session, handle) = &*bare[t].lock().unwrap();
                black_box(session.sign(&Mechanism::Ecdsa, *handle, &digest).unwrap());
            },
            |_| {
                black_box(signer.sign().unwrap());
            },
        );
        println!(
            "pkcs11_es256 interleaved, {threads} thread(s): assertion_signer / bare_c_sign = {ratio:.3} (median of {ROUNDS} rounds of {BLOCK} signatures per thread)"
        );
    }
}

const ROUNDS: usize = 31;
const BLOCK: u32 = 300;

/// The median, over interleaved rounds, of the time `b` takes over the
/// time `a` takes, each run `BLOCK` times on each of `threads` threads.
fn interleaved_ratio(threads: usize, a: impl Fn(usize) + Sync, b: impl Fn(usize) + Sync) -> f64 {
    let time = |f: &(dyn Fn(usize) + Sync)| {
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..threads {
                s.spawn(move || {
                    for _ in 0..BLOCK {
                        f(t);
                    }
                });
            }
        });
        start.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..ROUNDS).map(|_| time(&b) / time(&a)).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ROUNDS / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    softhsm::make_token(dir.path(), TOKEN);
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    drop(dir);
}
