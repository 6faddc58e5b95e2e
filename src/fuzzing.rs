//! Entry points for the fuzz targets in `fuzz/` (hidden, not a stable API).
//!
//! Each function takes arbitrary bytes and must never panic: a panic is a
//! bug, either in the code under test or in one of the invariants asserted
//! here (a key that parses must also register, an accepted assertion is a
//! replay the second time, a decoded segment re-encodes to itself, ...).
//!
//! The verification fixture ([`FUZZ_CLIENT`], [`FUZZ_ISSUER`], [`FUZZ_NOW`])
//! is built once from constant bytes, so every input is reproducible.
//!
//! Every [`Backend`] compiled in takes part: with the `aws-lc-rs` feature,
//! tokens are verified and keys registered on both backends, which must
//! agree exactly, and loaded keys sign on both.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use crate::algorithm::{Algorithm, KeyType};
use crate::b64;
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::keys::{jwk_set, JwkSet, KeySource, PrivateKey, PublicJwk};
use crate::replay::MemoryReplayCache;
use crate::time::ManualClock;
use crate::verify::token;
use crate::verify::{ClientRegistry, Policy, VerifiedAssertion, Verifier};

/// The client registered in the [`verify_token`] fixture.
pub const FUZZ_CLIENT: &str = "fuzz-client";
/// The issuer identifier (the only accepted audience) of the fixture's verifier.
pub const FUZZ_ISSUER: &str = "https://as.example.com";
/// The fixture clock's fixed time (Unix seconds).
pub const FUZZ_NOW: u64 = 1_750_000_000;

/// The constant P-256 private scalar of the fixture (any value in `[1, n)`).
const P256_SECRET: [u8; 32] = [0x11; 32];
/// The constant P-384 private scalar of the fixture.
const P384_SECRET: [u8; 48] = [0x22; 48];
/// The constant Ed25519 seed of the fixture.
const ED25519_SEED: [u8; 32] = [0x33; 32];
/// A public RSA 2048-bit key (no private half: tokens naming it can only
/// fail the signature check, which exercises RSA verification on any bytes).
const RSA_PUBLIC_JWK: &str = r#"{"kty":"RSA","e":"AQAB","n":"vgEWKVNx-La4YBcs5d6UYCdoARYfPTGpq3pBYTdNDL1M7KEawPKcok1UNnnCIbTUcQU5uQs3zZW0GPrwxVkSBBfNTkk22bXOX5RzkLbp_8tHsrbz1R9kZUXD1K9URClTxx8SjZe_TRq_IdHycVVwK99jDwQZnLwcxE1i3J964tbOKKXXGgIAIjsBOTksG69EFsIjjhwbVGUYQeJ8ngO1JClS0vWTyRrD61hPCPRK4FryKRxTg4Z6OevpvaK5fdRMuYPutVJ9Dw5LuPlyvazyFDS1RlsYr_t38CU1Dg6zvuefvh22dADkyDZvX80bm833wNMUmxa3k6vbbnW8G_pTLQ"}"#;

/// The fixture's private keys (P-256, P-384, Ed25519) and its registry on
/// each backend ([`Backend::available`] order).
struct Fixture {
    keys: [PrivateKey; 3],
    registries: Vec<Arc<ClientRegistry>>,
}

/// SEC1 `ECPrivateKey` DER of `secret` on the curve named by `curve_oid`
/// (the DER of the OID, tag and length included).
fn sec1_der(secret: &[u8], curve_oid: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x01, 0x04, secret.len() as u8];
    body.extend_from_slice(secret);
    body.extend_from_slice(&[0xa0, curve_oid.len() as u8]);
    body.extend_from_slice(curve_oid);
    let mut der = vec![0x30, body.len() as u8];
    der.extend_from_slice(&body);
    der
}

/// PKCS#8 `PrivateKeyInfo` DER of an Ed25519 seed (RFC 8410).
fn ed25519_pkcs8_der(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        const P384_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
        let keys = [
            PrivateKey::from_der(&sec1_der(&P256_SECRET, P256_OID)),
            PrivateKey::from_der(&sec1_der(&P384_SECRET, P384_OID)),
            PrivateKey::from_der(&ed25519_pkcs8_der(&ED25519_SEED)),
        ]
        .map(|k| k.expect("the fuzz fixture's constant keys parse"));
        let mut set = jwk_set(keys.iter());
        set.push(PublicJwk::from_json(RSA_PUBLIC_JWK).expect("the fixture's RSA JWK parses"));
        let registries = Backend::available()
            .iter()
            .map(|b| {
                let registry = Arc::new(ClientRegistry::with_backend(*b));
                registry
                    .register(FUZZ_CLIENT, &set)
                    .expect("the fixture's keys register");
                registry
            })
            .collect();
        Fixture { keys, registries }
    })
}

