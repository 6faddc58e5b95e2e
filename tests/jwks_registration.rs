//! Client JWK Sets holding keys a verifier cannot use (OpenID Connect
//! Dynamic Client Registration publishes signing and encryption keys in one
//! set): such keys are skipped and reported, the signing keys still verify
//! real assertions; private members refuse the whole set; the size limits
//! hold before parsing; keys of different types may share a `kid`; a remote
//! set that turns to carry a private key leaves the previous keys in force.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_assertion::keys::{SkipReason, SkippedJwk};
use client_assertion::server::{FetchFuture, JwksFetcher, Registration, RemoteJwksConfig};
use client_assertion::time::ManualClock;
use client_assertion::{
    jwk_set, AssertionSigner, ClientRegistry, Error, ErrorKind, JwkSet, KeyType, PrivateKey,
    VerifiedAssertion, Verifier,
};
use common::*;
use serde_json::{json, Value};

const AS: &str = "https://as.example.com";
const CLIENT: &str = "rp-client";
const NOW: u64 = 1_760_000_000;

// ----- fixtures -----

/// A test key from `tests/data`, signing on the test backend.
fn load(file: &str) -> PrivateKey {
    on_backend(PrivateKey::from_file(data(file)).unwrap())
}

/// The P-256 test key.
fn p256() -> Arc<PrivateKey> {
    Arc::new(load("p256.pkcs8.pem"))
}

/// The public JWK of `key` as JSON.
fn public(key: &PrivateKey) -> Value {
    serde_json::from_str(&key.public_jwk().to_json()).unwrap()
}

/// A fixture's public JWK with `extra` members merged in.
fn fixture_jwk(name: &str, extra: Value) -> Value {
    let mut jwk = read_json(&format!("{name}.public.jwk.json"));
    for (k, v) in extra.as_object().unwrap() {
        jwk[k] = v.clone();
    }
    jwk
}

fn set_json(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// A verifier and signers on one manual clock.
struct Server {
    clock: Arc<ManualClock>,
    registry: Arc<ClientRegistry>,
    verifier: Verifier,
}

impl Server {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::at_unix(NOW));
        let registry = Arc::new(registry());
        let verifier = Verifier::builder(AS, registry.clone())
            .clock(clock.clone())
            .build()
            .unwrap();
        Self {
            clock,
            registry,
            verifier,
        }
    }

    /// A fresh assertion of `key` (real signing, the crate's own signer).
    fn assertion(&self, key: &Arc<PrivateKey>) -> String {
        AssertionSigner::builder(key.clone(), CLIENT, AS)
            .clock(self.clock.clone())
            .build()
            .unwrap()
            .sign()
            .unwrap()
            .into_string()
    }

    /// Registers `CLIENT` with a `jwks_uri` serving `keys` (default remote
    /// settings).
    fn remote(&self, keys: &[Value]) -> (Arc<Uri>, RemoteJwksConfig) {
        let uri = Uri::serving(&set_json(keys));
        let config = RemoteJwksConfig::default();
        self.registry
            .register_remote(CLIENT, uri.clone(), config)
            .unwrap();
        (uri, config)
    }

    /// A fresh assertion of `key`, verified on the async path.
    fn verify_async(&self, key: &Arc<PrivateKey>) -> Result<VerifiedAssertion, Error> {
        block_on(self.verifier.verify_async(&self.assertion(key)))
    }

    /// Asserts that an assertion of `key` verifies, with `key`'s `kid`.
    #[track_caller]
    fn assert_verifies(&self, key: &Arc<PrivateKey>) {
        let token = self.assertion(key);
        let verified = self
            .verifier
            .verify(&token)
            .unwrap_or_else(|e| panic!("{:?} does not verify: {e:?}", key.key_type()));
        assert_eq!(verified.kid(), key.kid());
    }
}

/// Registers the signing key `key` plus `extra`; asserts the registration
/// keeps `key` (which still verifies) and skipped `extra` for `reason`.
#[track_caller]
fn assert_skipped(extra: Value, reason: SkipReason) -> Registration {
    let server = Server::new();
    let key = p256();
    let kid = extra["kid"].as_str().map(str::to_owned);
    let registration = server
        .registry
        .register_jwks_json(CLIENT, &set_json(&[public(&key), extra.clone()]))
        .unwrap_or_else(|e| panic!("{extra} should be skipped, not refuse the set: {e:?}"));
    assert_eq!(registration.client_id(), CLIENT);
    assert_eq!(registration.usable_keys(), 1, "{extra}");
    let skipped = registration.skipped();
    assert_eq!(skipped.len(), 1, "{extra}: {skipped:?}");
    assert_eq!(skipped[0].position(), 1);
    assert_eq!(skipped[0].kid(), kid.as_deref());
    assert_eq!(skipped[0].reason(), reason, "{extra}");
    server.assert_verifies(&key);
    registration
}

