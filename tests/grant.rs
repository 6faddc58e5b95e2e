//! The JWT bearer authorization grant, server side (RFC 7523 §2.1 and §3):
//! `TrustedIssuers` and `GrantVerifier`.
//!
//! The grants come from issuers that are not clients of the authorization
//! server (an identity provider, a partner), some minted by this crate's
//! `AssertionSigner::grant_builder`, most built byte by byte so that each
//! test controls exactly what the verifier sees. Keys sign and issuers
//! verify with the backend under test (`CLIENT_ASSERTION_TEST_BACKEND`).

mod verify_common;

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use client_assertion::grant::{GrantVerifier, GrantVerifierBuilder, TrustedIssuers, VerifiedGrant};
use client_assertion::server::{FetchFuture, JwksFetcher, RemoteJwksConfig};
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{
    jwk_set, AssertionSigner, ClientRegistry, Error, ErrorKind, KeySource, KeyType,
    MemoryReplayCache, Policy, PrivateKey, ReplayCache, Usage, Verifier,
};
use serde_json::{json, Value};
use verify_common::{
    assert_no_token_content, b64, backend, on_backend, registry, sign_json, with, ISSUER, NOW,
    TOKEN_ENDPOINT,
};

/// A trusted identity provider: a foreign issuer, not a registered client.
const IDP: &str = "https://idp.partner.example";
/// A second trusted issuer.
const OTHER_IDP: &str = "https://login.other.example";
/// The principal the grants are for.
const USER: &str = "user-7a1c@partner";

fn key(key_type: KeyType) -> Arc<PrivateKey> {
    Arc::new(on_backend(
        PrivateKey::generate(key_type).expect("generate"),
    ))
}

/// Two trusted issuers, a manual clock at [`NOW`], and a grant verifier for
/// the authorization server [`ISSUER`].
struct Grants {
    idp_key: Arc<PrivateKey>,
    other_key: Arc<PrivateKey>,
    issuers: Arc<TrustedIssuers>,
    clock: ManualClock,
    verifier: GrantVerifier,
    counter: Cell<u32>,
}

impl Grants {
    fn new() -> Self {
        Self::with(|b| b)
    }

    /// The fixture with the verifier builder adjusted by `adjust`.
    fn with(adjust: impl FnOnce(GrantVerifierBuilder) -> GrantVerifierBuilder) -> Self {
        let idp_key = key(KeyType::P256);
        let other_key = key(KeyType::Ed25519);
        let issuers = Arc::new(TrustedIssuers::with_backend(backend()));
        issuers
            .register(IDP, &jwk_set([&*idp_key]))
            .expect("trust the idp");
        issuers
            .register(OTHER_IDP, &jwk_set([&*other_key]))
            .expect("trust the other idp");
        let clock = ManualClock::at_unix(NOW);
        let builder =
            GrantVerifier::builder(ISSUER, issuers.clone()).clock(Arc::new(clock.clone()));
        let verifier = adjust(builder).build().expect("grant verifier");
        Self {
            idp_key,
            other_key,
            issuers,
            clock,
            verifier,
            counter: Cell::new(0),
        }
    }

    fn jti(&self) -> String {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        format!("grant-jti-{n:04}-Zr4p")
    }

    /// The IdP's grant header (`typ` `JWT`, as `grant_builder` writes).
    fn header(&self) -> Value {
        grant_header(&*self.idp_key)
    }

    /// Good grant claims from the IdP for [`USER`], issued now.
    fn claims(&self) -> Value {
        grant_claims(IDP, USER, &self.jti())
    }

    /// A grant over `header` and `claims`, signed by the IdP.
    fn token(&self, header: &Value, claims: &Value) -> String {
        sign_json(&*self.idp_key, header, claims)
    }

    fn good(&self) -> String {
        self.token(&self.header(), &self.claims())
    }

    fn verify(&self, token: &str) -> Result<VerifiedGrant, Error> {
        self.verifier.verify(token)
    }

    /// A signer minting grants from the IdP for `subject`, on the fixture clock.
    fn signer(&self, subject: &str) -> AssertionSigner {
        AssertionSigner::grant_builder(self.idp_key.clone(), IDP, subject, ISSUER)
            .clock(Arc::new(self.clock.clone()))
            .build()
            .expect("grant signer")
    }
}

fn grant_header(key: &dyn KeySource) -> Value {
    json!({"alg": key.algorithms()[0].name(), "kid": key.kid(), "typ": "JWT"})
}

fn grant_claims(iss: &str, sub: &str, jti: &str) -> Value {
    json!({
        "iss": iss,
        "sub": sub,
        "aud": ISSUER,
        "jti": jti,
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 60,
    })
}

