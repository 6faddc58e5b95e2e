//! client-assertion next to its peers, per algorithm, in one group
//! (`peers/<ALG>`), on the same key and the same token bytes:
//!
//! | id | what runs |
//! |---|---|
//! | `ours/sign` | `AssertionSigner::sign` (header, claims, fresh `jti`, signature, token) |
//! | `ours/verify` | `Verifier::verify` end to end (parse, header rules, key, signature, claims, `jti` check-and-insert in a `MemoryReplayCache`) |
//! | `raw/sign`, `raw/verify` | the bare RustCrypto primitive over the same signing input / signature bytes |
//! | `rsa-0.9/sign` | RSA groups only: the same signature with `rsa` 0.9 (blinded, not constant time: RUSTSEC-2023-0071), the version before ours |
//! | `ours-aws-lc/sign`, `ours-aws-lc/verify` | the same two on `Backend::AwsLc` (key and registry converted once) |
//! | `raw-aws-lc/sign`, `raw-aws-lc/verify` | the bare aws-lc-rs primitive (`EcdsaKeyPair`, `Ed25519KeyPair`, `RsaKeyPair`, `ParsedPublicKey`) on the same bytes |
//! | `jsonwebtoken-<backend>/encode` | `jsonwebtoken::encode` of the same claims and header (`kid`, `typ`) |
//! | `jsonwebtoken-<backend>/decode` | `jsonwebtoken::decode` with a `Validation` like our policy (alg, `aud`, `iss`, `sub`, `exp`/`nbf`, 30 s leeway, `exp`/`iss`/`sub`/`aud` required, `jti` required by the claims type) |
//! | `jwt-simple/sign`, `jwt-simple/verify` | jwt-simple (pure-Rust build) `sign_with_options` / `verify_token` with comparable `VerificationOptions` |
//!
//! Groups: `ES256`, `ES384`, `EdDSA`, `RS256`, `PS256` (RSA-2048), and
//! `RS256-4096`, `PS256-4096`.
//!
//! `<backend>` is the jsonwebtoken `CryptoProvider` installed from the
//! `JWT_BACKEND` environment variable: `rust_crypto` (default) or
//! `aws_lc_rs`. Every verifier checks the tokens minted by our signer; before
//! measuring, each peer's token is also checked by our verifier, which
//! proves that all sides hold the same key.
//!
//! ```text
//! JWT_BACKEND=rust_crypto cargo bench -- --noplot
//! JWT_BACKEND=aws_lc_rs   cargo bench -- --noplot
//! ```
//! (`scripts/bench.sh` at the repository root runs both and summarises.)
//!
//! Every benchmark times this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`)
//! rather than wall time, so that time spent preempted by other processes
//! on a busy machine is not counted against whichever benchmark happened to
//! be running; `BENCH_CLOCK=wall` measures wall time instead. Criterion
//! still labels the figures "time". Each timed loop also runs at the next
//! of a sweep of stack offsets (see `at_stack_offset`), so that where this
//! process's stack happens to start cannot favour one side.

use std::collections::HashSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use aws_lc_rs::signature::{
    self as lc, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ParsedPublicKey, RsaKeyPair,
};
use client_assertion::{Algorithm, AssertionSigner, Backend, ClientRegistry, jwk_set, KeySource, MemoryReplayCache, PrivateKey, Verifier};
use client_assertion::time::{Clock, ManualClock};
use criterion::Criterion;
use jwt_simple::prelude as js;
use jwt_simple::prelude::{
    ECDSAP256KeyPairLike as _, ECDSAP256PublicKeyLike as _, ECDSAP384KeyPairLike as _,
    ECDSAP384PublicKeyLike as _, EdDSAKeyPairLike as _, EdDSAPublicKeyLike as _,
    RSAKeyPairLike as _, RSAPublicKeyLike as _,
};
use pkcs8::EncodePrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
// One `signature` major (3) and one `pkcs8` (0.11) for every key type.
use p256::elliptic_curve::Generate as _;
use rsa::signature::{SignatureEncoding as _, Signer, Verifier as _};
use rsa::PrivateKey as RsaPrivateKey;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Assertions minted per algorithm for the verifying benchmarks.
const POOL: usize = 1024;
const CLIENT: &str = "bench-client";
const AUDIENCE: &str = "https://as.example.com";
const TYP: &str = "client-authentication+jwt";
/// Token lifetime: long enough that the peers' real-time `exp` checks never
/// fire during a run (our verifier runs on a fixed clock).
const LIFETIME: Duration = Duration::from_secs(3600);

