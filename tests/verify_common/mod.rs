//! Shared helpers for the verification tests: hand-built compact JWS tokens
//! (JSON -> base64url -> our own `KeySource::sign`), a fixed clock and a
//! verifier for one registered client. Keys sign and registries verify with
//! the backend under test ([`backend`], from `CLIENT_ASSERTION_TEST_BACKEND`).
//!
//! Tokens are built byte by byte so that a test controls exactly what the
//! verifier sees (duplicate members, odd encodings, foreign header members);
//! no JWT library is involved.
#![allow(dead_code)]

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{
    jwk_set, Algorithm, ClientRegistry, Error, KeySource, KeyType, Policy, PrivateKey, Usage,
    VerifiedAssertion, Verifier,
};
use serde_json::{json, Value};

#[path = "../common/backend.rs"]
mod backend;
#[allow(unused_imports)]
pub use backend::{backend, on_backend, registry, BACKEND_VAR};

/// The authorization server's issuer identifier (the default audience).
pub const ISSUER: &str = "https://as.example.com";
/// Its token endpoint (accepted as audience only when configured).
pub const TOKEN_ENDPOINT: &str = "https://as.example.com/oauth2/token";
/// The registered client.
pub const CLIENT: &str = "tenant-7f3a-client";
/// Another registered client.
pub const OTHER_CLIENT: &str = "tenant-9c1e-other";
/// The clock's time: a fixed instant so every time edge is exact.
pub const NOW: u64 = 1_750_000_000;

/// Unpadded base64url.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `base64url(header) '.' base64url(claims)`.
pub fn signing_input(header: &str, claims: &str) -> String {
    format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()))
}

/// A compact JWS over the exact header and claims text, signed with `key`
/// (through the `KeySource` trait: raw JWS signature bytes).
pub fn sign_raw(key: &dyn KeySource, alg: Algorithm, header: &str, claims: &str) -> String {
    let input = signing_input(header, claims);
    let sig = key.sign(alg, input.as_bytes()).expect("test key signs");
    format!("{input}.{}", b64(&sig))
}

/// The usual header of `key`: its default algorithm, its `kid`, the
/// explicit client-authentication type.
pub fn header_of(key: &dyn KeySource) -> Value {
    json!({
        "alg": key.algorithms()[0].name(),
        "kid": key.kid(),
        "typ": "client-authentication+jwt",
    })
}

/// Good claims for `client` at `now`: 60 s lifetime, `nbf = iat = now`.
pub fn claims_for(client: &str, jti: &str, now: u64) -> Value {
    json!({
        "iss": client,
        "sub": client,
        "aud": ISSUER,
        "jti": jti,
        "iat": now,
        "nbf": now,
        "exp": now + 60,
    })
}

/// Signs JSON header and claims values with `key`'s default algorithm
/// unless the header names one of ours.
pub fn sign_json(key: &dyn KeySource, header: &Value, claims: &Value) -> String {
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|a| Algorithm::from_name(a).ok())
        .filter(|a| key.algorithms().contains(a))
        .unwrap_or(key.algorithms()[0]);
    sign_raw(key, alg, &header.to_string(), &claims.to_string())
}

/// Replaces (or, with `Value::Null`, removes) one member of a JSON object.
pub fn with(mut v: Value, name: &str, value: Value) -> Value {
    let obj = v.as_object_mut().expect("a JSON object");
    if value.is_null() {
        obj.remove(name);
    } else {
        obj.insert(name.to_owned(), value);
    }
    v
}

/// One registered client with one key, a manual clock standing at [`NOW`],
/// and a verifier with the default strict policy (unless given one).
pub struct Fixture {
    pub key: Arc<PrivateKey>,
    pub registry: Arc<ClientRegistry>,
    pub clock: ManualClock,
    pub verifier: Verifier,
    counter: std::cell::Cell<u32>,
}

impl Fixture {
    pub fn new(key_type: KeyType) -> Self {
        Self::with_policy(key_type, Policy::new(ISSUER))
    }

    pub fn with_policy(key_type: KeyType, policy: Policy) -> Self {
        let key = Arc::new(on_backend(match key_type {
            // RSA generation is slow in tests: use the fixture key.
            KeyType::Rsa => {
                PrivateKey::from_pem(include_str!("../data/rsa2048.pkcs8.pem")).expect("fixture")
            }
            other => PrivateKey::generate(other).expect("generate"),
        }));
        Self::with_key(key, policy)
    }