/// Asserts a rejection of `kind` that says it is a grant's (so
/// `invalid_grant`) and whose texts carry nothing of the token.
#[track_caller]
fn assert_grant_rejected(result: Result<VerifiedGrant, Error>, kind: ErrorKind, token: &str) {
    let err = match result {
        Ok(v) => panic!("expected `{kind:?}`, but the grant was accepted: {v:?}"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), kind, "wrong kind: {err:?}");
    assert!(err.kind().is_rejection());
    assert_eq!(err.usage(), Some(Usage::AuthorizationGrant), "{err:?}");
    assert_eq!(token_endpoint_error(&err), "invalid_grant");
    assert_no_token_content(&err, token);
}

/// What a token endpoint answers for a verifier's error: one function for
/// both verifiers, the error knows which it came from.
fn token_endpoint_error(err: &Error) -> &'static str {
    err.oauth_error(err.usage().expect("a verifier's error knows its usage"))
}

// ----- the grant itself -----

#[test]
fn a_foreign_issuers_grant_verifies_and_returns_its_subject() {
    let g = Grants::new();
    let grant = g.signer(USER).sign().unwrap();
    let verified = g.verify(grant.as_str()).unwrap();
    assert_eq!(verified.issuer(), IDP);
    assert_eq!(verified.subject(), USER, "iss != sub, the subject returned");
    assert_eq!(verified.jti(), grant.jti());
    assert_eq!(verified.kid(), g.idp_key.kid());
    assert_eq!(verified.algorithm(), g.idp_key.algorithms()[0]);
    assert_eq!(verified.audience(), ISSUER);
    assert_eq!(
        verified.expires_at(),
        UNIX_EPOCH + Duration::from_secs(NOW + 60)
    );
    assert_eq!(
        verified.issued_at(),
        Some(UNIX_EPOCH + Duration::from_secs(NOW))
    );
    // The form parameters the client sent it with.
    let params = grant.form_params();
    assert_eq!(
        params.get("grant_type"),
        Some(client_assertion::FormParams::GRANT_TYPE_JWT_BEARER)
    );

    // The IdP is no client: a client-authentication verifier does not know it.
    let clients = Arc::new(registry());
    let client_verifier = Verifier::builder(ISSUER, clients)
        .clock(Arc::new(g.clock.clone()))
        .build()
        .unwrap();
    let err = client_verifier
        .verify(g.signer(USER).sign().unwrap().as_str())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownClient);
}

#[test]
fn each_issuer_is_checked_with_its_own_keys() {
    let g = Grants::new();
    let from_other = sign_json(
        &*g.other_key,
        &grant_header(&*g.other_key),
        &grant_claims(OTHER_IDP, "someone@other", &g.jti()),
    );
    let v = g.verify(&from_other).unwrap();
    assert_eq!((v.issuer(), v.subject()), (OTHER_IDP, "someone@other"));
    assert_eq!(v.algorithm(), client_assertion::Algorithm::EdDsa);

    // The other issuer's key does not speak for the IdP.
    let forged = sign_json(
        &*g.other_key,
        &grant_header(&*g.other_key),
        &grant_claims(IDP, USER, &g.jti()),
    );
    assert_grant_rejected(g.verify(&forged), ErrorKind::UnknownKey, &forged);
    let forged_no_kid = sign_json(
        &*g.other_key,
        &json!({"alg": "EdDSA", "typ": "JWT"}),
        &grant_claims(IDP, USER, &g.jti()),
    );
    assert_grant_rejected(
        g.verify(&forged_no_kid),
        ErrorKind::AlgorithmNotAllowed,
        &forged_no_kid,
    );
}

#[test]
fn the_subject_may_equal_the_issuer_and_must_be_a_non_empty_string() {
    let g = Grants::new();
    let same = g.token(&g.header(), &grant_claims(IDP, IDP, &g.jti()));
    assert_eq!(g.verify(&same).unwrap().subject(), IDP);

    for (sub, kind) in [
        (Value::Null, ErrorKind::MissingClaim),
        (json!(""), ErrorKind::InvalidClaim),
        (json!(42), ErrorKind::InvalidClaim),
        (json!([USER]), ErrorKind::InvalidClaim),
    ] {
        let t = g.token(&g.header(), &with(g.claims(), "sub", sub.clone()));
        assert_grant_rejected(g.verify(&t), kind, &t);
    }
}

