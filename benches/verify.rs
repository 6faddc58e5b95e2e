//! Verification cost per algorithm, side by side in one group (`verify/<ALG>`):
//!
//! - `end_to_end`: [`Verifier::verify`] (bounded parse, header rules, client
//!   and key lookup, signature, claims, and the `jti` check-and-insert in a
//!   [`MemoryReplayCache`] of default capacity);
//! - `without_replay`: the same pipeline minus the replay check
//!   (`dangerous().verify_without_replay_check`), to split the overhead;
//! - `raw`: the bare RustCrypto primitive (`p256`/`p384` `VerifyingKey::verify`,
//!   `ed25519_dalek` `verify` (what the verifier calls, after its small-order
//!   `R` check), `rsa` PKCS#1 v1.5 / PSS
//!   `VerifyingKey::verify`) over the very signing inputs and signature bytes
//!   of the same tokens, with the same key.
//!
//! Every accepted assertion needs a fresh `jti`, so a pool of [`POOL`]
//! assertions is minted before measuring; the timed loop walks the pool and,
//! when it is used up, swaps in a fresh verifier (new empty replay cache)
//! *outside* the timed region (`iter_custom`). The clock is a
//! [`ManualClock`] standing at the tokens' `iat`, so nothing expires.
//!
//! Before each group, under `cargo bench`, a *paired* measurement
//! alternates short blocks of `end_to_end` and `raw` on the same tokens,
//! sweeping the stack offset, and prints the ratio of the totals
//! (`verify/<ALG>/paired`), on on-CPU time (wall time minus the time the
//! thread sat preempted, from `/proc/thread-self/schedstat`): on a busy
//! machine that ratio is far steadier than two criterion means taken
//! seconds apart, and it does not depend on where this process's stack
//! happens to start (see [`at_stack_offset`]: that alone moves EdDSA
//! verification by up to 20 %).
//!
//! The criterion figures count on-CPU time too (wall time minus the time
//! the thread waited for a CPU), unless `BENCH_CLOCK=wall`, and each pass
//! over the token pool runs at the next stack offset.
//!
//! ```text
//! cargo bench --bench verify -- --noplot
//! ```
//! Target: `end_to_end` within 1.10x of `raw`.
//!
//! `verify_federated/<ALG>` does the same for the federated verifier
//! ([`federated`]): Kubernetes-shaped tokens against a preset rule, also
//! within 1.10x of `raw`.

mod support;

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::time::{Clock, ManualClock};
use client_assertion::{
    jwk_set, Algorithm, AssertionSigner, ClientRegistry, MemoryReplayCache, PrivateKey, Verifier,
};
use criterion::{criterion_group, criterion_main, Criterion};
use pkcs8::EncodePrivateKey;
use support::{criterion_home, measure, run_delay, timed};
// One `signature` major (3) and one `pkcs8` (0.11) for every key type.
use p256::elliptic_curve::Generate as _;
use rsa::signature::Verifier as _;
use rsa::PrivateKey as RsaPrivateKey;
use sha2::Sha256;

/// Assertions minted per algorithm (each verifies once per verifier).
const POOL: usize = 1024;
const CLIENT: &str = "bench-client";
const AUDIENCE: &str = "https://as.example.com";
/// The fixed time of the bench clock (and so every token's `iat`).
const NOW: u64 = 1_750_000_000;
/// How long the paired measurement of each algorithm runs.
const PAIRED_BUDGET: Duration = Duration::from_secs(3);

/// Stack depths swept by [`at_stack_offset`]: frames of a few dozen
/// bytes, so together more than a 4 KiB page of offsets.
const STACK_OFFSETS: usize = 128;

/// Runs `f` `depth` (small) stack frames further down.
///
/// The elliptic-curve code keeps large tables on the stack, and its speed
/// depends on where they land relative to other data (4 KiB aliasing):
/// measured on one process layout, the same verification can differ by
/// 20 % depending only on the stack offset (e.g. the size of the
/// environment). Sweeping the offset averages both sides of a comparison
/// over the same set of layouts.
#[inline(never)]
fn at_stack_offset<R>(depth: usize, f: &mut dyn FnMut() -> R) -> R {
    let pad = black_box([0u8; 16]);
    let r = if depth == 0 {
        f()
    } else {
        at_stack_offset(depth - 1, f)
    };
    black_box(&pad);
    r
}

/// The next stack depth of the sweep (a scrambled cycle over all offsets).
fn next_offset() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) * 37 % STACK_OFFSETS
}