/// The public JWK Set registered for [`FUZZ_CLIENT`] (e.g. to build seeds).
pub fn fixture_jwks() -> String {
    let f = fixture();
    let mut set = jwk_set(f.keys.iter());
    set.push(PublicJwk::from_json(RSA_PUBLIC_JWK).expect("the fixture's RSA JWK parses"));
    set.to_json()
}

/// A fresh verifier on `registry`: default strict policy, clock at
/// [`FUZZ_NOW`], and an empty replay cache (so each input runs alone)
/// whose epoch lies long before (as a running server's): the quarantine
/// after a start would otherwise refuse what the unchecked path accepts.
fn verifier(registry: &Arc<ClientRegistry>) -> Verifier {
    let cache = Arc::new(MemoryReplayCache::with_capacity(64));
    crate::replay::ReplayCache::epoch(&*cache, std::time::UNIX_EPOCH);
    Verifier::builder(FUZZ_ISSUER, registry.clone())
        .clock(Arc::new(ManualClock::at_unix(FUZZ_NOW)))
        .replay_cache(cache)
        .build()
        .expect("the default policy is valid")
}

/// Signs `signing_input` (`header '.' payload`) with fixture key `which`
/// (0: P-256, 1: P-384, 2: Ed25519) and returns the compact JWS.
pub fn sign_with_fixture_key(which: u8, signing_input: &str) -> String {
    let key = &fixture().keys[usize::from(which % 3)];
    let alg = key.algorithms()[0];
    let signature = key
        .sign(alg, signing_input.as_bytes())
        .expect("the fixture's keys sign");
    format!("{signing_input}.{}", b64::encode(&signature))
}

/// The `kid` of fixture key `which` (0: P-256, 1: P-384, 2: Ed25519).
pub fn fixture_kid(which: u8) -> String {
    fixture().keys[usize::from(which % 3)].kid().to_owned()
}

fn assert_rejection(e: &Error) {
    assert!(
        e.kind().is_rejection(),
        "verification failed with a non-rejection error: {e:?}"
    );
}

/// Verifies arbitrary bytes as a client assertion against the fixture.
///
/// The first byte selects the mode (then is dropped): `b % 4` of 0 or 1
/// uses the rest (lossy UTF-8) as the token; 2 and 3 take the rest as the
/// signing input (`header '.' payload`) and sign it with fixture key
/// `b / 4 % 3` (P-256, P-384, Ed25519), so that claim checks past the
/// signature are reached too. On every backend, runs [`Verifier::verify`]
/// (twice: the second time an accepted assertion must be a replay),
/// [`Verifier::verify_with_client_id`] and
/// `dangerous().verify_without_replay_check`, and checks that they agree
/// with each other and across backends.
pub fn verify_token(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let token: Cow<'_, str> = match mode % 4 {
        0 | 1 => text,
        _ => Cow::Owned(sign_with_fixture_key(mode / 4, &text)),
    };
    let mut registries = fixture().registries.iter();
    let first = registries.next().expect("at least one backend");
    let expected = verify_on(first, &token);
    for registry in registries {
        assert_eq!(
            verify_on(registry, &token),
            expected,
            "the {} and {} backends disagree",
            first.backend(),
            registry.backend()
        );
    }
}

/// [`verify_token`] on one registry: the verdict, checked for consistency.
fn verify_on(registry: &Arc<ClientRegistry>, token: &str) -> Result<VerifiedAssertion, ErrorKind> {
    let verifier = verifier(registry);
    let unchecked = verifier.dangerous().verify_without_replay_check(token);
    let first = verifier.verify(token);
    match (&first, &unchecked) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "verify and verify_without_replay_check disagree");
            assert_eq!(a.client_id(), FUZZ_CLIENT);
            assert_eq!(a.audience(), FUZZ_ISSUER);
            assert!(!a.jti().is_empty());
            let again = verifier
                .verify(token)
                .expect_err("a second use is a replay");
            assert_eq!(again.kind(), ErrorKind::Replayed);
            // Still accepted without the replay check.
            assert!(verifier
                .dangerous()
                .verify_without_replay_check(token)
                .is_ok());
            let with_id = verifier
                .verify_with_client_id(token, "another-client")
                .expect_err("iss differs from the client_id parameter");
            assert_eq!(with_id.kind(), ErrorKind::IssuerMismatch);
        }
        (Err(a), Err(b)) => {
            assert_eq!(a.kind(), b.kind(), "verify and the unchecked path disagree");
            assert_rejection(a);
            let with_id = verifier
                .verify_with_client_id(token, FUZZ_CLIENT)
                .expect_err("a rejected token stays rejected");
            assert_rejection(&with_id);
        }
        (a, b) => panic!("verify {a:?} and verify_without_replay_check {b:?} disagree"),
    }
    first.map_err(|e| e.kind())
}