#[test]
fn an_unknown_or_missing_issuer_is_rejected() {
    let g = Grants::new();
    let t = g.token(
        &g.header(),
        &grant_claims("https://evil.example", USER, &g.jti()),
    );
    assert_grant_rejected(g.verify(&t), ErrorKind::UnknownIssuer, &t);
    let t = g.token(&g.header(), &with(g.claims(), "iss", Value::Null));
    assert_grant_rejected(g.verify(&t), ErrorKind::MissingClaim, &t);
    let t = g.token(&g.header(), &with(g.claims(), "iss", json!([IDP])));
    assert_grant_rejected(g.verify(&t), ErrorKind::InvalidClaim, &t);
    let t = g.token(&g.header(), &with(g.claims(), "iss", json!("")));
    assert_grant_rejected(g.verify(&t), ErrorKind::UnknownIssuer, &t);

    // A registered client is not a trusted issuer.
    let clients = ClientRegistry::new();
    clients
        .register("a-client", &jwk_set([&*g.idp_key]))
        .unwrap();
    let t = g.token(&g.header(), &grant_claims("a-client", USER, &g.jti()));
    assert_grant_rejected(g.verify(&t), ErrorKind::UnknownIssuer, &t);

    // An issuer no longer trusted.
    let t = g.good();
    assert!(g.issuers.remove(IDP));
    assert_grant_rejected(g.verify(&t), ErrorKind::UnknownIssuer, &t);
}

// ----- audience -----

#[test]
fn the_audience_is_the_issuer_identifier_as_a_single_string_by_default() {
    let g = Grants::new();
    assert_eq!(g.verify(&g.good()).unwrap().audience(), ISSUER);
    for (aud, kind) in [
        (json!(TOKEN_ENDPOINT), ErrorKind::AudienceMismatch),
        (json!([ISSUER]), ErrorKind::AudienceMismatch),
        (
            json!([ISSUER, "https://other.example"]),
            ErrorKind::AudienceMismatch,
        ),
        (json!([]), ErrorKind::AudienceMismatch),
        (
            json!("https://as.example.com/"),
            ErrorKind::AudienceMismatch,
        ),
        (json!(IDP), ErrorKind::AudienceMismatch),
        (json!(42), ErrorKind::AudienceMismatch),
        (Value::Null, ErrorKind::MissingClaim),
    ] {
        let t = g.token(&g.header(), &with(g.claims(), "aud", aud.clone()));
        assert_grant_rejected(g.verify(&t), kind, &t);
    }
}

#[test]
fn the_token_endpoint_and_one_element_arrays_are_named_opt_ins() {
    let g = Grants::with(|b| {
        b.policy(
            Policy::new(ISSUER)
                .also_accept_audience(TOKEN_ENDPOINT)
                .accept_single_element_audience_array(),
        )
    });
    for aud in [
        json!(ISSUER),
        json!(TOKEN_ENDPOINT),
        json!([ISSUER]),
        json!([TOKEN_ENDPOINT]),
    ] {
        let t = g.token(&g.header(), &with(g.claims(), "aud", aud.clone()));
        let v = g.verify(&t).unwrap_or_else(|e| panic!("{aud}: {e}"));
        assert!(v.audience() == ISSUER || v.audience() == TOKEN_ENDPOINT);
    }
    for aud in [
        json!([ISSUER, TOKEN_ENDPOINT]),
        json!([ISSUER, "https://other.example"]),
        json!("https://other.example"),
    ] {
        let t = g.token(&g.header(), &with(g.claims(), "aud", aud));
        assert_grant_rejected(g.verify(&t), ErrorKind::AudienceMismatch, &t);
    }

    // The token endpoint alone, without the array opt-in.
    let g = Grants::with(|b| b.policy(Policy::new(ISSUER).also_accept_audience(TOKEN_ENDPOINT)));
    let t = g.token(&g.header(), &with(g.claims(), "aud", json!(TOKEN_ENDPOINT)));
    assert_eq!(g.verify(&t).unwrap().audience(), TOKEN_ENDPOINT);
    let t = g.token(
        &g.header(),
        &with(g.claims(), "aud", json!([TOKEN_ENDPOINT])),
    );
    assert_grant_rejected(g.verify(&t), ErrorKind::AudienceMismatch, &t);
}

// ----- explicit typing -----