#[track_caller]
fn assert_refused(json: &str, kind: ErrorKind) -> Error {
    let registry = registry();
    let err = registry
        .register_jwks_json(CLIENT, json)
        .expect_err("the set must be refused");
    assert_eq!(err.kind(), kind, "{err}");
    assert!(!registry.contains(CLIENT), "nothing is registered");
    err
}

// ----- skipped keys -----

#[test]
fn an_rsa_encryption_key_beside_the_signing_key_is_skipped_and_reported() {
    let enc = fixture_jwk(
        "rsa2048",
        json!({"use": "enc", "alg": "RSA-OAEP-256", "kid": "enc-2026"}),
    );
    let registration = assert_skipped(enc, SkipReason::NotForSignature);
    let skipped = &registration.skipped()[0];
    assert_eq!(skipped.reason().code(), "use_not_sig");
    assert_eq!(
        skipped.to_string(),
        "key 1 skipped: the key's use is not sig"
    );
}

#[test]
fn skip_use_other_than_sig() {
    for u in ["enc", "tls", ""] {
        assert_skipped(
            fixture_jwk("p384", json!({"use": u, "kid": "other-use"})),
            SkipReason::NotForSignature,
        );
    }
}

#[test]
fn skip_key_ops_without_verify() {
    for ops in [
        json!(["encrypt"]),
        json!(["wrapKey", "unwrapKey"]),
        json!([]),
    ] {
        assert_skipped(
            fixture_jwk("rsa2048", json!({"key_ops": ops, "kid": "ops"})),
            SkipReason::NoVerifyOperation,
        );
    }
}

#[test]
fn skip_encryption_alg() {
    for (fixture, alg) in [
        ("rsa2048", "RSA-OAEP"),
        ("rsa2048", "RSA-OAEP-256"),
        ("rsa2048", "RSA1_5"),
        ("p256", "ECDH-ES"),
        ("p384", "ECDH-ES+A256KW"),
        ("rsa2048", "A128KW"),
        ("rsa2048", "dir"),
    ] {
        assert_skipped(
            fixture_jwk(fixture, json!({"alg": alg, "kid": format!("enc-{alg}")})),
            SkipReason::EncryptionAlgorithm,
        );
    }
}

#[test]
fn skip_unsupported_signature_alg() {
    for alg in ["RS384", "RS512", "PS512", "ES256K"] {
        assert_skipped(
            fixture_jwk("rsa2048", json!({"alg": alg, "kid": "sig-other"})),
            SkipReason::UnsupportedAlgorithm,
        );
    }
}

#[test]
fn skip_unsupported_kty() {
    assert_skipped(
        json!({"kty": "AKP", "alg": "ML-DSA-44", "pub": "AAAA", "kid": "pq"}),
        SkipReason::UnsupportedKeyType,
    );
}

#[test]
fn skip_unsupported_crv() {
    let secp256k1 = fixture_jwk("secp256k1", json!({"kid": "k1"}));
    for jwk in [
        json!({"kty": "EC", "crv": "P-521", "x": "AAAA", "y": "AAAA", "kid": "p521"}),
        secp256k1,
        json!({"kty": "OKP", "crv": "Ed448", "x": "AAAA", "kid": "ed448"}),
        json!({"kty": "OKP", "crv": "X25519", "x": "AAAA", "kid": "x25519"}),
    ] {
        assert_skipped(jwk, SkipReason::UnsupportedCurve);
    }
}

#[test]
fn a_skipped_key_without_kid_is_reported_by_position() {
    let registration = assert_skipped(
        json!({"kty": "OKP", "crv": "X25519", "x": "AAAA"}),
        SkipReason::UnsupportedCurve,
    );
    assert_eq!(registration.skipped()[0].kid(), None);
}