/// The jsonwebtoken crypto backend of this run.
fn install_jsonwebtoken_backend() -> &'static str {
    let backend = std::env::var("JWT_BACKEND").unwrap_or_else(|_| "rust_crypto".into());
    let (name, provider) = match backend.as_str() {
        "rust_crypto" => (
            "rust_crypto",
            &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        ),
        "aws_lc_rs" => ("aws_lc_rs", &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER),
        other => panic!("JWT_BACKEND must be rust_crypto or aws_lc_rs, not {other:?}"),
    };
    provider
        .install_default()
        .expect("the jsonwebtoken provider is installed once");
    name
}

/// The registered claims as jsonwebtoken (de)serialises them; `jti` is
/// required by the type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct JwtClaims {
    iss: String,
    sub: String,
    aud: String,
    jti: String,
    iat: u64,
    nbf: u64,
    exp: u64,
}

type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;
type VerifyFn = Box<dyn Fn(&[u8], &[u8]) -> bool>;
type JwsSignFn = Box<dyn Fn(js::JWTClaims<js::NoCustomClaims>, &js::HeaderOptions) -> String>;
type JwsVerifyFn = Box<dyn Fn(&str, js::VerificationOptions) -> bool>;
/// Builds jwt-simple's signer and verifier for a `kid`.
type JwsFactory = Box<dyn Fn(&str) -> (JwsSignFn, JwsVerifyFn)>;

/// One algorithm's key, as every side loads it.
struct Case {
    /// The group name: the algorithm's, with the modulus size for RSA-4096.
    label: String,
    alg: Algorithm,
    jwt_alg: jsonwebtoken::Algorithm,
    /// PKCS#8 DER: our key and (for EC and Ed25519) jsonwebtoken's.
    pkcs8: Vec<u8>,
    encoding_key: jsonwebtoken::EncodingKey,
    raw_sign: SignFn,
    raw_verify: VerifyFn,
    /// RSA only: the same signature made with `rsa` 0.9.
    rsa09_sign: Option<SignFn>,
    /// jwt-simple's signer and verifier, given the `kid` to carry.
    jws: JwsFactory,
}

/// What the benchmarks time.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stopwatch {
    /// This thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), the default: time
    /// spent preempted by other processes on a busy machine is not counted.
    ThreadCpu,
    /// Wall time (`BENCH_CLOCK=wall`), as criterion measures by default.
    Wall,
}

fn stopwatch() -> Stopwatch {
    static CHOICE: OnceLock<Stopwatch> = OnceLock::new();
    *CHOICE.get_or_init(|| match std::env::var("BENCH_CLOCK").as_deref() {
        Ok("wall") => Stopwatch::Wall,
        Ok("cpu") | Err(_) => Stopwatch::ThreadCpu,
        Ok(other) => panic!("BENCH_CLOCK must be cpu or wall, not {other:?}"),
    })
}

/// The current reading of the [`stopwatch`].
fn now() -> Duration {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    match stopwatch() {
        Stopwatch::Wall => EPOCH.get_or_init(Instant::now).elapsed(),
        Stopwatch::ThreadCpu => {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `ts` is a valid, writable timespec for the whole call.
            let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
            Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
        }
    }
}

/// Stack depths swept by [`at_stack_offset`]: frames of a few dozen
/// bytes, so together more than a 4 KiB page of offsets.
const STACK_OFFSETS: usize = 128;

/// Runs `f` `depth` (small) stack frames further down.
///
/// The elliptic-curve code keeps large tables on the stack, and its speed
/// depends on where they land relative to other data (4 KiB aliasing): on
/// one process layout the same Ed25519 verification can differ by 20 %
/// depending only on the stack offset. Every timed loop runs at the next
/// offset of a sweep, so each benchmark's mean covers the same layouts.
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

/// Runs `f` `iters` times at the next stack offset; returns the
/// [`stopwatch`] time taken.
fn timed_loop<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    at_stack_offset(next_offset(), &mut || {
        let start = now();
        for _ in 0..iters {
            black_box(f());
        }
        now() - start
    })
}