/// Runs `iters` iterations of `one` over `items` (cycled), calling `fresh`
/// untimed before each pass over the pool, each pass at the next stack
/// offset; returns the [`measure`]d total.
fn timed_passes<S, T>(
    iters: u64,
    items: &[T],
    mut fresh: impl FnMut() -> S,
    mut one: impl FnMut(&S, &T),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(items.len() as u64) as usize;
        let state = fresh();
        total += at_stack_offset(next_offset(), &mut || {
            measure(|| {
                for item in &items[..n] {
                    one(&state, item);
                }
            })
        });
        drop(state);
        left -= n as u64;
    }
    total
}

/// Whether this run measures (`cargo bench`, not `--test` mode) the group
/// `group`, as far as a plain substring filter goes.
fn measuring(group: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test") {
        return false;
    }
    args.iter()
        .filter(|a| !a.starts_with('-'))
        .all(|filter| group.contains(filter.as_str()))
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// A paired measurement that a busy machine cannot skew: short blocks of
/// `end_to_end` and `raw` alternate (in alternating order) for about
/// [`PAIRED_BUDGET`], both blocks of a round timing the same tokens at the
/// same stack offset (the rounds sweep [`STACK_OFFSETS`], see
/// [`at_stack_offset`]). The result is the ratio of the two on-CPU totals
/// (wall time minus the time spent preempted, see [`run_delay`]), with the
/// median per-round ratio and the wall-time ratio beside it; it is printed
/// and written next to criterion's results for `scripts/bench.sh`.
fn paired(
    alg: Algorithm,
    tokens: &[String],
    pairs: &[(Vec<u8>, Vec<u8>)],
    verifier: impl Fn() -> Verifier,
    raw: &impl Fn(&[u8], &[u8]) -> bool,
) {
    let time_raw = |range: std::ops::Range<usize>| {
        timed(|| {
            for (input, sig) in &pairs[range] {
                assert!(raw(black_box(input), black_box(sig)));
            }
        })
    };
    let time_e2e = |range: std::ops::Range<usize>| {
        let v = verifier();
        timed(|| {
            for t in &tokens[range] {
                black_box(v.verify(black_box(t)).expect("verify"));
            }
        })
    };
    // Blocks of about 5 ms.
    let one = time_raw(0..8).0 / 8;
    let block = ((Duration::from_millis(5).as_nanos() / one.as_nanos().max(1)) as usize)
        .clamp(4, tokens.len());
    let mut per_round = Vec::new();
    let [mut e2e_cpu, mut raw_cpu, mut e2e_wall, mut raw_wall] = [Duration::ZERO; 4];
    let started = Instant::now();
    let mut offset = 0;
    let mut round = 0;
    while started.elapsed() < PAIRED_BUDGET || round < 2 * STACK_OFFSETS {
        if offset + block > tokens.len() {
            offset = 0;
        }
        let range = offset..offset + block;
        let depth = round * 37 % STACK_OFFSETS;
        let (e, r) = at_stack_offset(depth, &mut || {
            if round % 2 == 0 {
                (time_e2e(range.clone()), time_raw(range.clone()))
            } else {
                let r = time_raw(range.clone());
                (time_e2e(range.clone()), r)
            }
        });
        // Without schedstat, on-CPU time falls back to wall time.
        let (ec, rc) = (e.1.unwrap_or(e.0), r.1.unwrap_or(r.0));
        per_round.push(ec.as_secs_f64() / rc.as_secs_f64());
        e2e_cpu += ec;
        raw_cpu += rc;
        e2e_wall += e.0;
        raw_wall += r.0;
        offset += block;
        round += 1;
    }
    let clock = if run_delay().is_some() {
        "on_cpu"
    } else {
        "wall"
    };
    let ratio = e2e_cpu.as_secs_f64() / raw_cpu.as_secs_f64();
    let wall = e2e_wall.as_secs_f64() / raw_wall.as_secs_f64();
    let median = median(per_round).unwrap_or(f64::NAN);
    let ops = (round * block) as f64;
    let (e2e_ns, raw_ns) = (
        e2e_cpu.as_nanos() as f64 / ops,
        raw_cpu.as_nanos() as f64 / ops,
    );
    println!(
        "verify/{}/paired: end_to_end / raw = {ratio:.3} ({clock} totals over {round} rounds \
         of {block} sweeping {STACK_OFFSETS} stack offsets; median round {median:.3}; \
         wall {wall:.3}; means {:.2} µs vs {:.2} µs)",
        alg.name(),
        e2e_ns / 1e3,
        raw_ns / 1e3,
    );
    let dir = criterion_home().join("verify");
    if std::fs::create_dir_all(&dir).is_ok() {
        let json = format!(
            "{{\"ratio\":{ratio:.4},\"clock\":\"{clock}\",\"ratio_median_round\":{median:.4},\
             \"ratio_wall\":{wall:.4},\"rounds\":{round},\"block\":{block},\
             \"stack_offsets\":{STACK_OFFSETS},\"end_to_end_ns\":{e2e_ns:.0},\
             \"raw_ns\":{raw_ns:.0}}}\n"
        );
        let _ = std::fs::write(dir.join(format!("paired-{}.json", alg.name())), json);
    }
}