#[test]
fn a_broken_key_of_a_supported_type_still_fails_the_set() {
    let key = p256();
    let mut broken = public(&key);
    broken["x"] = json!("not*base64url");
    broken["kid"] = json!("broken");
    assert_refused(&set_json(&[public(&key), broken]), ErrorKind::InvalidKey);
    let oct = json!({"kty": "oct", "kid": "hmac"});
    assert_refused(
        &set_json(&[public(&key), oct]),
        ErrorKind::AlgorithmNotAllowed,
    );
}

#[test]
fn a_set_of_unusable_keys_is_refused_naming_why() {
    let enc = |kid: &str| fixture_jwk("rsa2048", json!({"use": "enc", "kid": kid}));
    let err = assert_refused(&set_json(&[enc("a"), enc("b")]), ErrorKind::UnsupportedKey);
    let text = err.to_string();
    assert!(text.contains("no usable signing key"), "{text}");
    assert!(text.contains("use other than sig"), "{text}");

    let p521 = json!({"kty": "EC", "crv": "P-521", "x": "AAAA", "y": "AAAA"});
    let err = assert_refused(
        &set_json(std::slice::from_ref(&p521)),
        ErrorKind::UnsupportedKey,
    );
    assert!(err.to_string().contains("unsupported curve"), "{err}");

    let err = assert_refused(&set_json(&[enc("a"), p521]), ErrorKind::UnsupportedKey);
    let text = err.to_string();
    assert!(text.contains("no usable signing key"), "{text}");
    assert!(text.contains("every key was skipped"), "{text}");
}

#[cfg(feature = "jsonwebtoken")]
#[test]
fn the_jsonwebtoken_conversion_skips_the_same_keys() {
    let key = p256();
    let enc = fixture_jwk(
        "rsa2048",
        json!({"use": "enc", "alg": "RSA-OAEP-256", "kid": "enc"}),
    );
    let theirs: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(&set_json(&[public(&key), enc])).unwrap();
    let set = JwkSet::from_jsonwebtoken(&theirs).unwrap();
    assert_eq!(set.keys().len(), 1);
    assert_eq!(set.skipped()[0].reason(), SkipReason::NotForSignature);
    let registration = registry().register_jsonwebtoken(CLIENT, &theirs).unwrap();
    assert_eq!(registration.skipped(), set.skipped());
}

// ----- one kid, two key types -----

#[test]
fn keys_of_different_types_may_share_a_kid_and_both_verify() {
    let server = Server::new();
    let ec = Arc::new(load("p256.pkcs8.pem").with_kid("shared"));
    let rsa = Arc::new(load("rsa2048.pkcs8.pem").with_kid("shared"));
    let set = jwk_set([&*ec, &*rsa]);
    assert_eq!(set.keys().len(), 2, "jwk_set keeps both key types");
    assert!(set.find_key("shared", KeyType::Rsa).is_some());

    // Through the JSON a client would register.
    let parsed = JwkSet::from_json(&set.to_json()).unwrap();
    assert_eq!(parsed.keys().len(), 2, "the parse keeps both");
    let registration = server
        .registry
        .register_jwks_json(CLIENT, &set.to_json())
        .unwrap();
    assert_eq!(registration.usable_keys(), 2);
    server.assert_verifies(&ec);
    server.assert_verifies(&rsa);
}

#[test]
fn the_same_kid_twice_on_one_key_type_is_refused() {
    let a = PrivateKey::generate(KeyType::P256)
        .unwrap()
        .with_kid("twin");
    let b = PrivateKey::generate(KeyType::P256)
        .unwrap()
        .with_kid("twin");
    assert_eq!(jwk_set([&a, &b]).keys().len(), 1, "jwk_set keeps the first");
    let set = JwkSet::from_keys([a.public_jwk(), b.public_jwk()]);
    let err = registry().register(CLIENT, &set).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
}

// ----- private members -----

#[test]
fn a_private_member_on_any_key_refuses_the_set() {
    let key = p256();
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        let mut leaked = public(&key);
        leaked[member] = if member == "oth" {
            json!([{"r": "AQAB", "d": "AQAB", "t": "AQAB"}])
        } else {
            json!("AQAB")
        };
        let err = assert_refused(&set_json(&[leaked]), ErrorKind::PrivateKeyPublished);
        assert!(!err.to_string().contains("AQAB"), "{err}");
    }
    // Whatever the value, and behind a good key.
    let mut null_d = fixture_jwk("rsa2048", json!({"kid": "r"}));
    null_d["d"] = Value::Null;
    assert_refused(
        &set_json(&[public(&key), null_d]),
        ErrorKind::PrivateKeyPublished,
    );
    // The test key's own private JWK, as a careless client would publish it.
    assert_refused(
        &set_json(&[read_json("p256.jwk.json")]),
        ErrorKind::PrivateKeyPublished,
    );
}