/// Parses arbitrary bytes (lossy UTF-8) with the verifier's bounded token
/// parser, at the default and at a small size limit, and checks that
/// whatever it accepts is canonical: each segment re-encodes to itself.
pub fn parse_token(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for max in [Policy::DEFAULT_MAX_TOKEN_SIZE, 64] {
        match token::parse(&text, max) {
            Ok(parsed) => {
                assert!(text.len() <= max);
                let bytes = text.as_bytes();
                let input = parsed.signing_input;
                assert!(bytes.starts_with(input) && bytes.get(input.len()) == Some(&b'.'));
                let signature = &text[input.len() + 1..];
                assert_eq!(b64::encode(&parsed.signature), signature);
                let (header, payload) = text[..input.len()]
                    .split_once('.')
                    .expect("a parsed token has three segments");
                for segment in [header, payload] {
                    let decoded =
                        b64::decode(segment.as_bytes()).expect("a parsed segment decodes");
                    assert_eq!(b64::encode(&decoded), segment, "non-canonical base64url");
                    // RFC 7519 §7.2: the UTF-8 representation of a valid JSON object.
                    assert!(
                        std::str::from_utf8(&decoded).is_ok(),
                        "an accepted segment is not UTF-8"
                    );
                    let mut de = serde_json::Deserializer::from_slice(&decoded);
                    assert!(
                        serde::de::Deserializer::deserialize_map(&mut de, serde::de::IgnoredAny)
                            .is_ok()
                            && de.end().is_ok(),
                        "an accepted segment is not a JSON object"
                    );
                }
            }
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::Malformed | ErrorKind::TooLarge),
                "the parser returned {e:?}"
            ),
        }
    }
}

/// Checks what every successfully loaded private key must satisfy: its
/// public JWK round-trips, it registers on every backend, its PKCS#8 export
/// re-imports to the same key, it converts to every backend, and what it
/// signs on each backend verifies on each backend.
fn check_private_key(key: &PrivateKey) {
    let jwk = key.public_jwk();
    assert_eq!(jwk.kid(), key.kid());
    let reparsed = PublicJwk::from_json(&jwk.to_json()).expect("a key's public JWK parses");
    assert_eq!(reparsed.thumbprint(), jwk.thumbprint());
    let pem = key.to_pkcs8_pem().expect("a loaded key exports");
    let again = PrivateKey::from_pem(&pem).expect("an exported key re-imports");
    assert_eq!(again.public_jwk().thumbprint(), jwk.thumbprint());

    let set = JwkSet::from_keys([jwk]);
    let verifiers: Vec<Verifier> = Backend::available()
        .iter()
        .map(|b| {
            let registry = Arc::new(ClientRegistry::with_backend(*b));
            registry
                .register("c", &set)
                .expect("a loaded private key's public half registers");
            verifier(&registry)
        })
        .collect();
    let alg: Algorithm = key.algorithms()[0];
    // No `kid` (it may be arbitrarily long): the one key of its algorithm is tried.
    let header = format!(r#"{{"alg":"{}"}}"#, alg.name());
    let claims = format!(
        r#"{{"iss":"c","sub":"c","aud":"{FUZZ_ISSUER}","jti":"j","exp":{}}}"#,
        FUZZ_NOW + 60
    );
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(claims.as_bytes())
    );
    for backend in Backend::available() {
        // RSA signing in pure Rust is slow under coverage instrumentation.
        if key.key_type() == KeyType::Rsa && *backend == Backend::RustCrypto {
            continue;
        }
        let signer = key
            .clone_key()
            .with_backend(*backend)
            .expect("a loaded key converts to every backend");
        let signature = signer
            .sign(alg, input.as_bytes())
            .expect("a loaded key signs");
        let token = format!("{input}.{}", b64::encode(&signature));
        for verifier in &verifiers {
            verifier
                .dangerous()
                .verify_without_replay_check(&token)
                .expect("a token signed by a loaded key verifies on every backend");
        }
    }
}

fn check_key_error(e: &Error) {
    assert!(
        !e.kind().is_rejection() || e.kind() == ErrorKind::AlgorithmNotAllowed,
        "key parsing failed with a verification error: {e:?}"
    );
}

/// Parses arbitrary bytes as a private key in every encoding
/// ([`PrivateKey::from_bytes`], `from_pem`, `from_der`, `from_jwk`) and
/// checks each key that loads (see the module docs).
pub fn parse_private_key(data: &[u8]) {
    let text = std::str::from_utf8(data).ok();
    let mut results = vec![PrivateKey::from_bytes(data), PrivateKey::from_der(data)];
    if let Some(text) = text {
        results.push(PrivateKey::from_pem(text));
        results.push(PrivateKey::from_jwk(text));
    }
    for result in results {
        match result {
            Ok(key) => check_private_key(&key),
            Err(e) => check_key_error(&e),
        }
    }
}