/// Runs `iters` iterations of `one` over `items` (cycled), calling `fresh`
/// untimed before each pass over the pool, each pass at the next stack
/// offset; returns the [`stopwatch`] total.
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
            let start = now();
            for item in &items[..n] {
                one(&state, item);
            }
            now() - start
        });
        drop(state);
        left -= n as u64;
    }
    total
}

/// The bare aws-lc-rs primitive for `alg` on the PKCS#8 key: a signer and
/// a verifier over a public key parsed once.
fn aws_lc_raw(alg: Algorithm, pkcs8: &[u8]) -> (SignFn, VerifyFn) {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    match alg {
        Algorithm::Es256 | Algorithm::Es384 => {
            let (signing, verifying) = if alg == Algorithm::Es256 {
                (&lc::ECDSA_P256_SHA256_FIXED_SIGNING, &lc::ECDSA_P256_SHA256_FIXED)
            } else {
                (&lc::ECDSA_P384_SHA384_FIXED_SIGNING, &lc::ECDSA_P384_SHA384_FIXED)
            };
            let kp = EcdsaKeyPair::from_pkcs8(signing, pkcs8).expect("aws-lc EC key");
            let pk = ParsedPublicKey::new(verifying, kp.public_key().as_ref()).expect("EC point");
            (
                Box::new(move |m| kp.sign(&rng, m).expect("sign").as_ref().to_vec()),
                Box::new(move |m, sig| pk.verify_sig(m, sig).is_ok()),
            )
        }
        Algorithm::EdDsa => {
            let kp = Ed25519KeyPair::from_pkcs8(pkcs8).expect("aws-lc Ed25519 key");
            let pk = ParsedPublicKey::new(&lc::ED25519, kp.public_key().as_ref()).expect("point");
            (
                Box::new(move |m| kp.sign(m).as_ref().to_vec()),
                Box::new(move |m, sig| pk.verify_sig(m, sig).is_ok()),
            )
        }
        Algorithm::Rs256 | Algorithm::Ps256 => {
            let (padding, verifying): (&'static dyn lc::RsaEncoding, _) =
                if alg == Algorithm::Rs256 {
                    (&lc::RSA_PKCS1_SHA256, &lc::RSA_PKCS1_2048_8192_SHA256)
                } else {
                    (&lc::RSA_PSS_SHA256, &lc::RSA_PSS_2048_8192_SHA256)
                };
            let kp = RsaKeyPair::from_pkcs8(pkcs8).expect("aws-lc RSA key");
            let pk = ParsedPublicKey::new(verifying, kp.public_key().as_ref()).expect("RSA key");
            (
                Box::new(move |m| {
                    let mut sig = vec![0; kp.public_modulus_len()];
                    kp.sign(padding, &rng, m, &mut sig).expect("sign");
                    sig
                }),
                Box::new(move |m, sig| pk.verify_sig(m, sig).is_ok()),
            )
        }
        other => panic!("no aws-lc primitive for {other}"),
    }
}

fn run(c: &mut Criterion, backend: &str, case: Case) {
    let name = case.label.as_str();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at_unix(now));

    // Ours.
    let key = PrivateKey::from_der(&case.pkcs8)
        .and_then(|k| k.with_algorithm(case.alg))
        .expect("the PKCS#8 key loads and fits the algorithm");
    let kid = key.kid().to_owned();
    let jwks = jwk_set([&key]);
    let signer = AssertionSigner::builder(Arc::new(key), CLIENT, AUDIENCE)
        .lifetime(LIFETIME)
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
    // Ours on AWS-LC: the same key converted once, a registry of that backend.
    let lc_key = PrivateKey::from_der(&case.pkcs8)
        .and_then(|k| k.with_algorithm(case.alg))
        .and_then(|k| k.with_backend(Backend::AwsLc))
        .expect("the key converts to AWS-LC");
    assert_eq!(lc_key.kid(), kid, "the backend does not change the kid");
    let lc_signer = AssertionSigner::builder(Arc::new(lc_key), CLIENT, AUDIENCE)
        .lifetime(LIFETIME)
        .clock(clock.clone())
        .build()
        .expect("signer");
    let lc_registry = Arc::new(ClientRegistry::with_backend(Backend::AwsLc));
    lc_registry.register(CLIENT, &jwks).expect("register");
    let lc_verifier = || {
        Verifier::builder(AUDIENCE, lc_registry.clone())
            .clock(clock.clone())
            .replay_cache(Arc::new(MemoryReplayCache::default()))
            .build()
            .expect("verifier")
    };
    let (lc_raw_sign, lc_raw_verify) = aws_lc_raw(case.alg, &case.pkcs8);

    let tokens: Vec<String> = (0..POOL)
        .map(|_| signer.sign().expect("sign").into_string())
        .collect();
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = tokens
        .iter()
        .map(|t| {
            let (input, sig) = t.rsplit_once('.').expect("compact JWS");
            let sig = URL_SAFE_NO_PAD.decode(sig).expect("base64url signature");
            (input.as_bytes().to_vec(), sig)
        })
        .collect();
    let payload = tokens[0].split('.').nth(1).expect("payload");
    let payload = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");

    // jsonwebtoken: the same claims, header kid and typ; the registered JWK.
    let claims: JwtClaims = serde_json::from_slice(&payload).expect("claims");
    let mut header = jsonwebtoken::Header::new(case.jwt_alg);
    header.kid = Some(kid.clone());
    header.typ = Some(TYP.into());
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_str(&jwks.keys()[0].to_json()).expect("jsonwebtoken reads our JWK");
    let decoding_key = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("decoding key");
    let mut validation = jsonwebtoken::Validation::new(case.jwt_alg);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[CLIENT]);
    validation.sub = Some(CLIENT.into());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 30;
    validation.validate_exp = true;
    validation.validate_nbf = true;

    // jwt-simple: the same claims, kid and typ.
    let jws_claims: js::JWTClaims<js::NoCustomClaims> =
        serde_json::from_slice(&payload).expect("jwt-simple claims");
    let jws_header = js::HeaderOptions {
        signature_type: Some(TYP.into()),
        ..Default::default()
    };
    let jws_options = js::VerificationOptions {
        allowed_issuers: Some(HashSet::from([CLIENT.to_owned()])),
        allowed_audiences: Some(HashSet::from([AUDIENCE.to_owned()])),
        required_subject: Some(CLIENT.into()),
        required_key_id: Some(kid.clone()),
        time_tolerance: Some(js::Duration::from_secs(30)),
        // Ours: at most 5 min of age; a real-time check here must not fire
        // during the run, and the comparison costs the same either way.
        max_validity: Some(js::Duration::from_secs(LIFETIME.as_secs())),
        max_token_length: Some(8192),
        ..Default::default()
    };
    let (jws_sign, jws_verify) = (case.jws)(&kid);

    // Every side agrees on every token, and ours accepts each peer's token.
    let check = verifier();
    let lc_check = lc_verifier();
    for (t, (input, sig)) in tokens.iter().zip(&pairs) {
        check.verify(t).expect("our verifier accepts our token");
        lc_check.verify(t).expect("our AWS-LC verifier accepts our token");
        assert!((case.raw_verify)(input, sig), "{name}: raw verify");
        assert!(lc_raw_verify(input, sig), "{name}: raw aws-lc verify");
        jsonwebtoken::decode::<JwtClaims>(t, &decoding_key, &validation)
            .unwrap_or_else(|e| panic!("{name}: jsonwebtoken decode: {e}"));
        assert!(
            jws_verify(t, jws_options.clone()),
            "{name}: jwt-simple verify"
        );
    }
    let lc_token = lc_signer.sign().expect("AWS-LC sign").into_string();
    let (lc_input, lc_sig) = lc_token.rsplit_once('.').expect("compact JWS");
    let lc_sig = URL_SAFE_NO_PAD.decode(lc_sig).expect("base64url");
    assert!((case.raw_verify)(lc_input.as_bytes(), &(lc_raw_sign)(lc_input.as_bytes())));
    assert!((case.raw_verify)(lc_input.as_bytes(), &lc_sig));
    let theirs = [
        jsonwebtoken::encode(&header, &claims, &case.encoding_key).expect("jsonwebtoken encode"),
        jws_sign(jws_claims.clone(), &jws_header),
        lc_token,
    ];
    for t in &theirs {
        let ok = check
            .dangerous()
            .verify_without_replay_check(t)
            .unwrap_or_else(|e| panic!("{name}: a peer's token is rejected: {e}"));
        assert_eq!(ok.kid(), kid);
    }
    drop(check);
    drop(lc_check);
    let input = pairs[0].0.clone();
    if let Some(old) = &case.rsa09_sign {
        // RS256 is deterministic: rsa 0.9 makes our very signature.
        let sig = old(&input);
        assert!((case.raw_verify)(&input, &sig), "{name}: rsa 0.9 signs with the same key");
        if case.alg == Algorithm::Rs256 {
            assert_eq!(sig, pairs[0].1, "{name}: rsa 0.9 and 0.10 agree");
        }
    }

    let mut group = c.benchmark_group(format!("peers/{name}"));
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    if matches!(case.alg, Algorithm::Rs256 | Algorithm::Ps256) {
        // RSA signing takes milliseconds (RSA-4096 tens of them).
        group.sample_size(if case.label.ends_with("4096") { 10 } else { 20 });
    }

    group.bench_function("ours/sign", |b| {
        b.iter_custom(|iters| timed_loop(iters, || signer.sign().expect("sign")));
    });
    group.bench_function("raw/sign", |b| {
        b.iter_custom(|iters| timed_loop(iters, || (case.raw_sign)(black_box(&input))));
    });
    if let Some(old) = &case.rsa09_sign {
        group.bench_function("rsa-0.9/sign", |b| {
            b.iter_custom(|iters| timed_loop(iters, || old(black_box(&input))));
        });
    }
    group.bench_function("ours-aws-lc/sign", |b| {
        b.iter_custom(|iters| timed_loop(iters, || lc_signer.sign().expect("sign")));
    });
    group.bench_function("raw-aws-lc/sign", |b| {
        b.iter_custom(|iters| timed_loop(iters, || lc_raw_sign(black_box(&input))));
    });
    group.bench_function(format!("jsonwebtoken-{backend}/encode"), |b| {
        b.iter_custom(|iters| {
            timed_loop(iters, || {
                jsonwebtoken::encode(black_box(&header), black_box(&claims), &case.encoding_key)
                    .expect("encode")
            })
        });
    });
    group.bench_function("jwt-simple/sign", |b| {
        b.iter_custom(|iters| {
            timed_loop(iters, || {
                jws_sign(black_box(jws_claims.clone()), &jws_header)
            })
        });
    });

    group.bench_function("ours/verify", |b| {
        b.iter_custom(|iters| {
            timed_passes(iters, &tokens, &verifier, |v, t| {
                black_box(v.verify(black_box(t)).expect("verify"));
            })
        });
    });
    group.bench_function("raw/verify", |b| {
        b.iter_custom(|iters| {
            timed_passes(
                iters,
                &pairs,
                || (),
                |(), (input, sig)| assert!((case.raw_verify)(black_box(input), black_box(sig))),
            )
        });
    });
    group.bench_function("ours-aws-lc/verify", |b| {
        b.iter_custom(|iters| {
            timed_passes(iters, &tokens, &lc_verifier, |v, t| {
                black_box(v.verify(black_box(t)).expect("verify"));
            })
        });
    });
    group.bench_function("raw-aws-lc/verify", |b| {
        b.iter_custom(|iters| {
            timed_passes(
                iters,
                &pairs,
                || (),
                |(), (input, sig)| assert!(lc_raw_verify(black_box(input), black_box(sig))),
            )
        });
    });
    group.bench_function(format!("jsonwebtoken-{backend}/decode"), |b| {
        b.iter_custom(|iters| {
            timed_passes(
                iters,
                &tokens,
                || (),
                |(), t| {
                    black_box(
                        jsonwebtoken::decode::<JwtClaims>(black_box(t), &decoding_key, &validation)
                            .expect("decode"),
                    );
                },
            )
        });
    });
    group.bench_function("jwt-simple/verify", |b| {
        b.iter_custom(|iters| {
            timed_passes(
                iters,
                &tokens,
                || (),
                |(), t| assert!(jws_verify(black_box(t), jws_options.clone())),
            )
        });
    });
    group.finish();
}