#[test]
fn a_private_member_on_a_key_that_would_be_skipped_refuses_the_set() {
    let key = p256();
    let mut enc = read_json("rsa2048.jwk.json");
    enc["use"] = json!("enc");
    enc["alg"] = json!("RSA-OAEP-256");
    assert_refused(
        &set_json(&[public(&key), enc]),
        ErrorKind::PrivateKeyPublished,
    );
    let x25519 = json!({"kty": "OKP", "crv": "X25519", "x": "AAAA", "d": "AAAA"});
    assert_refused(
        &set_json(&[public(&key), x25519]),
        ErrorKind::PrivateKeyPublished,
    );
    // Even after a key that is broken: the leak is what is reported.
    let broken = json!({"kty": "EC", "crv": "P-256", "x": "!", "y": "!"});
    let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
    assert_refused(&set_json(&[broken, oct]), ErrorKind::PrivateKeyPublished);
}

// ----- limits -----

#[test]
fn a_set_longer_than_64_kib_is_refused_before_parsing() {
    let key = p256();
    let good = set_json(&[public(&key)]);
    let pad = |len: usize| format!("{}{}", " ".repeat(len - good.len()), good);
    assert_eq!(JwkSet::MAX_JSON_LEN, 64 * 1024);
    let registry = registry();
    registry
        .register_jwks_json(CLIENT, &pad(JwkSet::MAX_JSON_LEN))
        .expect("exactly the limit is read");
    let err = assert_refused(&pad(65 * 1024), ErrorKind::InvalidKey);
    assert!(err.to_string().contains("MAX_JSON_LEN"), "{err}");
    // Not JSON at all: the length is what is reported, so nothing was parsed.
    let err = JwkSet::from_json(&"{".repeat(JwkSet::MAX_JSON_LEN + 1)).unwrap_err();
    assert!(err.to_string().contains("MAX_JSON_LEN"), "{err}");
}

#[test]
fn a_set_of_more_than_100_keys_is_refused_before_any_key_is_read() {
    let key = p256();
    assert_eq!(JwkSet::MAX_KEYS, 100);
    let hundred = vec![public(&key); JwkSet::MAX_KEYS];
    assert_eq!(
        JwkSet::from_json(&set_json(&hundred)).unwrap().keys().len(),
        100
    );
    let err = assert_refused(&set_json(&vec![public(&key); 101]), ErrorKind::InvalidKey);
    assert!(err.to_string().contains("MAX_KEYS"), "{err}");
    // 101 broken keys, one leaking its private key: the count comes first.
    let mut junk = vec![json!({}); 100];
    junk.push(json!({"d": "AAAA"}));
    let err = JwkSet::from_json(&set_json(&junk)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidKey);
    assert!(err.to_string().contains("MAX_KEYS"), "{err}");
}

// ----- remote sets -----

/// A `jwks_uri` whose document the test changes.
#[derive(Debug)]
struct Uri {
    body: Mutex<Vec<u8>>,
}

impl Uri {
    fn serving(json: &str) -> Arc<Self> {
        Arc::new(Self {
            body: Mutex::new(json.as_bytes().to_vec()),
        })
    }

    fn serve(&self, json: &str) {
        *self.body.lock().unwrap() = json.as_bytes().to_vec();
    }
}

impl JwksFetcher for Uri {
    fn fetch<'a>(&'a self, _client_id: &'a str) -> FetchFuture<'a> {
        let body = self.body.lock().unwrap().clone();
        Box::pin(async move { Ok(body) })
    }
}

