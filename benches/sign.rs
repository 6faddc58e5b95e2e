//! Signing cost per algorithm, side by side in one group (`sign/<ALG>`):
//!
//! - `end_to_end`: [`AssertionSigner::sign`] with an in-memory key (header,
//!   claims, `jti`, base64url, signature, final token);
//! - `raw`: the bare RustCrypto signature primitive over a signing input of
//!   the same length (taken from a real assertion: everything before the
//!   last `.`).
//!
//! Both sides sign with identical key material: each key is generated with
//! RustCrypto, exported to PKCS#8 DER and loaded with
//! [`PrivateKey::from_der`]; before measuring, the real assertion's signature
//! is verified with the raw key's public half.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::{Algorithm, AssertionSigner, PrivateKey};
use criterion::{criterion_group, criterion_main, Criterion};
use pkcs8::EncodePrivateKey;
// One `signature` major (3) and one `pkcs8` (0.11) for every key type.
use p256::elliptic_curve::Generate as _;
use rsa::signature::{Signer, Verifier};
use rsa::PrivateKey as RsaPrivateKey;
use sha2::Sha256;

/// Benchmarks one algorithm: `der` is the PKCS#8 key both sides use, `raw`
/// signs with the RustCrypto key, `verify` checks a signature with its
/// public half (to prove the key material is the same).
fn compare<S>(
    c: &mut Criterion,
    alg: Algorithm,
    der: &[u8],
    raw: impl Fn(&[u8]) -> S,
    verify: impl Fn(&[u8], &[u8]) -> bool,
) {
    let key = PrivateKey::from_der(der)
        .and_then(|k| k.with_algorithm(alg))
        .expect("the PKCS#8 key loads and fits the algorithm");
    let signer = AssertionSigner::builder(Arc::new(key), "bench-client", "https://as.example.com")
        .build()
        .expect("signer");

    // A real assertion: its signing input is what `raw` signs.
    let token = signer.sign().expect("sign").into_string();
    let (input, signature) = token.rsplit_once('.').expect("compact JWS");
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("base64url signature");
    assert!(
        verify(input.as_bytes(), &signature),
        "{}: the assertion does not verify with the raw key",
        alg.name()
    );
    let input = input.as_bytes().to_vec();

    let mut group = c.benchmark_group(format!("sign/{}", alg.name()));
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    if matches!(alg, Algorithm::Rs256 | Algorithm::Ps256) {
        group.sample_size(20);
    }
    group.bench_function("end_to_end", |b| {
        b.iter(|| signer.sign().expect("sign"));
    });
    group.bench_function("raw", |b| b.iter(|| raw(black_box(&input))));
    group.finish();
}

fn es256(c: &mut Criterion) {
    let sk = p256::ecdsa::SigningKey::generate();
    let der = sk.to_pkcs8_der().expect("P-256 PKCS#8");
    let vk = *sk.verifying_key();
    compare(
        c,
        Algorithm::Es256,
        der.as_bytes(),
        |msg| -> p256::ecdsa::Signature { sk.sign(msg) },
        |msg, sig| {
            p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        },
    );
}

fn es384(c: &mut Criterion) {
    let sk = p384::ecdsa::SigningKey::generate();
    let der = sk.to_pkcs8_der().expect("P-384 PKCS#8");
    let vk = *sk.verifying_key();
    compare(
        c,
        Algorithm::Es384,
        der.as_bytes(),
        |msg| -> p384::ecdsa::Signature { sk.sign(msg) },
        |msg, sig| {
            p384::ecdsa::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        },
    );
}

fn eddsa(c: &mut Criterion) {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("OS RNG");
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    let der = sk.to_pkcs8_der().expect("Ed25519 PKCS#8");
    let vk = sk.verifying_key();
    compare(
        c,
        Algorithm::EdDsa,
        der.as_bytes(),
        |msg| sk.sign(msg),
        |msg, sig| {
            ed25519_dalek::Signature::from_slice(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        },
    );
}

fn rsa_2048() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA-2048 key")
}

fn rs256(c: &mut Criterion) {
    let key = rsa_2048();
    let der = key.to_pkcs8_der().expect("RSA PKCS#8");
    let sk = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
    let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.to_public_key());
    compare(
        c,
        Algorithm::Rs256,
        der.as_bytes(),
        // Blinded with the OS RNG, as the crate signs.
        |msg| sk.sign(msg),
        |msg, sig| {
            rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        },
    );
}

fn ps256(c: &mut Criterion) {
    let key = rsa_2048();
    let der = key.to_pkcs8_der().expect("RSA PKCS#8");
    let sk = rsa::pss::SigningKey::<Sha256>::new(key.clone());
    let vk = rsa::pss::VerifyingKey::<Sha256>::new(key.to_public_key());
    compare(
        c,
        Algorithm::Ps256,
        der.as_bytes(),
        |msg| sk.sign(msg),
        |msg, sig| rsa::pss::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok()),
    );
}

criterion_group!(benches, es256, es384, eddsa, rs256, ps256);
criterion_main!(benches);