fn es256() -> Case {
    let sk = p256::ecdsa::SigningKey::generate();
    let vk = *sk.verifying_key();
    let pkcs8 = sk.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec();
    let der = pkcs8.clone();
    Case {
        label: "ES256".into(),
        rsa09_sign: None,
        alg: Algorithm::Es256,
        jwt_alg: jsonwebtoken::Algorithm::ES256,
        encoding_key: jsonwebtoken::EncodingKey::from_ec_der(&pkcs8),
        pkcs8,
        raw_sign: Box::new(move |msg| {
            let s: p256::ecdsa::Signature = sk.sign(msg);
            s.to_vec()
        }),
        raw_verify: Box::new(move |msg, sig| {
            p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        }),
        jws: Box::new(move |kid| {
            let kp = js::ES256KeyPair::from_der(&der)
                .expect("jwt-simple key")
                .with_key_id(kid);
            let pk = kp.public_key();
            (
                Box::new(move |claims, opts| kp.sign_with_options(claims, opts).expect("sign")),
                Box::new(move |t, opts| {
                    pk.verify_token::<js::NoCustomClaims>(t, Some(opts)).is_ok()
                }),
            )
        }),
    }
}

fn es384() -> Case {
    let sk = p384::ecdsa::SigningKey::generate();
    let vk = *sk.verifying_key();
    let pkcs8 = sk.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec();
    let der = pkcs8.clone();
    Case {
        label: "ES384".into(),
        rsa09_sign: None,
        alg: Algorithm::Es384,
        jwt_alg: jsonwebtoken::Algorithm::ES384,
        encoding_key: jsonwebtoken::EncodingKey::from_ec_der(&pkcs8),
        pkcs8,
        raw_sign: Box::new(move |msg| {
            let s: p384::ecdsa::Signature = sk.sign(msg);
            s.to_vec()
        }),
        raw_verify: Box::new(move |msg, sig| {
            p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        }),
        jws: Box::new(move |kid| {
            let kp = js::ES384KeyPair::from_der(&der)
                .expect("jwt-simple key")
                .with_key_id(kid);
            let pk = kp.public_key();
            (
                Box::new(move |claims, opts| kp.sign_with_options(claims, opts).expect("sign")),
                Box::new(move |t, opts| {
                    pk.verify_token::<js::NoCustomClaims>(t, Some(opts)).is_ok()
                }),
            )
        }),
    }
}