#[test]
fn a_remote_set_that_turns_to_carry_a_private_key_keeps_the_previous_keys() {
    let server = Server::new();
    let key = p256();
    let enc = fixture_jwk("rsa2048", json!({"use": "enc", "kid": "enc"}));
    let uri = Uri::serving(&set_json(&[public(&key), enc]));
    let config = RemoteJwksConfig::default();
    let registration = server
        .registry
        .register_remote(CLIENT, uri.clone(), config)
        .unwrap();
    assert_eq!(
        (registration.usable_keys(), registration.skipped()),
        (0, &[] as &[SkippedJwk])
    );

    let verify = |server: &Server| block_on(server.verifier.verify_async(&server.assertion(&key)));
    verify(&server).expect("the first fetch, its enc key skipped");
    assert_eq!(server.registry.remote_fetch_count(CLIENT), Some(1));

    // The client publishes a private key (of another key); the next refresh
    // refuses the set.
    uri.serve(&set_json(&[read_json("p384.jwk.json")]));
    server
        .clock
        .advance(config.max_age + Duration::from_secs(1));
    verify(&server).expect("the previous set stays in force");
    assert_eq!(server.registry.remote_fetch_count(CLIENT), Some(2));

    // Once that set is past stale-if-error, the refusal is what is reported.
    server.clock.advance(config.stale_if_error);
    let err = verify(&server).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PrivateKeyPublished, "{err:?}");
    assert_eq!(server.registry.remote_fetch_count(CLIENT), Some(3));

    // A fixed set is taken again.
    uri.serve(&set_json(&[public(&key)]));
    server.clock.advance(config.cooldown);
    verify(&server).expect("the fixed set");
}

/// A refused set that published the private half of a key the earlier
/// set holds: that key stops verifying at once (it has leaked), the other
/// keys of the earlier set stay in force.
#[test]
fn a_key_whose_private_half_was_published_is_no_longer_trusted() {
    let server = Server::new();
    let leaked = Arc::new(load("p256.jwk.json"));
    let other = Arc::new(on_backend(PrivateKey::generate(KeyType::P256).unwrap()));
    let (uri, config) = server.remote(&[public(&leaked), public(&other)]);
    let verify = |key: &Arc<PrivateKey>| server.verify_async(key);
    verify(&leaked).expect("both keys, first fetch");
    verify(&other).expect("both keys, first fetch");

    uri.serve(&set_json(&[read_json("p256.jwk.json"), public(&other)]));
    server
        .clock
        .advance(config.max_age + Duration::from_secs(1));
    verify(&other).expect("the refresh is refused; the other key stays in force");
    assert_eq!(server.registry.remote_fetch_count(CLIENT), Some(2));
    let err = verify(&leaked).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey, "{err:?}");
    verify(&other).expect("still in force");

    // The client republishes the leaked key without its private half: it
    // stays distrusted; the rest of that set is taken.
    uri.serve(&set_json(&[public(&leaked), public(&other)]));
    server
        .clock
        .advance(config.max_age + Duration::from_secs(1));
    verify(&other).expect("the new set, minus the leaked key");
    assert_eq!(server.registry.remote_fetch_count(CLIENT), Some(3));
    let err = verify(&leaked).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey, "{err:?}");
}

/// A client adds a key of another type under a `kid` it already uses: a
/// token of the new type is a miss, and the set is fetched again at once.
#[test]
fn a_new_key_type_under_a_known_kid_is_a_miss_that_refetches() {
    let server = Server::new();
    let rsa = Arc::new(load("rsa2048.pkcs8.pem").with_kid("shared"));
    let ec = Arc::new(on_backend(PrivateKey::generate(KeyType::P256).unwrap()).with_kid("shared"));
    let (uri, config) = server.remote(&[public(&rsa)]);
    let verify = |key: &Arc<PrivateKey>| server.verify_async(key);
    verify(&rsa).expect("first fetch");
    uri.serve(&set_json(&[public(&rsa), public(&ec)]));
    server.clock.advance(config.cooldown);
    verify(&ec).expect("a miss by (kid, key type) refetches");
    assert_eq!(server.registry.remote_fetch_count(CLIENT), Some(2));
    verify(&rsa).expect("both keys");
}

/// A leaking document refused for another reason first (more than
/// `MAX_KEYS` keys) still distrusts the key it leaked.
#[test]
fn a_leak_in_a_set_refused_for_its_size_is_still_seen() {
    let server = Server::new();
    let leaked = Arc::new(load("p256.jwk.json"));
    let other = Arc::new(on_backend(PrivateKey::generate(KeyType::P256).unwrap()));
    let (uri, config) = server.remote(&[public(&leaked), public(&other)]);
    let verify = |key: &Arc<PrivateKey>| server.verify_async(key);
    verify(&leaked).expect("first fetch");
    let mut keys = vec![read_json("p256.jwk.json")];
    keys.extend((0..JwkSet::MAX_KEYS).map(|_| public(&other)));
    uri.serve(&set_json(&keys));
    server
        .clock
        .advance(config.max_age + Duration::from_secs(1));
    verify(&other).expect("the earlier set, minus the leaked key");
    let err = verify(&leaked).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey, "{err:?}");
}

