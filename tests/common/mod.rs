//! Helpers shared by the integration tests: fixtures, an independent JWS
//! decoder, a jsonwebtoken-based verifier, a tiny `block_on`, and the crypto
//! backend under test ([`backend`], from `CLIENT_ASSERTION_TEST_BACKEND`).
#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use client_assertion::{Algorithm, KeyType, PublicJwk};
use serde_json::Value;

mod backend;
#[allow(unused_imports)]
pub use backend::{backend, on_backend, registry, BACKEND_VAR};

/// The path of a fixture in `tests/data`, found from this file's own place
/// (`tests/common/mod.rs`), so that the unpublished crate in `tests/suites`,
/// which includes this module, reads the same fixtures.
pub fn data(name: &str) -> PathBuf {
    // `file!()` is relative to the including crate's manifest directory
    // (each crate here is the root of its own workspace).
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file!());
    here.parent()
        .expect("tests/common")
        .join("../data")
        .join(name)
}

/// A fixture's bytes.
pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// A fixture's text.
pub fn read_str(name: &str) -> String {
    String::from_utf8(read(name)).expect("fixture is UTF-8")
}

/// A fixture parsed as JSON.
pub fn read_json(name: &str) -> Value {
    serde_json::from_slice(&read(name)).expect("fixture is JSON")
}

/// The four supported key fixtures: name, key type, and every private
/// encoding present in `tests/data`.
pub const KEYS: [(&str, KeyType, &[&str]); 4] = [
    (
        "p256",
        KeyType::P256,
        &["pkcs8.pem", "sec1.pem", "pkcs8.der", "sec1.der", "jwk.json"],
    ),
    (
        "p384",
        KeyType::P384,
        &["pkcs8.pem", "sec1.pem", "pkcs8.der", "sec1.der", "jwk.json"],
    ),
    (
        "ed25519",
        KeyType::Ed25519,
        &["pkcs8.pem", "pkcs8.der", "jwk.json"],
    ),
    (
        "rsa2048",
        KeyType::Rsa,
        &[
            "pkcs8.pem",
            "pkcs1.pem",
            "pkcs8.der",
            "pkcs1.der",
            "jwk.json",
        ],
    ),
];

/// The RFC 7638 thumbprint of a fixture key, as computed when the fixtures
/// were generated (Python `hashlib` over openssl's components).
pub fn expected_thumbprint(name: &str) -> String {
    read_json("thumbprints.json")[name]
        .as_str()
        .expect("thumbprint listed")
        .to_owned()
}

/// Strict unpadded base64url decoding.
pub fn b64url(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {text}"))
}

/// The DER inside a PEM block (standard base64 of the body lines).
pub fn pem_body_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':'))
        .collect();
    STANDARD.decode(body).expect("PEM body is base64")
}

/// A compact JWS split and decoded independently of the crate: header and
/// claims as JSON, raw signature bytes.
pub struct Jws {
    pub header: Value,
    pub claims: Value,
    pub signature: Vec<u8>,
}

pub fn split(token: &str) -> Jws {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three segments: {token}");
    for p in &parts {
        assert!(
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "segment is not base64url: {p}"
        );
    }
    Jws {
        header: serde_json::from_slice(&b64url(parts[0])).expect("header is JSON"),
        claims: serde_json::from_slice(&b64url(parts[1])).expect("claims are JSON"),
        signature: b64url(parts[2]),
    }
}

/// jsonwebtoken's name for an algorithm.
pub fn jwt_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::Es256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::Es384 => jsonwebtoken::Algorithm::ES384,
        Algorithm::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        Algorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::Ps256 => jsonwebtoken::Algorithm::PS256,
        other => panic!("no jsonwebtoken mapping for {other}"),
    }
}

/// A jsonwebtoken decoding key from our public JWK, through its JSON only.
pub fn decoding_key_from_jwk(jwk: &PublicJwk) -> jsonwebtoken::DecodingKey {
    let parsed: jsonwebtoken::jwk::Jwk =
        serde_json::from_str(&jwk.to_json()).expect("jsonwebtoken reads our JWK");
    jsonwebtoken::DecodingKey::from_jwk(&parsed).expect("jsonwebtoken accepts our JWK")
}

/// A jsonwebtoken decoding key from a fixture's SPKI PEM (independent of
/// this crate's public-key derivation).
pub fn decoding_key_from_spki(name: &str, key_type: KeyType) -> jsonwebtoken::DecodingKey {
    let pem = read(&format!("{name}.spki.pem"));
    match key_type {
        KeyType::P256 | KeyType::P384 => jsonwebtoken::DecodingKey::from_ec_pem(&pem),
        KeyType::Ed25519 => jsonwebtoken::DecodingKey::from_ed_pem(&pem),
        KeyType::Rsa => jsonwebtoken::DecodingKey::from_rsa_pem(&pem),
        other => panic!("no fixture for {other:?}"),
    }
    .expect("jsonwebtoken reads the SPKI fixture")
}

/// Verifies the signature with jsonwebtoken (only `alg` is checked: the
/// claims are checked exactly by the caller), returning header and claims.
pub fn jwt_verify(
    token: &str,
    key: &jsonwebtoken::DecodingKey,
    alg: Algorithm,
) -> jsonwebtoken::errors::Result<jsonwebtoken::TokenData<Value>> {
    let mut v = jsonwebtoken::Validation::new(jwt_alg(alg));
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, key, &v)
}

/// Runs a future that completes on its first poll (in-memory keys sign
/// synchronously inside `sign_async`), with std only.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future did not complete on its first poll"),
    }
}

/// Unpadded base64url encoding.
pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