fn eddsa() -> Case {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("OS RNG");
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let vk = sk.verifying_key();
    let pkcs8 = sk.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec();
    // jwt-simple (ed25519-compact) reads the 64-byte secret || public form,
    // not the PKCS#8 v2 document ed25519-dalek writes.
    let keypair = sk.to_keypair_bytes();
    Case {
        label: "EdDSA".into(),
        rsa09_sign: None,
        alg: Algorithm::EdDsa,
        jwt_alg: jsonwebtoken::Algorithm::EdDSA,
        encoding_key: jsonwebtoken::EncodingKey::from_ed_der(&pkcs8),
        pkcs8,
        raw_sign: Box::new(move |msg| sk.sign(msg).to_bytes().to_vec()),
        raw_verify: Box::new(move |msg, sig| {
            ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| vk.verify(msg, &s).is_ok())
        }),
        jws: Box::new(move |kid| {
            let kp = js::Ed25519KeyPair::from_bytes(&keypair)
                .expect("jwt-simple key")
                .with_key_id(kid);
            let pk = kp.public_key();
            (
                Box::new(move |claims, opts| kp.sign_with_options(claims, opts).expect("sign")),
                Box::new(move |t, opts| {
                    pk.verify_token::<js::NoCustomClaims>(t, Some(opts)).is_ok()
                }),
            )
        }),
    }
}