#[test]
fn a_client_assertion_is_never_accepted_as_a_grant() {
    let g = Grants::new();
    // The IdP's own client assertion (iss = sub, typ client-authentication+jwt),
    // minted by this crate, presented as a grant.
    let client_assertion = AssertionSigner::builder(g.idp_key.clone(), IDP, ISSUER)
        .clock(Arc::new(g.clock.clone()))
        .build()
        .unwrap()
        .sign()
        .unwrap();
    assert_grant_rejected(
        g.verify(client_assertion.as_str()),
        ErrorKind::TypeNotAllowed,
        client_assertion.as_str(),
    );
    for typ in [
        "client-authentication+jwt",
        "application/client-authentication+jwt",
        "Client-Authentication+JWT",
    ] {
        let t = g.token(&with(g.header(), "typ", json!(typ)), &g.claims());
        assert_grant_rejected(g.verify(&t), ErrorKind::TypeNotAllowed, &t);
    }
    // Not even with a verifier that accepts a profile's own type...
    let g = Grants::with(|b| b.also_accept_type("oauth-id-jag+jwt"));
    let t = g.token(
        &with(g.header(), "typ", json!("client-authentication+jwt")),
        &g.claims(),
    );
    assert_grant_rejected(g.verify(&t), ErrorKind::TypeNotAllowed, &t);
    // ...and configuring it is refused.
    for typ in [
        "client-authentication+jwt",
        "application/Client-Authentication+jwt",
        "",
    ] {
        let issuers = Arc::new(TrustedIssuers::new());
        let err = GrantVerifier::builder(ISSUER, issuers.clone())
            .also_accept_type(typ)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{typ:?}");
        let err = GrantVerifier::builder(ISSUER, issuers)
            .require_type(typ)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{typ:?}");
    }
}

#[test]
fn grants_are_untyped_or_jwt_unless_configured() {
    let g = Grants::new();
    for typ in [
        Value::Null,
        json!("JWT"),
        json!("jwt"),
        json!("application/jwt"),
    ] {
        let t = g.token(&with(g.header(), "typ", typ.clone()), &g.claims());
        g.verify(&t).unwrap_or_else(|e| panic!("{typ}: {e}"));
    }
    for typ in [
        json!("at+jwt"),
        json!("dpop+jwt"),
        json!("oauth-id-jag+jwt"),
        json!(""),
        json!(["JWT"]),
        json!(1),
    ] {
        let t = g.token(&with(g.header(), "typ", typ), &g.claims());
        assert_grant_rejected(g.verify(&t), ErrorKind::TypeNotAllowed, &t);
    }

    let g = Grants::with(|b| b.also_accept_type("application/oauth-id-jag+jwt"));
    for typ in [Value::Null, json!("JWT"), json!("oauth-id-jag+jwt")] {
        let t = g.token(&with(g.header(), "typ", typ.clone()), &g.claims());
        g.verify(&t).unwrap_or_else(|e| panic!("{typ}: {e}"));
    }

    let g = Grants::with(|b| b.require_type("oauth-id-jag+jwt"));
    let t = g.token(
        &with(g.header(), "typ", json!("application/OAuth-ID-JAG+jwt")),
        &g.claims(),
    );
    g.verify(&t).unwrap();
    for typ in [Value::Null, json!("JWT")] {
        let t = g.token(&with(g.header(), "typ", typ), &g.claims());
        assert_grant_rejected(g.verify(&t), ErrorKind::TypeNotAllowed, &t);
    }
}

// ----- header rules, as strict as the client-auth verifier's -----

#[test]
fn header_rules_are_those_of_the_client_verifier() {
    let g = Grants::new();
    for member in ["crit", "jwk", "jku", "x5u"] {
        let t = g.token(&with(g.header(), member, json!(["x"])), &g.claims());
        assert_grant_rejected(g.verify(&t), ErrorKind::HeaderNotAllowed, &t);
    }
    // `none` (an unsecured JWS) and HMAC.
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes()),
        b64(g.claims().to_string().as_bytes())
    );
    assert_grant_rejected(
        g.verify(&unsigned),
        ErrorKind::AlgorithmNotAllowed,
        &unsigned,
    );
    let hmac = format!(
        "{}.{}.{}",
        b64(json!({"alg": "HS256", "kid": g.idp_key.kid()})
            .to_string()
            .as_bytes()),
        b64(g.claims().to_string().as_bytes()),
        b64(&[7; 32])
    );
    assert_grant_rejected(g.verify(&hmac), ErrorKind::AlgorithmNotAllowed, &hmac);
    // The header names an algorithm the IdP's P-256 key does not have.
    let t = g.token(&with(g.header(), "alg", json!("RS256")), &g.claims());
    assert_grant_rejected(g.verify(&t), ErrorKind::AlgorithmNotAllowed, &t);
    // Unknown kid, bad signature.
    let t = g.token(&with(g.header(), "kid", json!("rotated-away")), &g.claims());
    assert_grant_rejected(g.verify(&t), ErrorKind::UnknownKey, &t);
    let good = g.good();
    let other = g.good();
    let spliced = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    assert_grant_rejected(g.verify(&spliced), ErrorKind::BadSignature, &spliced);
    assert_grant_rejected(g.verify("a.b"), ErrorKind::Malformed, "a.b");
    let huge = "e".repeat(9000);
    assert_grant_rejected(g.verify(&huge), ErrorKind::TooLarge, &huge);
}