/// Checks a successfully loaded public key: its JWK round-trips and it
/// registers on every backend (a key accepted at load time is usable for
/// verification, whichever backend verifies).
fn check_public_key(jwk: PublicJwk) {
    let reparsed = PublicJwk::from_json(&jwk.to_json()).expect("a public JWK re-parses");
    assert_eq!(reparsed.thumbprint(), jwk.thumbprint());
    assert_eq!(reparsed.kid(), jwk.kid());
    assert_eq!(reparsed.algorithm(), jwk.algorithm());
    let set = JwkSet::from_keys([jwk]);
    for backend in Backend::available() {
        if let Err(e) = ClientRegistry::with_backend(*backend).register("c", &set) {
            panic!("a loaded public key does not register on {backend}: {e:?}");
        }
    }
}

/// Parses arbitrary bytes as a public key ([`PublicJwk::from_json`],
/// `from_pem`, `from_spki_der`) and checks each key that loads.
pub fn parse_public_key(data: &[u8]) {
    let mut results = vec![PublicJwk::from_spki_der(data)];
    if let Ok(text) = std::str::from_utf8(data) {
        results.push(PublicJwk::from_json(text));
        results.push(PublicJwk::from_pem(text));
    }
    for result in results {
        match result {
            Ok(jwk) => check_public_key(jwk),
            Err(e) => check_key_error(&e),
        }
    }
}

/// Parses arbitrary bytes (lossy UTF-8) as a JWK Set ([`JwkSet::from_json`]
/// and [`ClientRegistry::register_jwks_json`] on every backend) and checks
/// that they agree: a set that parses, is not empty and has no `kid` twice
/// on one key type registers, on every backend, with the keys and skipped
/// keys of the parse.
pub fn parse_jwks(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = JwkSet::from_json(&text);
    for backend in Backend::available() {
        let registry = ClientRegistry::with_backend(*backend);
        let registered = registry.register_jwks_json(FUZZ_CLIENT, &text);
        match (&parsed, registered) {
            (Ok(set), registered) => {
                let again = JwkSet::from_json(&set.to_json()).expect("a JWK Set re-parses");
                assert_eq!(&again, set, "a JWK Set does not round-trip");
                let kids: std::collections::HashSet<(&str, KeyType)> =
                    set.keys().iter().map(|k| (k.kid(), k.key_type())).collect();
                let registrable = !set.keys().is_empty() && kids.len() == set.keys().len();
                match registered {
                    Ok(r) => {
                        assert!(registrable && registry.contains(FUZZ_CLIENT));
                        assert_eq!(r.usable_keys(), set.keys().len());
                        assert_eq!(r.skipped(), set.skipped());
                    }
                    Err(e) => {
                        assert!(
                            !registrable,
                            "a valid JWK Set failed to register on {backend}: {e:?}"
                        );
                        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
                        assert!(!registry.contains(FUZZ_CLIENT));
                    }
                }
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind());
                check_key_error(a);
            }
            (Err(e), Ok(_)) => {
                panic!("register_jwks_json accepted a set from_json rejects: {e:?}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture loads, and a token it signs verifies.
    #[test]
    fn fixture_signs_verifiable_tokens() {
        for which in 0..3 {
            let header = format!(
                r#"{{"alg":"{}","kid":"{}"}}"#,
                ["ES256", "ES384", "EdDSA"][usize::from(which)],
                fixture_kid(which)
            );
            let claims = format!(
                r#"{{"iss":"{FUZZ_CLIENT}","sub":"{FUZZ_CLIENT}","aud":"{FUZZ_ISSUER}","jti":"j","iat":{FUZZ_NOW},"exp":{}}}"#,
                FUZZ_NOW + 60
            );
            let input = format!(
                "{}.{}",
                b64::encode(header.as_bytes()),
                b64::encode(claims.as_bytes())
            );
            let token = sign_with_fixture_key(which, &input);
            for registry in &fixture().registries {
                assert!(verifier(registry).verify(&token).is_ok());
            }
            let mut data = vec![2 + 4 * which];
            data.extend_from_slice(input.as_bytes());
            verify_token(&data);
            parse_token(token.as_bytes());
        }
        assert!(fixture_jwks().contains(r#""kty":"RSA""#));
        parse_jwks(fixture_jwks().as_bytes());
        parse_private_key(&ed25519_pkcs8_der(&ED25519_SEED));
        parse_public_key(RSA_PUBLIC_JWK.as_bytes());
    }
}