#[test]
fn an_oversized_remote_set_is_refused() {
    let server = Server::new();
    let key = p256();
    let good = set_json(&[public(&key)]);
    let uri = Uri::serving(&format!("{}{good}", " ".repeat(JwkSet::MAX_JSON_LEN)));
    server
        .registry
        .register_remote(CLIENT, uri, RemoteJwksConfig::default())
        .unwrap();
    let err = block_on(server.verifier.verify_async(&server.assertion(&key))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidKey, "{err:?}");
    assert!(err.to_string().contains("MAX_JSON_LEN"), "{err}");
}

// ----- audit events -----

#[cfg(feature = "tracing")]
#[path = "common/capture.rs"]
mod capture;

#[cfg(feature = "tracing")]
mod audit {
    use client_assertion::audit::{JWKS_REFUSED, KEY_SKIPPED};
    use tracing::Level;

    use super::capture::capture;
    use super::*;

    #[test]
    fn registration_emits_key_skipped_per_skipped_key() {
        let key = p256();
        let enc = fixture_jwk("rsa2048", json!({"use": "enc", "kid": "enc\n1"}));
        let x25519 = json!({"kty": "OKP", "crv": "X25519", "x": "AAAA"});
        let ((), events) = capture(|| {
            registry()
                .register_jwks_json(CLIENT, &set_json(&[enc, public(&key), x25519]))
                .unwrap();
        });
        let skipped: Vec<_> = events.iter().filter(|e| e.name == KEY_SKIPPED).collect();
        assert_eq!(skipped.len(), 2, "{events:?}");
        let (level, fields) = (skipped[0].level, &skipped[0].fields);
        assert_eq!(level, Level::INFO);
        assert_eq!(fields["message"], "key.skipped");
        assert_eq!(fields["client_id"], CLIENT);
        assert_eq!(fields["kid"], "enc\\n1", "the kid is made log-safe");
        assert_eq!(fields["position"], "0");
        assert_eq!(fields["reason"], "use_not_sig");
        let fields = &skipped[1].fields;
        assert_eq!(fields["position"], "2");
        assert_eq!(fields["reason"], "unsupported_crv");
        assert!(!fields.contains_key("kid"), "no kid, no field: {fields:?}");
    }

    #[test]
    fn a_refused_remote_set_emits_jwks_refused() {
        let server = Server::new();
        let key = p256();
        let enc = fixture_jwk("rsa2048", json!({"use": "enc", "kid": "enc"}));
        let uri = Uri::serving(&set_json(&[public(&key), enc]));
        let config = RemoteJwksConfig::default();
        server
            .registry
            .register_remote(CLIENT, uri.clone(), config)
            .unwrap();
        let ((), first) = capture(|| {
            block_on(server.verifier.verify_async(&server.assertion(&key))).unwrap();
        });
        assert!(
            first
                .iter()
                .any(|e| e.name == KEY_SKIPPED && e.field("kid") == Some("enc")),
            "{first:?}"
        );

        uri.serve(&set_json(&[read_json("p384.jwk.json")]));
        server
            .clock
            .advance(config.max_age + Duration::from_secs(1));
        let ((), refused) = capture(|| {
            block_on(server.verifier.verify_async(&server.assertion(&key))).unwrap();
        });
        let found: Vec<_> = refused.iter().filter(|e| e.name == JWKS_REFUSED).collect();
        assert_eq!(found.len(), 1, "{refused:?}");
        let (level, fields) = (found[0].level, &found[0].fields);
        assert_eq!(level, Level::WARN);
        assert_eq!(fields["client_id"], CLIENT);
        assert_eq!(fields["reason"], "private_key_published");
        let d = read_json("p384.jwk.json")["d"].as_str().unwrap().to_owned();
        for event in &refused {
            let fields = &event.fields;
            assert!(fields.values().all(|v| !v.contains(&d)), "{fields:?}");
        }
    }
}