/// An RSA key: PKCS#8 for us, PKCS#1 for jsonwebtoken; jwt-simple
/// reads whichever of the two its backend accepts.
struct RsaKey {
    key: RsaPrivateKey,
    pkcs8: Vec<u8>,
    pkcs1: Vec<u8>,
}

fn rsa_key(bits: usize) -> RsaKey {
    let key = RsaPrivateKey::new(&mut getrandom::SysRng, bits).expect("RSA key");
    let pkcs8 = key.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec();
    let pkcs1 = key.to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec();
    RsaKey { key, pkcs8, pkcs1 }
}

/// The `rsa` 0.9 key of the same PKCS#8 document.
fn rsa09_key(pkcs8: &[u8]) -> rsa09::RsaPrivateKey {
    use rsa09::pkcs8::DecodePrivateKey as _;
    rsa09::RsaPrivateKey::from_pkcs8_der(pkcs8).expect("rsa 0.9 reads the key")
}

/// The group name for an RSA case of `bits` bits.
fn rsa_label(alg: Algorithm, bits: usize) -> String {
    if bits == 2048 {
        alg.name().into()
    } else {
        format!("{}-{bits}", alg.name())
    }
}

fn rs256(bits: usize) -> Case {
    let RsaKey { key, pkcs8, pkcs1 } = rsa_key(bits);
    let sk = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
    let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.to_public_key());
    let old = rsa09::pkcs1v15::SigningKey::<rsa09::sha2::Sha256>::new(rsa09_key(&pkcs8));
    let der = [pkcs8.clone(), pkcs1.clone()];
    Case {
        label: rsa_label(Algorithm::Rs256, bits),
        rsa09_sign: Some(Box::new(move |msg| {
            use rsa09::signature::{RandomizedSigner as _, SignatureEncoding as _};
            old.sign_with_rng(&mut rand::thread_rng(), msg).to_vec()
        })),
        alg: Algorithm::Rs256,
        jwt_alg: jsonwebtoken::Algorithm::RS256,
        encoding_key: jsonwebtoken::EncodingKey::from_rsa_der(&pkcs1),
        pkcs8,
        // Blinded with the OS RNG, as our signer does.
        raw_sign: Box::new(move |msg| sk.sign(msg).to_vec()),
        raw_verify: Box::new(move |msg, sig| {
            rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        }),
        jws: Box::new(move |kid| {
            let kp = js::RS256KeyPair::from_der(&der[0])
                .or_else(|_| js::RS256KeyPair::from_der(&der[1]))
                .expect("jwt-simple key")
                .with_key_id(kid);
            let pk = kp.public_key();
            (
                Box::new(move |claims, opts| kp.sign_with_options(claims, opts).expect("sign")),
                Box::new(move |t, opts| {
                    pk.verify_token::<js::NoCustomClaims>(t, Some(opts)).is_ok()
                }),
            )
        }),
    }
}