// ----- time -----

#[test]
fn time_rules_are_the_policys() {
    // A cache whose epoch lies long before NOW (a server that has run for
    // a while): these assertions issued before NOW are judged by the time
    // rules alone, not quarantined as they would be right after a start.
    let cache = Arc::new(MemoryReplayCache::default());
    ReplayCache::epoch(&*cache, std::time::UNIX_EPOCH);
    let g = Grants::with(|b| b.replay_cache(cache));
    let at = |iat: u64, exp: u64| {
        with(
            with(with(g.claims(), "iat", json!(iat)), "nbf", json!(iat)),
            "exp",
            json!(exp),
        )
    };
    let cases = [
        (at(NOW - 120, NOW - 31), ErrorKind::Expired),
        (at(NOW + 31, NOW + 90), ErrorKind::NotYetValid),
        (
            with(g.claims(), "nbf", json!(NOW + 31)),
            ErrorKind::NotYetValid,
        ),
        (at(NOW, NOW + 3601), ErrorKind::LifetimeTooLong),
        (at(NOW - 331, NOW + 60), ErrorKind::LifetimeTooLong),
        (
            with(g.claims(), "exp", Value::Null),
            ErrorKind::MissingClaim,
        ),
        (
            with(g.claims(), "exp", json!("tomorrow")),
            ErrorKind::InvalidClaim,
        ),
        (at(NOW, NOW - 1), ErrorKind::InvalidClaim),
    ];
    for (claims, kind) in cases {
        let t = g.token(&g.header(), &claims);
        assert_grant_rejected(g.verify(&t), kind, &t);
    }
    // Within the leeway and the bounds.
    for claims in [
        at(NOW - 100, NOW - 29),
        at(NOW + 29, NOW + 90),
        at(NOW, NOW + 3600),
        at(NOW - 329, NOW + 60),
    ] {
        let t = g.token(&g.header(), &claims);
        g.verify(&t).unwrap_or_else(|e| panic!("{claims}: {e}"));
    }

    // A tighter policy applies to grants as it does to client assertions.
    let g = Grants::with(|b| b.policy(Policy::new(ISSUER).max_lifetime(Duration::from_secs(600))));
    let t = g.token(&g.header(), &with(g.claims(), "exp", json!(NOW + 601)));
    assert_grant_rejected(g.verify(&t), ErrorKind::LifetimeTooLong, &t);
}

// ----- replay -----

#[test]
fn a_grant_is_accepted_once() {
    let g = Grants::new();
    let t = g.good();
    g.verify(&t).unwrap();
    assert_grant_rejected(g.verify(&t), ErrorKind::Replayed, &t);
    // The same jti in a different grant of the same issuer is a replay too.
    let claims = with(g.claims(), "jti", json!("grant-jti-0001-Zr4p"));
    let t = g.token(&g.header(), &with(claims, "sub", json!("someone-else")));
    assert_grant_rejected(g.verify(&t), ErrorKind::Replayed, &t);

    for (jti, kind) in [
        (Value::Null, ErrorKind::MissingClaim),
        (json!(""), ErrorKind::InvalidClaim),
        (json!("j".repeat(257)), ErrorKind::InvalidClaim),
        (json!(7), ErrorKind::InvalidClaim),
    ] {
        let t = g.token(&g.header(), &with(g.claims(), "jti", jti));
        assert_grant_rejected(g.verify(&t), kind, &t);
    }
}

#[test]
fn replay_is_scoped_by_issuer_and_apart_from_client_assertions() {
    let cache: Arc<dyn ReplayCache> = Arc::new(MemoryReplayCache::default());
    let g = Grants::with(|b| b.replay_cache(cache.clone()));
    let jti = "shared-jti-3f9b1c";

    // The same jti from two issuers: two grants.
    let from_idp = g.token(&g.header(), &grant_claims(IDP, USER, jti));
    let from_other = sign_json(
        &*g.other_key,
        &grant_header(&*g.other_key),
        &grant_claims(OTHER_IDP, USER, jti),
    );
    g.verify(&from_idp).unwrap();
    g.verify(&from_other).unwrap();

    // The same jti in a client assertion of a client whose id is the IdP's
    // issuer identifier, through the same cache: a third, distinct pair.
    let clients = Arc::new(registry());
    clients.register(IDP, &jwk_set([&*g.idp_key])).unwrap();
    let client_verifier = Verifier::builder(ISSUER, clients)
        .replay_cache(cache.clone())
        .clock(Arc::new(g.clock.clone()))
        .build()
        .unwrap();
    let client_assertion = sign_json(
        &*g.idp_key,
        &json!({"alg": "ES256", "kid": g.idp_key.kid(), "typ": "client-authentication+jwt"}),
        &grant_claims(IDP, IDP, jti),
    );
    client_verifier.verify(&client_assertion).unwrap();

    // Each is still a replay of itself.
    assert_grant_rejected(g.verify(&from_idp), ErrorKind::Replayed, &from_idp);
    assert_grant_rejected(g.verify(&from_other), ErrorKind::Replayed, &from_other);
    let err = client_verifier.verify(&client_assertion).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replayed);
    assert_eq!(token_endpoint_error(&err), "invalid_client");
}