/// Benchmarks one algorithm: `der` is the PKCS#8 key the signer uses, `raw`
/// checks a signature with the RustCrypto public key of the same key pair.
fn compare(c: &mut Criterion, alg: Algorithm, der: &[u8], raw: impl Fn(&[u8], &[u8]) -> bool) {
    let key = PrivateKey::from_der(der)
        .and_then(|k| k.with_algorithm(alg))
        .expect("the PKCS#8 key loads and fits the algorithm");
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at_unix(NOW));
    let jwks = jwk_set([&key]);
    let signer = AssertionSigner::builder(Arc::new(key), CLIENT, AUDIENCE)
        .clock(clock.clone())
        .build()
        .expect("signer");
    let registry = Arc::new(ClientRegistry::new());
    registry.register(CLIENT, &jwks).expect("register");
    let verifier = || {
        Verifier::builder(AUDIENCE, registry.clone())
            .clock(clock.clone())
            .replay_cache(Arc::new(MemoryReplayCache::default()))
            .build()
            .expect("verifier")
    };

    let tokens: Vec<String> = (0..POOL)
        .map(|_| signer.sign().expect("sign").into_string())
        .collect();
    // The raw side's inputs: signing input and decoded signature of each token.
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = tokens
        .iter()
        .map(|t| {
            let (input, sig) = t.rsplit_once('.').expect("compact JWS");
            let sig = URL_SAFE_NO_PAD.decode(sig).expect("base64url signature");
            (input.as_bytes().to_vec(), sig)
        })
        .collect();
    // Same key material and every token good on both sides.
    let check = verifier();
    for (t, (input, sig)) in tokens.iter().zip(&pairs) {
        check.verify(t).expect("the assertion verifies");
        assert!(raw(input, sig), "{}: raw verification failed", alg.name());
    }
    drop(check);

    let group_name = format!("verify/{}", alg.name());
    if measuring(&group_name) {
        paired(alg, &tokens, &pairs, verifier, &raw);
    }
    let mut group = c.benchmark_group(group_name);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("end_to_end", |b| {
        b.iter_custom(|iters| {
            timed_passes(iters, &tokens, &verifier, |v, t| {
                black_box(v.verify(black_box(t)).expect("verify"));
            })
        });
    });
    group.bench_function("without_replay", |b| {
        let v = verifier();
        b.iter_custom(|iters| {
            timed_passes(
                iters,
                &tokens,
                || (),
                |(), t| {
                    black_box(
                        v.dangerous()
                            .verify_without_replay_check(black_box(t))
                            .expect("verify"),
                    );
                },
            )
        });
    });
    group.bench_function("raw", |b| {
        b.iter_custom(|iters| {
            timed_passes(
                iters,
                &pairs,
                || (),
                |(), (input, sig)| {
                    assert!(raw(black_box(input), black_box(sig)));
                },
            )
        });
    });
    group.finish();
}

fn es256(c: &mut Criterion) {
    let sk = p256::ecdsa::SigningKey::generate();
    let der = sk.to_pkcs8_der().expect("P-256 PKCS#8");
    let vk = *sk.verifying_key();
    compare(c, Algorithm::Es256, der.as_bytes(), |msg, sig| {
        p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
    });
}

fn es384(c: &mut Criterion) {
    let sk = p384::ecdsa::SigningKey::generate();
    let der = sk.to_pkcs8_der().expect("P-384 PKCS#8");
    let vk = *sk.verifying_key();
    compare(c, Algorithm::Es384, der.as_bytes(), |msg, sig| {
        p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
    });
}

fn eddsa(c: &mut Criterion) {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("OS RNG");
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let der = sk.to_pkcs8_der().expect("Ed25519 PKCS#8");
    let vk = sk.verifying_key();
    compare(c, Algorithm::EdDsa, der.as_bytes(), |msg, sig| {
        ed25519_dalek::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
    });
}

fn rsa_2048() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA-2048 key")
}

fn rs256(c: &mut Criterion) {
    let key = rsa_2048();
    let der = key.to_pkcs8_der().expect("RSA PKCS#8");
    let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.to_public_key());
    compare(c, Algorithm::Rs256, der.as_bytes(), |msg, sig| {
        rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
    });
}

fn ps256(c: &mut Criterion) {
    let key = rsa_2048();
    let der = key.to_pkcs8_der().expect("RSA PKCS#8");
    let vk = rsa::pss::VerifyingKey::<Sha256>::new(key.to_public_key());
    compare(c, Algorithm::Ps256, der.as_bytes(), |msg, sig| {
        rsa::pss::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
    });
}