fn ps256(bits: usize) -> Case {
    let RsaKey { key, pkcs8, pkcs1 } = rsa_key(bits);
    let sk = rsa::pss::SigningKey::<Sha256>::new(key.clone());
    let vk = rsa::pss::VerifyingKey::<Sha256>::new(key.to_public_key());
    let old = rsa09::pss::BlindedSigningKey::<rsa09::sha2::Sha256>::new(rsa09_key(&pkcs8));
    let der = [pkcs8.clone(), pkcs1.clone()];
    Case {
        label: rsa_label(Algorithm::Ps256, bits),
        rsa09_sign: Some(Box::new(move |msg| {
            use rsa09::signature::{RandomizedSigner as _, SignatureEncoding as _};
            old.sign_with_rng(&mut rand::thread_rng(), msg).to_vec()
        })),
        alg: Algorithm::Ps256,
        jwt_alg: jsonwebtoken::Algorithm::PS256,
        encoding_key: jsonwebtoken::EncodingKey::from_rsa_der(&pkcs1),
        pkcs8,
        raw_sign: Box::new(move |msg| sk.sign(msg).to_vec()),
        raw_verify: Box::new(move |msg, sig| {
            rsa::pss::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        }),
        jws: Box::new(move |kid| {
            let kp = js::PS256KeyPair::from_der(&der[0])
                .or_else(|_| js::PS256KeyPair::from_der(&der[1]))
                .expect("jwt-simple key")
                .with_key_id(kid);
            let pk = kp.public_key();
            (
                Box::new(move |claims, opts| kp.sign_with_options(claims, opts).expect("sign")),
                Box::new(move |t, opts| {
                    pk.verify_token::<js::NoCustomClaims>(t, Some(opts)).is_ok()
                }),
            )
        }),
    }
}

fn main() {
    let backend = install_jsonwebtoken_backend();
    println!("jsonwebtoken backend: {backend}; timing: {:?}", stopwatch());
    let mut criterion = Criterion::default().configure_from_args();
    let cases: [fn() -> Case; 7] = [
        es256,
        es384,
        eddsa,
        || rs256(2048),
        || ps256(2048),
        || rs256(4096),
        || ps256(4096),
    ];
    for case in cases {
        run(&mut criterion, backend, case());
    }
    criterion.final_summary();
}