// ----- async, remote issuer keys -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_path_with_the_in_memory_cache() {
    let g = Grants::new();
    let t = g.good();
    let verifier = Arc::new(g.verifier);
    // The future is Send: it runs on another worker.
    let v = {
        let (verifier, t) = (verifier.clone(), t.clone());
        tokio::spawn(async move { verifier.verify_async(&t).await })
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!((v.issuer(), v.subject()), (IDP, USER));
    let err = verifier.verify_async(&t).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replayed);
    assert_eq!(token_endpoint_error(&err), "invalid_grant");
    // A grant from the second issuer, and a rejection, on the async path.
    let other = sign_json(
        &*g.other_key,
        &grant_header(&*g.other_key),
        &grant_claims(OTHER_IDP, USER, "async-other-1"),
    );
    assert_eq!(
        verifier.verify_async(&other).await.unwrap().issuer(),
        OTHER_IDP
    );
    let bad = sign_json(
        &*g.idp_key,
        &grant_header(&*g.idp_key),
        &grant_claims("https://evil.example", USER, "async-evil-1"),
    );
    assert_grant_rejected(
        verifier.verify_async(&bad).await,
        ErrorKind::UnknownIssuer,
        &bad,
    );
}

/// Serves an issuer's JWK Set, counting fetches and recording what it was
/// asked for.
#[derive(Debug)]
struct IssuerJwks {
    jwks: Mutex<String>,
    fetches: AtomicUsize,
    asked: Mutex<Vec<String>>,
}

impl IssuerJwks {
    fn serving(keys: &[&PrivateKey]) -> Arc<Self> {
        Arc::new(Self {
            jwks: Mutex::new(jwk_set(keys.iter().copied()).to_json()),
            fetches: AtomicUsize::new(0),
            asked: Mutex::new(Vec::new()),
        })
    }

    fn serve(&self, keys: &[&PrivateKey]) {
        *self.jwks.lock().unwrap() = jwk_set(keys.iter().copied()).to_json();
    }
}

impl JwksFetcher for IssuerJwks {
    fn fetch<'a>(&'a self, issuer: &'a str) -> FetchFuture<'a> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.asked.lock().unwrap().push(issuer.to_owned());
        let body = self.jwks.lock().unwrap().clone().into_bytes();
        Box::pin(async move { Ok(body) })
    }
}

#[tokio::test]
async fn remote_issuer_keys_follow_a_rotation_with_one_refresh() {
    let g = Grants::new();
    let old = key(KeyType::P256);
    let new = key(KeyType::P256);
    let fetcher = IssuerJwks::serving(&[&old]);
    g.issuers
        .register_remote(IDP, fetcher.clone(), RemoteJwksConfig::default())
        .unwrap();
    let grant_by =
        |k: &PrivateKey, jti: &str| sign_json(k, &grant_header(k), &grant_claims(IDP, USER, jti));

    // The sync path never fetches: nothing cached yet.
    let t = grant_by(&old, "remote-1");
    let err = g.verify(&t).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeysUnavailable);
    assert_eq!(err.usage(), Some(Usage::AuthorizationGrant));
    // A server condition that passes: 503, never invalid_grant.
    assert_eq!(token_endpoint_error(&err), "temporarily_unavailable");
    assert_eq!(err.token_response().status(), 503);
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 0);

    // The async path fetches, asking for the issuer.
    let v = g.verifier.verify_async(&t).await.unwrap();
    assert_eq!((v.issuer(), v.subject(), v.kid()), (IDP, USER, &*old.kid()));
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 1);
    assert_eq!(*fetcher.asked.lock().unwrap(), [IDP]);
    assert_eq!(g.issuers.remote_fetch_count(IDP), Some(1));
    assert_eq!(g.issuers.remote_fetch_count(OTHER_IDP), None);

    // The issuer rotates; past the cooldown, an unknown kid triggers
    // exactly one refresh.
    fetcher.serve(&[&old, &new]);
    let t = grant_by(&new, "remote-2a");
    assert_grant_rejected(g.verifier.verify_async(&t).await, ErrorKind::UnknownKey, &t);
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 1, "cooling down");
    g.clock
        .advance(RemoteJwksConfig::default().cooldown + Duration::from_secs(1));
    let t = grant_by(&new, "remote-2");
    assert_eq!(g.verifier.verify_async(&t).await.unwrap().kid(), new.kid());
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);

    // Another unknown kid within the cooldown: no fetch, unknown_key.
    let stranger = key(KeyType::P256);
    let t = grant_by(&stranger, "remote-3");
    assert_grant_rejected(g.verifier.verify_async(&t).await, ErrorKind::UnknownKey, &t);
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);

    // The cached set now serves the sync path too.
    g.verify(&grant_by(&new, "remote-4")).unwrap();
    g.verify(&grant_by(&old, "remote-5")).unwrap();
    assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);
}