/// The federated verifier (`federation::FederatedVerifier`, a Kubernetes
/// preset rule: screen, anchor lookup, signature, claims, rule matching,
/// no `jti` record as the preset says) against the raw primitive on the
/// same Kubernetes-shaped tokens: group `verify_federated/<ALG>`, with a
/// paired ratio (alternating blocks, on-CPU totals) printed first.
fn federated(c: &mut Criterion, alg: Algorithm, der: &[u8], raw: impl Fn(&[u8], &[u8]) -> bool) {
    use client_assertion::federation::{FederatedVerifier, TrustKeys, TrustRule};
    use client_assertion::KeySource as _;
    const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
    let key = PrivateKey::from_der(der)
        .and_then(|k| k.with_algorithm(alg))
        .expect("key");
    let rule = TrustRule::kubernetes("bench-workload", ISSUER, TrustKeys::Jwks(jwk_set([&key])))
        .service_account("bench", "workload")
        .build()
        .expect("rule");
    let verifier = FederatedVerifier::builder(AUDIENCE)
        .rule(rule)
        .clock(Arc::new(ManualClock::at_unix(NOW)))
        .build()
        .expect("verifier");
    let header = format!(r#"{{"alg":"{}","kid":"{}"}}"#, alg.name(), key.kid());
    let tokens: Vec<String> = (0..64)
        .map(|i| {
            let claims = format!(
                r#"{{"aud":["{AUDIENCE}"],"exp":{},"iat":{NOW},"iss":"{ISSUER}","jti":"j-{i}","kubernetes.io":{{"namespace":"bench","pod":{{"name":"workload-{i}","uid":"778a530c-b3f4-47c0-9cd5-ab018fb64f33"}},"serviceaccount":{{"name":"workload","uid":"a087d5a0-e1dd-43ec-93ac-f13d89cd13af"}}}},"nbf":{NOW},"sub":"system:serviceaccount:bench:workload"}}"#,
                NOW + 3600
            );
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(&header),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let sig = key.sign(alg, input.as_bytes()).expect("sign");
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
        })
        .collect();
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = tokens
        .iter()
        .map(|t| {
            let (input, sig) = t.rsplit_once('.').expect("compact JWS");
            (
                input.as_bytes().to_vec(),
                URL_SAFE_NO_PAD.decode(sig).expect("b64"),
            )
        })
        .collect();
    for t in &tokens {
        verifier.verify(t).expect("the federated token verifies");
    }
    let group_name = format!("verify_federated/{}", alg.name());
    if measuring(&group_name) {
        let [mut fed, mut prim] = [Duration::ZERO; 2];
        let started = Instant::now();
        let mut round = 0usize;
        while started.elapsed() < PAIRED_BUDGET || round < 2 * STACK_OFFSETS {
            let depth = round * 37 % STACK_OFFSETS;
            let (f, r) = at_stack_offset(depth, &mut || {
                let f = measure(|| {
                    for t in &tokens {
                        black_box(verifier.verify(black_box(t)).expect("verify"));
                    }
                });
                let r = measure(|| {
                    for (input, sig) in &pairs {
                        assert!(raw(black_box(input), black_box(sig)));
                    }
                });
                (f, r)
            });
            fed += f;
            prim += r;
            round += 1;
        }
        println!(
            "{group_name}/paired: federated / raw = {:.3} ({round} rounds of {})",
            fed.as_secs_f64() / prim.as_secs_f64(),
            tokens.len()
        );
    }
    let mut group = c.benchmark_group(group_name);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("federated", |b| {
        b.iter_custom(|iters| {
            timed_passes(
                iters,
                &tokens,
                || (),
                |(), t| {
                    black_box(verifier.verify(black_box(t)).expect("verify"));
                },
            )
        });
    });
    group.bench_function("raw", |b| {
        b.iter_custom(|iters| {
            timed_passes(
                iters,
                &pairs,
                || (),
                |(), (input, sig)| {
                    assert!(raw(black_box(input), black_box(sig)));
                },
            )
        });
    });
    group.finish();
}

fn federated_es256(c: &mut Criterion) {
    let sk = p256::ecdsa::SigningKey::generate();
    let der = sk.to_pkcs8_der().expect("P-256 PKCS#8");
    let vk = *sk.verifying_key();
    federated(c, Algorithm::Es256, der.as_bytes(), |msg, sig| {
        p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
    });
}

fn federated_rs256(c: &mut Criterion) {
    let key = rsa_2048();
    let der = key.to_pkcs8_der().expect("RSA PKCS#8");
    let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.to_public_key());
    federated(c, Algorithm::Rs256, der.as_bytes(), |msg, sig| {
        rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
    });
}

criterion_group!(
    benches,
    es256,
    es384,
    eddsa,
    rs256,
    ps256,
    federated_es256,
    federated_rs256
);
criterion_main!(benches);