    /// A fixture around `key` as given (its own backend signs); the
    /// registry verifies with the test backend.
    pub fn with_key(key: Arc<PrivateKey>, policy: Policy) -> Self {
        let registry = Arc::new(registry());
        registry
            .register(CLIENT, &jwk_set([&*key]))
            .expect("register");
        let clock = ManualClock::at_unix(NOW);
        let verifier = Verifier::builder(ISSUER, registry.clone())
            .policy(policy)
            .clock(Arc::new(clock.clone()))
            .replay_cache(running_cache())
            .build()
            .expect("verifier");
        Self {
            key,
            registry,
            clock,
            verifier,
            counter: std::cell::Cell::new(0),
        }
    }

    /// A fresh, distinct `jti`.
    pub fn jti(&self) -> String {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        format!("jti-{n:04}-q8ZxW2")
    }

    /// The key's default header.
    pub fn header(&self) -> Value {
        header_of(&*self.key)
    }

    /// Good claims for the registered client, issued now.
    pub fn claims(&self) -> Value {
        claims_for(CLIENT, &self.jti(), NOW)
    }

    /// A token over the given header and claims, signed with the
    /// registered key.
    pub fn token(&self, header: &Value, claims: &Value) -> String {
        sign_json(&*self.key, header, claims)
    }

    /// A token over exact header and claims text, signed with the
    /// registered key's default algorithm.
    pub fn token_raw(&self, header: &str, claims: &str) -> String {
        sign_raw(&*self.key, self.key.algorithms()[0], header, claims)
    }

    /// A good token.
    pub fn good(&self) -> String {
        self.token(&self.header(), &self.claims())
    }

    pub fn verify(&self, token: &str) -> Result<VerifiedAssertion, Error> {
        self.verifier.verify(token)
    }
}

/// Asserts that `result` is a rejection of `kind`, whose client-facing
/// texts carry nothing of the token, and that maps to `invalid_client`.
#[track_caller]
pub fn assert_rejected(
    result: Result<VerifiedAssertion, Error>,
    kind: client_assertion::ErrorKind,
    token: &str,
) {
    let err = match result {
        Ok(v) => panic!("expected `{kind:?}`, but the token was accepted: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), kind, "wrong kind: {err:?}");
    assert_eq!(err.code(), kind.code());
    assert!(err.kind().is_rejection(), "{kind:?} is a rejection");
    assert_eq!(
        err.oauth_error(Usage::ClientAuthentication),
        "invalid_client"
    );
    assert_eq!(err.oauth_error(Usage::AuthorizationGrant), "invalid_grant");
    assert_no_token_content(&err, token);
}

/// No part of `token` (its segments, or any string claim or header value
/// in it) appears in the error's description, `Display` or `Debug`.
#[track_caller]
pub fn assert_no_token_content(err: &Error, token: &str) {
    let texts = [
        err.description().to_owned(),
        err.to_string(),
        format!("{err:?}"),
    ];
    let mut needles: Vec<String> = token
        .split('.')
        .filter(|s| s.len() >= 8)
        .map(str::to_owned)
        .collect();
    for segment in token.split('.').take(2) {
        if let Ok(bytes) = URL_SAFE_NO_PAD.decode(segment) {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) {
                collect_strings(&Value::Object(map), &mut needles);
            }
        }
    }
    for text in &texts {
        for needle in needles.iter().filter(|n| n.len() >= 6) {
            assert!(
                !text.contains(needle.as_str()),
                "error text {text:?} leaks token content {needle:?}"
            );
        }
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(m) => m.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// A memory replay cache whose epoch lies long before [`NOW`] (a server
/// that has run for a while): assertions issued before the fixture's clock
/// are judged by the claim rules alone, not quarantined as right after a
/// start (tests/replay_quarantine.rs covers that).
pub fn running_cache() -> Arc<client_assertion::MemoryReplayCache> {
    let cache = Arc::new(client_assertion::MemoryReplayCache::default());
    client_assertion::ReplayCache::epoch(&*cache, std::time::UNIX_EPOCH);
    cache
}