// ----- the registry, the builder, error mapping, redaction -----

#[test]
fn trusted_issuers_reuse_the_key_registration_rules() {
    let issuers = TrustedIssuers::with_backend(backend());
    assert!(issuers.is_empty());
    let k = key(KeyType::P256);
    let set = jwk_set([&*k]);
    assert_eq!(
        issuers.register("", &set).unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        issuers
            .register(IDP, &jwk_set(std::iter::empty::<&dyn KeySource>()))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
    issuers
        .register_jwks_json(IDP, &set.to_json())
        .expect("JWK Set JSON");
    issuers
        .register_pems(
            OTHER_IDP,
            [
                include_str!("data/p256.spki.pem"),
                include_str!("data/rsa2048.spki.pem"),
            ],
        )
        .expect("PEM keys");
    let weak = issuers
        .register_pems(
            "https://weak.example",
            [include_str!("data/rsa1024.spki.pem")],
        )
        .unwrap_err();
    assert_eq!(weak.kind(), ErrorKind::WeakKey);
    assert_eq!(issuers.len(), 2);
    assert!(issuers.contains(IDP) && issuers.contains(OTHER_IDP));
    assert!(!issuers.contains("https://weak.example"));
    assert!(issuers.remove(OTHER_IDP));
    assert!(!issuers.remove(OTHER_IDP));
    assert_eq!(issuers.len(), 1);
    assert_eq!(issuers.backend(), backend());
    let err = issuers
        .register_remote("", IssuerJwks::serving(&[&k]), RemoteJwksConfig::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    let debug = format!("{issuers:?}");
    assert!(debug.contains("issuers: 1"), "{debug}");
    assert!(
        !debug.contains(IDP),
        "no issuer names or keys in Debug: {debug}"
    );
}

#[test]
fn the_builder_validates_the_policy() {
    let issuers = Arc::new(TrustedIssuers::new());
    let err = GrantVerifier::builder("", issuers.clone())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    let err = GrantVerifier::builder(ISSUER, issuers.clone())
        .policy(Policy::new(ISSUER).leeway(Duration::from_secs(3600)))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    let v = GrantVerifier::builder(ISSUER, issuers.clone())
        .build()
        .unwrap();
    assert_eq!(v.policy().issuer(), ISSUER);
    assert!(Arc::ptr_eq(v.issuers(), &issuers));
}

#[test]
fn every_grant_error_maps_to_invalid_grant_and_client_errors_to_invalid_client() {
    let g = Grants::new();
    let t = g.token(&with(g.header(), "typ", json!("at+jwt")), &g.claims());
    let grant_err = g.verify(&t).unwrap_err();
    assert_eq!(grant_err.usage(), Some(Usage::AuthorizationGrant));
    assert_eq!(token_endpoint_error(&grant_err), "invalid_grant");
    assert!(format!("{grant_err:?}").contains("AuthorizationGrant"));
    // The Display stays the client-safe code and description.
    assert_eq!(
        grant_err.to_string(),
        "type_not_allowed: the assertion type is not accepted"
    );

    let client_verifier = Verifier::builder(ISSUER, Arc::new(ClientRegistry::new()))
        .build()
        .unwrap();
    let client_err = client_verifier.verify(&g.good()).unwrap_err();
    assert_eq!(client_err.usage(), Some(Usage::ClientAuthentication));
    assert_eq!(token_endpoint_error(&client_err), "invalid_client");
    let client_err = client_verifier
        .dangerous()
        .verify_without_replay_check("x.y.z")
        .unwrap_err();
    assert_eq!(client_err.usage(), Some(Usage::ClientAuthentication));

    // Errors that reject no assertion have no usage.
    let key_err = PrivateKey::from_pem("not a key").unwrap_err();
    assert_eq!(key_err.usage(), None);
    assert_eq!(
        ErrorKind::UnknownIssuer.description(),
        "the assertion issuer is not trusted"
    );
    assert_eq!(ErrorKind::UnknownIssuer.code(), "unknown_issuer");
}

#[test]
fn debug_and_display_leak_no_token_content() {
    let g = Grants::new();
    let good = g.good();
    let verified = g.verify(&good).unwrap();
    let signature = good.rsplit('.').next().unwrap();
    for text in [format!("{verified:?}"), format!("{:?}", g.verifier)] {
        assert!(!text.contains(&good) && !text.contains(signature), "{text}");
    }
    let verifier_debug = format!("{:?}", g.verifier);
    let jwk = g.idp_key.public_jwk().to_json();
    let x = jwk
        .split("\"x\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        !verifier_debug.contains(x),
        "no key material: {verifier_debug}"
    );

    // Rejections: neither the token nor any of its claims in the texts
    // (`assert_grant_rejected` checks each error against its token).
    let secret_sub = "alice.secret-subject@partner";
    let rejected = [
        (
            with(
                grant_claims(IDP, secret_sub, &g.jti()),
                "aud",
                json!("https://x.example"),
            ),
            ErrorKind::AudienceMismatch,
        ),
        (
            with(
                grant_claims(IDP, secret_sub, &g.jti()),
                "exp",
                json!(NOW - 100),
            ),
            ErrorKind::Expired,
        ),
        (
            grant_claims(
                "https://unknown-secret-issuer.example",
                secret_sub,
                &g.jti(),
            ),
            ErrorKind::UnknownIssuer,
        ),
    ];
    for (claims, kind) in rejected {
        let t = g.token(&g.header(), &claims);
        assert_grant_rejected(g.verify(&t), kind, &t);
    }
    assert_grant_rejected(g.verify(&good), ErrorKind::Replayed, &good);
}

// ----- opt-ins for grants from real issuers (Google service accounts) -----

/// `claims` without the member `name`.
fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().expect("claims object").remove(name);
    claims
}

#[test]
fn a_grant_without_jti_is_refused_unless_opted_in_and_keyed_by_its_signing_input() {
    let strict = Grants::new();
    let t = strict.token(&strict.header(), &without(strict.claims(), "jti"));
    assert_grant_rejected(strict.verify(&t), ErrorKind::MissingClaim, &t);

    let g = Grants::with(GrantVerifierBuilder::accept_missing_jti);
    let t = g.token(&g.header(), &without(g.claims(), "jti"));
    let verified = g.verify(&t).expect("accepted without jti");
    // The replay key: SHA-256 of `header.payload`, never of the token bytes.
    use sha2::Digest as _;
    let input = &t[..t.rfind('.').unwrap()];
    let digest = sha2::Sha256::digest(input.as_bytes());
    assert_eq!(verified.jti(), format!("sha256:{}", b64(&digest)));
    assert_grant_rejected(g.verify(&t), ErrorKind::Replayed, &t);
    // A grant that has a jti is checked as always.
    let with_jti = g.good();
    assert!(g.verify(&with_jti).unwrap().jti().starts_with("grant-jti-"));
    let empty = g.token(&g.header(), &with(g.claims(), "jti", json!("")));
    assert_grant_rejected(g.verify(&empty), ErrorKind::InvalidClaim, &empty);
}

#[test]
fn a_grant_without_sub_means_the_issuer_only_as_a_danger_opt_in() {
    let strict = Grants::with(GrantVerifierBuilder::accept_missing_jti);
    let t = strict.token(&strict.header(), &without(strict.claims(), "sub"));
    assert_grant_rejected(strict.verify(&t), ErrorKind::MissingClaim, &t);

    let g = Grants::with(|b| b.dangerous().missing_subject_is_issuer());
    let t = g.token(&g.header(), &without(g.claims(), "sub"));
    let verified = g.verify(&t).expect("accepted without sub");
    assert_eq!(verified.subject(), IDP);
    assert_eq!(verified.issuer(), IDP);
    // A present sub is checked as always.
    let empty = g.token(&g.header(), &with(g.claims(), "sub", json!("")));
    assert_grant_rejected(g.verify(&empty), ErrorKind::InvalidClaim, &empty);
    // Google's shape: neither jti nor sub, both opt-ins.
    let google = Grants::with(|b| {
        b.accept_missing_jti()
            .dangerous()
            .missing_subject_is_issuer()
    });
    let t = google.token(
        &google.header(),
        &without(without(google.claims(), "sub"), "jti"),
    );
    assert_eq!(google.verify(&t).unwrap().subject(), IDP);
    assert_grant_rejected(google.verify(&t), ErrorKind::Replayed, &t);
}
